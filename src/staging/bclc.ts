import type { ClinicalField } from '../clinical/schema.js';
import { CHILD_PUGH_INPUTS, childPugh } from './child-pugh.js';
import { checkInputs } from './inputs.js';

/**
 * BCLC 2022 (Reig et al., J Hepatol 2022; clinical-model.md §5), evaluated in this order:
 * D: end-stage liver function (Child-Pugh C as proxy) or ECOG 3-4;
 * C: portal invasion, extrahepatic spread (N1 or M1) or ECOG 1-2;
 * 0: single nodule ≤ 2 cm, ECOG 0;
 * A: single nodule, or 2-3 nodules all ≤ 3 cm (the largest ≤ 3 cm), ECOG 0;
 * B: everything else (multinodular beyond A, preserved liver function, ECOG 0).
 * The 2022 B1-B3 sub-groups need judgements (transplant criteria, diffuse infiltration) no column records.
 */
export const BCLC_INPUTS = [...CHILD_PUGH_INPUTS, 'ecog', 'pvtt', 'ehs', 'tumour_count', 'tumour_diameter_cm'] as const;
export type BclcStage = '0' | 'A' | 'B' | 'C' | 'D';

export function bclc2022(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): BclcStage {
  const p = checkInputs(input, BCLC_INPUTS, 'BCLC 2022', where);
  if (childPugh(p, where).class === 'C' || p.ecog >= 3) return 'D';
  if (p.pvtt === 1 || p.ehs === 1 || p.ecog >= 1) return 'C';
  if (p.tumour_count === 1 && p.tumour_diameter_cm <= 2) return '0';
  if (p.tumour_count === 1 || (p.tumour_count <= 3 && p.tumour_diameter_cm <= 3)) return 'A';
  return 'B';
}
