import type { ClinicalField } from '../clinical/schema.js';
import { albuminGLToGDl, bilirubinUmolLToMgDl } from '../clinical/units.js';
import { checkInputs } from './inputs.js';

/**
 * Okuda stage (Okuda 1985; clinical-model.md §5): one point each for tumour > 50% of the liver, clinically
 * detectable ascites (mild or more), albumin < 3 g/dL and bilirubin > 3 mg/dL. I = 0, II = 1-2, III = 3-4 points.
 */
export const OKUDA_INPUTS = ['liver_occupancy_fraction', 'ascites', 'albumin_g_l', 'bilirubin_umol_l'] as const;
export type OkudaStage = 'I' | 'II' | 'III';

export interface OkudaResult {
  points: number;
  stage: OkudaStage;
}

export function okuda(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): OkudaResult {
  const p = checkInputs(input, OKUDA_INPUTS, 'Okuda', where);
  const points =
    Number(p.liver_occupancy_fraction > 0.5) +
    Number(p.ascites !== 'none') +
    Number(albuminGLToGDl(p.albumin_g_l) < 3) +
    Number(bilirubinUmolLToMgDl(p.bilirubin_umol_l) > 3);
  return { points, stage: points === 0 ? 'I' : points <= 2 ? 'II' : 'III' };
}
