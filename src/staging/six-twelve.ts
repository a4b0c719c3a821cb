import type { ClinicalField } from '../clinical/schema.js';
import { checkInputs } from './inputs.js';

/**
 * Six-and-twelve score (Wang Q et al., J Hepatol 2019; clinical-model.md §5) for TACE candidates:
 * largest diameter (cm) + number of tumours; classes ≤ 6, > 6 and ≤ 12, > 12.
 */
export const SIX_TWELVE_INPUTS = ['tumour_diameter_cm', 'tumour_count'] as const;
export type SixTwelveClass = '<=6' | '>6-12' | '>12';

export interface SixTwelveResult {
  score: number;
  class: SixTwelveClass;
}

export function sixTwelve(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): SixTwelveResult {
  const p = checkInputs(input, SIX_TWELVE_INPUTS, 'six-and-twelve', where);
  const score = p.tumour_diameter_cm + p.tumour_count;
  // Compared at 9 decimals: 4.1 cm + 2 tumours is 6.1 whatever the binary rounding of 4.1.
  const s = Math.round(score * 1e9) / 1e9;
  return { score, class: s <= 6 ? '<=6' : s <= 12 ? '>6-12' : '>12' };
}
