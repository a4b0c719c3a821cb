import type { ClinicalField, ClinicalRecord } from '../clinical/schema.js';
import { albuminGLToGDl, bilirubinUmolLToMgDl } from '../clinical/units.js';
import { checkInputs } from './inputs.js';

/**
 * Child-Pugh score and class (Pugh 1973; clinical-model.md §5). The rule is written in mg/dL and g/dL; bilirubin
 * and albumin are converted explicitly from the schema's µmol/L and g/L. Boundaries as §5 fixes them:
 * 2 ≤ bilirubin ≤ 3 mg/dL, 2.8 ≤ albumin ≤ 3.5 g/dL and 1.7 ≤ INR ≤ 2.3 score 2 points.
 */
export const CHILD_PUGH_INPUTS = ['bilirubin_umol_l', 'albumin_g_l', 'inr', 'ascites', 'encephalopathy'] as const;
export type ChildPughInput = Pick<ClinicalRecord, (typeof CHILD_PUGH_INPUTS)[number]>;
export type ChildPughClass = 'A' | 'B' | 'C';

export interface ChildPughResult {
  score: number;
  class: ChildPughClass;
  points: { bilirubin: number; albumin: number; inr: number; ascites: number; encephalopathy: number };
}

export function childPugh(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): ChildPughResult {
  const p = checkInputs(input, CHILD_PUGH_INPUTS, 'Child-Pugh', where);
  const bilirubinMgDl = bilirubinUmolLToMgDl(p.bilirubin_umol_l);
  const albuminGDl = albuminGLToGDl(p.albumin_g_l);
  const points = {
    bilirubin: bilirubinMgDl < 2 ? 1 : bilirubinMgDl <= 3 ? 2 : 3,
    albumin: albuminGDl > 3.5 ? 1 : albuminGDl >= 2.8 ? 2 : 3,
    inr: p.inr < 1.7 ? 1 : p.inr <= 2.3 ? 2 : 3,
    ascites: p.ascites === 'none' ? 1 : p.ascites === 'mild' ? 2 : 3,
    encephalopathy: p.encephalopathy === 'none' ? 1 : p.encephalopathy === 'grade1_2' ? 2 : 3,
  };
  const score = points.bilirubin + points.albumin + points.inr + points.ascites + points.encephalopathy;
  return { score, class: childPughClass(score), points };
}

/** Class A = 5-6, B = 7-9, C = 10-15 points. */
export function childPughClass(score: number): ChildPughClass {
  return score <= 6 ? 'A' : score <= 9 ? 'B' : 'C';
}

/** Points that CLIP and JIS give for the Child-Pugh class (A 0, B 1, C 2). */
export function childPughClassPoints(cls: ChildPughClass): number {
  return cls === 'A' ? 0 : cls === 'B' ? 1 : 2;
}
