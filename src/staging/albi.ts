import type { ClinicalField } from '../clinical/schema.js';
import { checkInputs } from './inputs.js';

/**
 * ALBI score and grade (Johnson, J Clin Oncol 2015; clinical-model.md §5):
 * score = 0.66·log10(bilirubin µmol/L) − 0.085·albumin g/L (some implementations write −0.0852; we follow §5).
 * Grade 1 ≤ −2.60 < grade 2 ≤ −1.39 < grade 3.
 */
export const ALBI_INPUTS = ['bilirubin_umol_l', 'albumin_g_l'] as const;
export type AlbiGrade = 1 | 2 | 3;

export interface AlbiResult {
  score: number;
  grade: AlbiGrade;
}

export function albi(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): AlbiResult {
  const p = checkInputs(input, ALBI_INPUTS, 'ALBI', where);
  const score = 0.66 * Math.log10(p.bilirubin_umol_l) - 0.085 * p.albumin_g_l;
  return { score, grade: albiGrade(score) };
}

/** The grade of a score; compared at 9 decimals so that a score that is −2.60 on paper is grade 1. */
export function albiGrade(score: number): AlbiGrade {
  const s = Math.round(score * 1e9) / 1e9;
  return s <= -2.6 ? 1 : s <= -1.39 ? 2 : 3;
}
