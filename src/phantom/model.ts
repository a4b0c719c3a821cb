/**
 * The numbers of the synthetic-cohort generative model, clinical-model.md §6, in one place. Sources and the
 * calibration they were tuned to are in that note and in docs/cohort.md; the numpy reference generator
 * (clinical_reference_generator.py) uses the same values.
 */
export const COHORT_MODEL = {
  /** Proliferative prevalence π by cohort (§6.1). */
  prevalence: { resection: 0.37, iat: 0.45 },
  /** Pathology label flip probability of the resection cohort (§6.6). */
  labelNoise: 0.05,
  burden: {
    resection: { logMedianCm: Math.log(4.5), pShift: 0.25, sd: 0.5, minCm: 0.8, maxCm: 20, multipleLogit: -1.7, multipleP: 0.4 },
    iat: { logMedianCm: Math.log(6.6), pShift: 0.25, sd: 0.55, minCm: 1, maxCm: 22, multipleLogit: 0.1, multipleP: 0.4 },
    /** Multiple tumours (iat): 2-3 with this probability, else min(4 + Poisson(2), 15). */
    twoOrThree: 0.45,
    fourPlusPoissonMean: 2,
    maxCount: 15,
    /** Liver volume behind the occupancy fraction N·(D/2)³/1500 cm³, capped at 0.9 (§6.2). */
    liverVolumeCm3: 1500,
    maxOccupancy: 0.9,
  },
  /** PVTT ~ Bern(expit(a + b·P + c·ln(D/6.6))); Vp1, Vp2, Vp3, Vp4 probabilities (Vp1-2 0.20 split evenly). */
  pvtt: { intercept: -1.45, p: 0.9, logSize: 0.9, vpProbabilities: [0.1, 0.1, 0.45, 0.35] },
  /** EHS ~ Bern(expit(a + b·P + c·PVTT)); a fraction of EHS is regional nodes only (§6.7). */
  ehs: { intercept: -2.5, p: 0.5, pvtt: 0.8, nodesOnly: 0.3 },
  demographics: { ageMean: 54, ageSd: 11, ageMin: 18, ageMax: 90, male: 0.87, hbv: 0.82 },
  /** Latent liver dysfunction L ~ N(0, 1) and what it drives (§6.2). Albumin residual SD is √(25 − 3.8²). */
  liver: {
    albumin: { mean: 39.5, l: -3.8, sd: Math.sqrt(25 - 3.8 * 3.8), min: 20, max: 55 },
    bilirubin: { logMean: Math.log(14), l: 0.28, sd: 0.29 },
    inr: { mean: 1.08, l: 0.05, sd: 0.06 },
    ascites: { intercept: -2.3, l: 1.4, mild: 0.85 },
    encephalopathy: { intercept: -5.5, l: 1.2 },
  },
  /** ECOG 0 with probability 0.80; otherwise 1 with probability 0.90, else 2 (0.80 / 0.18 / 0.02). */
  ecog: { zero: 0.8, oneGivenNotZero: 0.9 },
  /** log10 AFP = a + b·P + c·log10 D + d·PVTT + N(0, sd). */
  afp: { resection: 0.6, iat: 0.95, p: 0.45, log10Size: 1.6, pvtt: 0.3, sd: 1.15 },
  /** HAIC ~ Bern(expit(a + b·1[D>7] + c·PVTT + d·1[N>3])) (§6.3). */
  treatment: { intercept: -1.2, large: 0.9, pvtt: 1.0, manyTumours: 0.3 },
  /** Prognostic linear predictor η (§6.4). */
  eta: { age: 0.05, p: 0.65, burden: 0.075, pvtt: 1.0, ehs: 0.6, albi: 1.0, afp400: 0.4, ecog: 0.3 },
  /** Log-HR of HAIC vs TACE: g0 + gB·B + gPB·P·B + gPnotB·P·(1 − B) (§6.4). */
  treatmentEffect: { g0: 0.14, gB: -0.18, gPB: -0.8, gPnotB: -0.14 },
  /** Weibull PH baseline: S0(t) = exp(−(t/scale)^shape), months. */
  weibull: { shape: 1.2, scaleMonths: 56 },
  /** C = min(12 + 108·U, Exp(rate)) months (§6.5). */
  censoring: { minFollowUpMonths: 12, accrualMonths: 108, dropoutRatePerMonth: 0.0044 },
} as const;

export function expit(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
