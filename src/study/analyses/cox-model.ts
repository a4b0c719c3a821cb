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
