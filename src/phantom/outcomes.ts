import type { Binary, Treatment } from '../clinical/schema.js';
import type { Rng } from '../util/rng.js';
import { COHORT_MODEL as M, expit } from './model.js';
import { exponential } from './random.js';

/**
 * Treatment assignment and overall survival, clinical-model.md §6.3-6.5: confounded HAIC allocation, Weibull PH
 * survival with a treatment effect that depends on P and on B (tumour > 7 cm or PVTT), counterfactual times under
 * both treatments from one common uniform draw, and administrative plus drop-out censoring.
 */

export interface PrognosticInputs {
  age: number;
  P: 0 | 1;
  diameterCm: number;
  count: number;
  pvtt: Binary;
  ehs: Binary;
  albiScore: number;
  afpNgMl: number;
  ecog: number;
}

/** η of §6.4. */
export function prognosticIndex(v: PrognosticInputs): number {
  const b = M.eta;
  return (
    (b.age * (v.age - 55)) / 10 +
    b.p * v.P +
    b.burden * (v.diameterCm + Math.min(v.count, 10) - 8) +
    b.pvtt * v.pvtt +
    b.ehs * v.ehs +
    b.albi * (v.albiScore + 2.6) +
    b.afp400 * Number(v.afpNgMl > 400) +
    b.ecog * Number(v.ecog >= 1)
  );
}

/** B of §6.3: the large-or-invasive tumours where HAIC helps. */
export function highBurden(diameterCm: number, pvtt: Binary): boolean {
  return diameterCm > 7 || pvtt === 1;
}

/** Log-HR of HAIC vs TACE, τ_trt of §6.4. */
export function treatmentLogHazardRatio(P: 0 | 1, B: boolean): number {
  const g = M.treatmentEffect;
  const b = Number(B);
  return g.g0 + g.gB * b + g.gPB * P * b + g.gPnotB * P * (1 - b);
}

/** §6.3: HAIC ~ Bern(expit(−1.2 + 0.9·1[D>7] + 1.0·PVTT + 0.3·1[N>3])). */
export function assignTreatment(rng: Rng, diameterCm: number, pvtt: Binary, count: number): Treatment {
  const t = M.treatment;
  const logit = t.intercept + t.large * Number(diameterCm > 7) + t.pvtt * pvtt + t.manyTumours * Number(count > 3);
  return rng.bernoulli(expit(logit)) ? 'HAIC' : 'TACE';
}

export interface SurvivalDraw {
  tTace: number;
  tHaic: number;
  censorMonths: number;
}

/**
 * T = λ0·(−ln U·e^{−lp})^{1/k} with one U for both arms, so t_haic − t_tace is the treatment effect alone.
 * `1 − U` keeps −ln finite; it is still uniform.
 */
export function drawSurvival(rng: Rng, eta: number, logHr: number): SurvivalDraw {
  const { shape, scaleMonths } = M.weibull;
  const e = -Math.log(1 - rng.uniform());
  const time = (lp: number) => scaleMonths * (e * Math.exp(-lp)) ** (1 / shape);
  const c = M.censoring;
  const administrative = c.minFollowUpMonths + c.accrualMonths * rng.uniform();
  const dropout = exponential(rng, c.dropoutRatePerMonth);
  return { tTace: time(eta), tHaic: time(eta + logHr), censorMonths: Math.min(administrative, dropout) };
}
