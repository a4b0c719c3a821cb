import type { ClinicalField } from '../clinical/schema.js';
import { checkInputs, distantMetastasis, majorPortalInvasion, optionalInput } from './inputs.js';

/**
 * AJCC/UICC TNM 8th edition for HCC (clinical-model.md §5).
 * T1a solitary ≤ 2 cm; T1b solitary > 2 cm without vascular invasion; T2 solitary > 2 cm with vascular invasion,
 * or multiple none > 5 cm; T3 multiple, at least one > 5 cm; T4 a major branch of the portal (or hepatic) vein.
 * Vascular invasion comes from `pvtt` and `vp_grade`: Vp3-Vp4 (first-order branch, trunk) is a major branch,
 * so T4; Vp1-Vp2 is invasion of a smaller branch, which makes a solitary tumour > 2 cm T2. PVTT with an unknown
 * Vp grade is taken as T4 (clinical-model.md §6.7). Invasion of adjacent organs and hepatic-vein thrombus are not
 * schema columns. N1 = `nodes`; M1 = extrahepatic spread beyond regional nodes (`ehs` = 1, `nodes` = 0).
 */
export const TNM_INPUTS = ['tumour_count', 'tumour_diameter_cm', 'pvtt', 'ehs', 'nodes'] as const;
export type TCategory = 'T1a' | 'T1b' | 'T2' | 'T3' | 'T4';
export type TnmStage = 'IA' | 'IB' | 'II' | 'IIIA' | 'IIIB' | 'IVA' | 'IVB';

export interface TnmResult {
  t: TCategory;
  n: 'N0' | 'N1';
  m: 'M0' | 'M1';
  stage: TnmStage;
}

export function tnm8(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): TnmResult {
  const p = checkInputs(input, TNM_INPUTS, 'TNM 8', where);
  const vp = optionalInput(input, 'vp_grade', 'TNM 8', where);
  const major = majorPortalInvasion({ pvtt: p.pvtt, vp_grade: vp });
  let t: TCategory;
  if (major) t = 'T4';
  else if (p.tumour_count === 1) t = p.tumour_diameter_cm <= 2 ? 'T1a' : p.pvtt === 1 ? 'T2' : 'T1b';
  else t = p.tumour_diameter_cm <= 5 ? 'T2' : 'T3';
  const n = p.nodes === 1 ? 'N1' : 'N0';
  const m = distantMetastasis(p) ? 'M1' : 'M0';
  const byT: Record<TCategory, TnmStage> = { T1a: 'IA', T1b: 'IB', T2: 'II', T3: 'IIIA', T4: 'IIIB' };
  const stage: TnmStage = m === 'M1' ? 'IVB' : n === 'N1' ? 'IVA' : byT[t];
  return { t, n, m, stage };
}
