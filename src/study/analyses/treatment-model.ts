import { iptwWeights } from '../../survival/iptw.js';
import { fitLogistic, predictLogistic } from '../../survival/logistic.js';
import { HccError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { baselineCumhaz, fitCoxModel, stepAt, type CoxModel } from './cox-model.js';

/**
 * The treatment model: an IPTW-weighted Cox model with treatment (HAIC = 1), the nomogram's linear predictor,
 * and their interaction. It predicts each patient's survival under TACE and under HAIC; the interaction term
 * is what lets the benefit of HAIC grow with risk, as the paper found.
 *
 * Decision rule (documented in docs/study.md): recommend HAIC when the bootstrap 95% CI of the 36-month
 * restricted mean survival difference (HAIC - TACE) lies above 0, TACE when it lies below 0, and report "no
 * clear difference" otherwise.
 */
export interface TreatmentModelFit {
  coef: { haic: number; lp: number; haicByLp: number };
  se: { haic: number; lp: number; haicByLp: number };
  p: { haic: number; lp: number; haicByLp: number };
  model: CoxModel;
  rule: TreatmentRule;
}

/**
 * What prediction needs from a fitted treatment model, as plain JSON: coefficients for (haic, lp, haic:lp), the
 * centring means, and the baseline cumulative hazard at the centre. Stored in the study's models/ folder, one
 * for the point fit and one per bootstrap replicate, so `hcc predict` reproduces the study's predictions and CIs.
 */
export interface TreatmentRule {
  coef: [number, number, number];
  means: [number, number, number];
  baseline: { time: number[]; cumhaz: number[] };
}

export interface ArmPrediction {
  times: number[];
  tace: number[];
  haic: number[];
  rmstTace: number;
  rmstHaic: number;
  /** RMST(HAIC) - RMST(TACE) up to tau, months. */
  deltaRmst: number;
}

export interface TreatmentTrainingData {
  time: Float64Array;
  event: Float64Array;
  haic: Uint8Array;
  lp: Float64Array;
  /** Propensity-model covariates, column-major. */
  confounders: Float64Array[];
}

export function fitTreatmentModel(d: TreatmentTrainingData): TreatmentModelFit {
  const n = d.time.length;
  const rows = Array.from({ length: n }, (_, i) => d.confounders.map((c) => c[i]!));
  const ps = predictLogistic(fitLogistic(rows, d.haic), rows);
  const { weights } = iptwWeights(ps, d.haic, { estimand: 'ATE', stabilized: true, trim: [0.01, 0.99] });
  const haic = Float64Array.from(d.haic);
  const inter = d.lp.map((v, i) => v * haic[i]!);
  const model = fitCoxModel(d.time, d.event, ['haic', 'lp', 'haic:lp'], [haic, d.lp, inter], weights);
  const f = model.fit;
  const rule: TreatmentRule = {
    coef: [0, 1, 2].map((j) => (Number.isNaN(f.coef[j]!) ? 0 : f.coef[j]!)) as [number, number, number],
    means: [f.means[0]!, f.means[1]!, f.means[2]!],
    baseline: baselineCumhaz(model),
  };
  return {
    coef: { haic: f.coef[0]!, lp: f.coef[1]!, haicByLp: f.coef[2]! },
    se: { haic: f.se[0]!, lp: f.se[1]!, haicByLp: f.se[2]! },
    p: { haic: f.p[0]!, lp: f.p[1]!, haicByLp: f.p[2]! },
    model,
    rule,
  };
}

function survivalAt(steps: { time: number[]; cumhaz: number[] }, risk: number, t: number): number {
  return Math.exp(-stepAt(steps, t) * risk);
}

/** Integral of the step function S from 0 to tau. */
function rmst(steps: { time: number[]; cumhaz: number[] }, risk: number, tau: number): number {
  let area = 0;
  let prevT = 0;
  let prevS = 1;
  for (let k = 0; k < steps.time.length && steps.time[k]! < tau; k++) {
    area += prevS * (steps.time[k]! - prevT);
    prevT = steps.time[k]!;
    prevS = Math.exp(-steps.cumhaz[k]! * risk);
  }
  return area + prevS * (tau - prevT);
}

export function predictArms(rule: TreatmentRule, lp: number, times: number[], tau: number): ArmPrediction {
  const steps = rule.baseline;
  const risk = (h: number) => {
    const x = [h, lp, h * lp];
    return Math.exp(rule.coef.reduce((s, b, j) => s + b * (x[j]! - rule.means[j]!), 0));
  };
  const [rT, rH] = [risk(0), risk(1)];
  const rmstTace = rmst(steps, rT, tau);
  const rmstHaic = rmst(steps, rH, tau);
  return {
    times,
    tace: times.map((t) => survivalAt(steps, rT, t)),
    haic: times.map((t) => survivalAt(steps, rH, t)),
    rmstTace,
    rmstHaic,
    deltaRmst: rmstHaic - rmstTace,
  };
}

export interface ArmPredictionWithCi extends ArmPrediction {
  deltaRmstCi: [number, number];
  taceCi: Array<[number, number]>;
  haicCi: Array<[number, number]>;
  recommendation: 'HAIC' | 'TACE' | 'no clear difference';
}

function percentile(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
}

/** The point fit and its bootstrap refits: the training data resampled with replacement, propensity and Cox refitted. */
export function bootstrapTreatmentRules(data: TreatmentTrainingData, replicates: number, seed: number): { fit: TreatmentModelFit; replicates: TreatmentRule[] } {
  const fit = fitTreatmentModel(data);
  const rng = Rng.stream(seed, 'treatment-bootstrap');
  const n = data.time.length;
  const rules: TreatmentRule[] = [];
  for (let b = 0; b < replicates; b++) {
    const idx = Array.from({ length: n }, () => rng.int(n));
    const take = <T extends Float64Array | Uint8Array>(a: T) => a.map((_, i) => a[idx[i]!]!) as T;
    const sample: TreatmentTrainingData = {
      time: take(data.time),
      event: take(data.event),
      haic: take(data.haic),
      lp: take(data.lp),
      confounders: data.confounders.map(take),
    };
    try {
      rules.push(fitTreatmentModel(sample).rule);
    } catch (err) {
      // A resample can lose one arm or all events; such replicates are skipped (and counted by the caller).
      if (!(err instanceof HccError)) throw err;
    }
  }
  return { fit, replicates: rules };
}

/** Predictions for patients with nomogram linear predictors `lps`, with percentile CIs over the replicate rules. */
export function predictArmsWithCi(point: TreatmentRule, replicates: TreatmentRule[], lps: number[], times: number[], tau: number): ArmPredictionWithCi[] {
  const draws = replicates.map((rule) => lps.map((lp) => predictArms(rule, lp, times, tau)));
  const ci = (values: number[]): [number, number] => {
    const s = [...values].sort((a, b) => a - b);
    return s.length === 0 ? [NaN, NaN] : [percentile(s, 0.025), percentile(s, 0.975)];
  };
  return lps.map((lp, j) => {
    const p = predictArms(point, lp, times, tau);
    const deltaRmstCi = ci(draws.map((d) => d[j]!.deltaRmst));
    const recommendation: ArmPredictionWithCi['recommendation'] = deltaRmstCi[0] > 0 ? 'HAIC' : deltaRmstCi[1] < 0 ? 'TACE' : 'no clear difference';
    return {
      ...p,
      deltaRmstCi,
      taceCi: times.map((_, k) => ci(draws.map((d) => d[j]!.tace[k]!))),
      haicCi: times.map((_, k) => ci(draws.map((d) => d[j]!.haic[k]!))),
      recommendation,
    };
  });
}
