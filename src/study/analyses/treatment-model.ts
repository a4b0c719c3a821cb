import { iptwWeights } from '../../survival/iptw.js';
import { fitLogistic, predictLogistic } from '../../survival/logistic.js';
import { coxPredictLp } from '../../survival/cox.js';
import { HccError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { fitCoxModel, type CoxModel } from './cox-model.js';

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
  return {
    coef: { haic: f.coef[0]!, lp: f.coef[1]!, haicByLp: f.coef[2]! },
    se: { haic: f.se[0]!, lp: f.se[1]!, haicByLp: f.se[2]! },
    p: { haic: f.p[0]!, lp: f.p[1]!, haicByLp: f.p[2]! },
    model,
  };
}

/** Cumulative baseline hazard for a centred linear predictor, as one step function. */
function baselineSteps(model: CoxModel): { time: number[]; cumhaz: number[] } {
  const st = model.baseline[0]!;
  let h = 0;
  return { time: st.time, cumhaz: st.hazard.map((dh) => (h += dh)) };
}

function survivalAt(steps: { time: number[]; cumhaz: number[] }, risk: number, t: number): number {
  let lo = 0;
  let hi = steps.time.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps.time[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 1 : Math.exp(-steps.cumhaz[lo - 1]! * risk);
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

export function predictArms(fit: TreatmentModelFit, lp: number, times: number[], tau: number): ArmPrediction {
  const steps = baselineSteps(fit.model);
  const risk = (h: number) => Math.exp(coxPredictLp(fit.model.fit, fit.model.data, [h, lp, h * lp]));
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

/**
 * Predictions for new patients (their nomogram linear predictors) with percentile bootstrap CIs: the training
 * data are resampled with replacement, the propensity model and the weighted Cox model refitted each time.
 */
export function predictArmsWithBootstrap(
  data: TreatmentTrainingData,
  lps: number[],
  options: { times: number[]; tau: number; replicates: number; seed: number },
): { fit: TreatmentModelFit; predictions: ArmPredictionWithCi[]; replicatesUsed: number } {
  const fit = fitTreatmentModel(data);
  const point = lps.map((lp) => predictArms(fit, lp, options.times, options.tau));
  const rng = Rng.stream(options.seed, 'treatment-bootstrap');
  const n = data.time.length;
  const draws: ArmPrediction[][] = [];
  for (let b = 0; b < options.replicates; b++) {
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
      const f = fitTreatmentModel(sample);
      draws.push(lps.map((lp) => predictArms(f, lp, options.times, options.tau)));
    } catch (err) {
      // A resample can lose one arm or all events; such replicates are skipped and counted.
      if (!(err instanceof HccError)) throw err;
    }
  }
  const ci = (values: number[]): [number, number] => {
    const s = [...values].sort((a, b) => a - b);
    return s.length === 0 ? [NaN, NaN] : [percentile(s, 0.025), percentile(s, 0.975)];
  };
  const predictions = point.map((p, j) => {
    const deltaRmstCi = ci(draws.map((d) => d[j]!.deltaRmst));
    const recommendation: ArmPredictionWithCi['recommendation'] = deltaRmstCi[0] > 0 ? 'HAIC' : deltaRmstCi[1] < 0 ? 'TACE' : 'no clear difference';
    return {
      ...p,
      deltaRmstCi,
      taceCi: options.times.map((_, k) => ci(draws.map((d) => d[j]!.tace[k]!))),
      haicCi: options.times.map((_, k) => ci(draws.map((d) => d[j]!.haic[k]!))),
      recommendation,
    };
  });
  return { fit, predictions, replicatesUsed: draws.length };
}
