import type { PatientRecord } from '../patient.js';

/**
 * A hand-set patient record for looking at the renderer, benchmarking it and testing it without the cohort
 * generator: an iat patient with one 6 cm tumour and a neutral phenotype (all x = 0). Overrides replace fields;
 * `x`, `tumourDiametersCm`, `pvtt`/`vpGrade` and `liverDysfunction` are the ones the renderer reads.
 */
export interface ExampleOverrides {
  seed?: number;
  index?: number;
  x?: number[];
  tumourDiametersCm?: number[];
  pvtt?: boolean;
  vpGrade?: number;
  liverDysfunction?: number;
  ascites?: 'none' | 'mild' | 'moderate_severe';
}

export function examplePatient(o: ExampleOverrides = {}): PatientRecord {
  const diameters = o.tumourDiametersCm ?? [6];
  const id = `example-${o.seed ?? 1}-${o.index ?? 0}`;
  return {
    id,
    cohort: 'iat',
    index: o.index ?? 0,
    seed: o.seed ?? 1,
    clinical: {
      id,
      age_years: 55,
      sex: 'M',
      hbv: 1,
      afp_ng_ml: 100,
      bilirubin_umol_l: 14,
      albumin_g_l: 39,
      inr: 1.08,
      ascites: o.ascites ?? 'none',
      encephalopathy: 'none',
      ecog: 0,
      tumour_count: diameters.length,
      tumour_diameter_cm: diameters[0] ?? 0,
      liver_occupancy_fraction: Math.min(0.9, diameters.reduce((s, d) => s + (d / 2) ** 3, 0) / 1500),
      pvtt: o.pvtt ? 1 : 0,
      vp_grade: o.pvtt ? (o.vpGrade ?? 3) : 0,
      ehs: 0,
      nodes: 0,
      treatment: 'TACE',
    },
    tumourDiametersCm: diameters,
    treatment: 'TACE',
    truth: {
      P: 0,
      u: 0,
      x: o.x ?? [0, 0, 0, 0, 0, 0, 0, 0],
      eta: 0,
      liverDysfunction: o.liverDysfunction ?? 0,
      tTace: null,
      tHaic: null,
    },
  };
}
