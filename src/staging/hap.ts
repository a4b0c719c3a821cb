import type { ClinicalField } from '../clinical/schema.js';
import { checkInputs } from './inputs.js';

/**
 * HAP score (Kadalayil, Ann Oncol 2013) and mHAP-II (Park, Liver Int 2016; clinical-model.md §5), for patients
 * treated with TACE. HAP: one point each for albumin < 36 g/L, AFP > 400 ng/mL, bilirubin > 17 µmol/L, largest
 * tumour > 7 cm. mHAP-II adds one point for ≥ 2 tumours, with HAP's cut-offs (as validation studies tabulate it;
 * Park's abstract writes bilirubin > 0.9 mg/dL, 15.4 µmol/L). Classes: A 0, B 1, C 2, D ≥ 3 points.
 */
export const HAP_INPUTS = ['albumin_g_l', 'afp_ng_ml', 'bilirubin_umol_l', 'tumour_diameter_cm'] as const;
export const MHAP2_INPUTS = [...HAP_INPUTS, 'tumour_count'] as const;
export type HapClass = 'A' | 'B' | 'C' | 'D';

export interface HapResult {
  points: number;
  class: HapClass;
}

function hapPoints(p: { albumin_g_l: number; afp_ng_ml: number; bilirubin_umol_l: number; tumour_diameter_cm: number }): number {
  return Number(p.albumin_g_l < 36) + Number(p.afp_ng_ml > 400) + Number(p.bilirubin_umol_l > 17) + Number(p.tumour_diameter_cm > 7);
}

function hapClass(points: number): HapClass {
  return (['A', 'B', 'C'] as const)[points] ?? 'D';
}

export function hap(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): HapResult {
  const points = hapPoints(checkInputs(input, HAP_INPUTS, 'HAP', where));
  return { points, class: hapClass(points) };
}

export function mhap2(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): HapResult {
  const p = checkInputs(input, MHAP2_INPUTS, 'mHAP-II', where);
  const points = hapPoints(p) + Number(p.tumour_count >= 2);
  return { points, class: hapClass(points) };
}
