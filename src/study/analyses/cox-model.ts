import { coxBaseline, coxPredictLp, coxSurvfit, curveAt, fitCox, type CoxData, type CoxFit, type StratumHazard } from '../../survival/cox.js';
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

/** Survival probability of each row at each time: out[i][k] = S(times[k] | row i). */
export function predictSurvival(model: CoxModel, columns: Float64Array[], times: number[]): number[][] {
  const n = columns[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => curveAt(coxSurvfit(model.fit, model.baseline, rowOf(columns, i)), times).surv);
}

/**
 * The model's predicted risk P(T <= t | row) for `columns`, as a function of t: the form riskRegression's Score
 * and pec take. Uses S(t | x) = exp(-H0(t) exp(lp)) with the centred Breslow/Efron baseline, so evaluating many
 * times is one lookup per row and time.
 */
export function riskFunction(model: CoxModel, columns: Float64Array[]): (t: number) => Float64Array {
  const st = model.baseline[0]!;
  let h = 0;
  const cumhaz = st.hazard.map((dh) => (h += dh));
  const risk = predictLp(model, columns).map(Math.exp);
  return (t: number) => {
    let lo = 0;
    let hi = st.time.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (st.time[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const H = lo === 0 ? 0 : cumhaz[lo - 1]!;
    return risk.map((r) => 1 - Math.exp(-H * r));
  };
}
