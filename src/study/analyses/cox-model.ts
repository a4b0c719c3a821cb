import { coxBaseline, coxPredictLp, fitCox, type CoxData, type CoxFit, type StratumHazard } from '../../survival/cox.js';
import { HccError } from '../../util/errors.js';

/**
 * A fitted Cox model used as a prediction rule: linear predictor and survival probabilities for new rows. The
 * nomogram, each staging system (stage as a factor) and the treatment model are all CoxModels, so they are
 * scored by exactly the same code.
 */
export interface CoxModel {
  names: string[];
  fit: CoxFit;
  data: CoxData;
  baseline: StratumHazard[];
}

export function fitCoxModel(time: ArrayLike<number>, event: ArrayLike<number>, names: string[], columns: Float64Array[], weights?: Float64Array): CoxModel {
  for (const [j, c] of columns.entries()) {
    for (let i = 0; i < c.length; i++) {
      if (!Number.isFinite(c[i]!)) throw new HccError(`Cox model: predictor '${names[j]}' is missing or not finite for training row ${i + 1}`);
    }
  }
  const data: CoxData = { time, event, columns, names, ...(weights ? { weights } : {}) };
  const fit = fitCox(data, { ties: 'efron', ...(weights ? { robust: true } : {}) });
  return { names, fit, data, baseline: coxBaseline(fit, data) };
}

function rowOf(columns: Float64Array[], i: number): number[] {
  return columns.map((c) => c[i]!);
}

/** Centred linear predictor (predict(type = "lp")): higher means higher risk. */
export function predictLp(model: CoxModel, columns: Float64Array[]): Float64Array {
  const n = columns[0]?.length ?? 0;
  return Float64Array.from({ length: n }, (_, i) => coxPredictLp(model.fit, model.data, rowOf(columns, i)));
}

/** The cumulative baseline hazard at the centred linear predictor 0, as a step function. */
export function baselineCumhaz(model: CoxModel): { time: number[]; cumhaz: number[] } {
  const st = model.baseline[0]!;
  let h = 0;
  return { time: st.time, cumhaz: st.hazard.map((dh) => (h += dh)) };
}

/** H(t) of a step function: the value at the last step time <= t, 0 before the first. */
export function stepAt(steps: { time: number[]; cumhaz: number[] }, t: number): number {
  let lo = 0;
  let hi = steps.time.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps.time[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : steps.cumhaz[lo - 1]!;
}

/** P(T <= t) for centred linear predictors `lp` under a baseline: 1 - exp(-H0(t) exp(lp)). */
export function riskFromBaseline(steps: { time: number[]; cumhaz: number[] }, lp: Float64Array): (t: number) => Float64Array {
  const risk = lp.map(Math.exp);
  return (t: number) => {
    const H = stepAt(steps, t);
    return risk.map((r) => 1 - Math.exp(-H * r));
  };
}

/**
 * The model's predicted risk P(T <= t | row) for `columns`, as a function of t: the form riskRegression's Score
 * and pec take. Evaluating many times is one lookup per row and time.
 */
export function riskFunction(model: CoxModel, columns: Float64Array[]): (t: number) => Float64Array {
  return riskFromBaseline(baselineCumhaz(model), predictLp(model, columns));
}
