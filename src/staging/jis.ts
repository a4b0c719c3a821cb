import type { ClinicalField } from '../clinical/schema.js';
import { CHILD_PUGH_INPUTS, childPugh, childPughClassPoints } from './child-pugh.js';
import { checkInputs, distantMetastasis } from './inputs.js';

/**
 * Japan Integrated Staging score, 0-5 (Kudo 2003; clinical-model.md §5): Child-Pugh points (A 0, B 1, C 2) plus
 * LCSGJ stage points (I 0, II 1, III 2, IV 3). LCSGJ T counts how many of three factors hold: single tumour,
 * ≤ 2 cm (the LCSGJ text's ≤), no vascular invasion (any PVTT counts); T1 all three ... T4 none.
 * LCSGJ stage: I T1N0M0, II T2N0M0, III T3N0M0, IVA T4N0M0 or N1, IVB M1.
 */
export const JIS_INPUTS = [...CHILD_PUGH_INPUTS, 'tumour_count', 'tumour_diameter_cm', 'pvtt', 'ehs', 'nodes'] as const;
export type LcsgjStage = 'I' | 'II' | 'III' | 'IVA' | 'IVB';

export interface JisResult {
  score: number;
  lcsgj: LcsgjStage;
}

export function jis(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): JisResult {
  const p = checkInputs(input, JIS_INPUTS, 'JIS', where);
  const factors = Number(p.tumour_count === 1) + Number(p.tumour_diameter_cm <= 2) + Number(p.pvtt === 0);
  const t = 4 - factors;
  const lcsgj: LcsgjStage = distantMetastasis(p) ? 'IVB' : p.nodes === 1 || t === 4 ? 'IVA' : (['I', 'II', 'III'] as const)[t - 1]!;
  const stagePoints = { I: 0, II: 1, III: 2, IVA: 3, IVB: 3 }[lcsgj];
  return { score: childPughClassPoints(childPugh(p, where).class) + stagePoints, lcsgj };
}
