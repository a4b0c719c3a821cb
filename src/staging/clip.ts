import type { ClinicalField } from '../clinical/schema.js';
import { CHILD_PUGH_INPUTS, childPugh, childPughClassPoints } from './child-pugh.js';
import { checkInputs } from './inputs.js';

/**
 * CLIP score, 0-6 (CLIP investigators, Hepatology 1998; clinical-model.md §5): Child-Pugh A/B/C 0/1/2;
 * morphology uninodular and ≤ 50% 0, multinodular and ≤ 50% 1, massive or > 50% 2 (extension is the liver
 * occupancy fraction: "massive" has no column of its own); AFP ≥ 400 ng/mL 1; portal vein thrombosis 1.
 */
export const CLIP_INPUTS = [...CHILD_PUGH_INPUTS, 'tumour_count', 'liver_occupancy_fraction', 'afp_ng_ml', 'pvtt'] as const;

export function clip(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): number {
  const p = checkInputs(input, CLIP_INPUTS, 'CLIP', where);
  const morphology = p.liver_occupancy_fraction > 0.5 ? 2 : p.tumour_count === 1 ? 0 : 1;
  return childPughClassPoints(childPugh(p, where).class) + morphology + Number(p.afp_ng_ml >= 400) + p.pvtt;
}
