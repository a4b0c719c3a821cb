/**
 * riskRegression::Score for right-censored survival data with the marginal Kaplan-Meier censoring model: td-AUC
 * and Brier score at given times for several models, with influence-function standard errors, pairwise
 * contrasts (difference, se, CI, p), IPA against the Kaplan-Meier null model, and the IBS; plus pec's
 * prediction-error curve and IBS on the all-observed-times grid.
 *
 * A model gives, for any evaluation time t, one value per subject: a predicted risk P(T <= t | x) (Brier and
 * AUC) or a marker (AUC only; higher = higher risk, never flipped).
 *
 * Exports:
 * - `ScoreModel` {name, kind: 'risk' | 'marker', at(t) -> per-row values}.
 * - `scoreAuc(time, event, models, opts, sample?)` -> {auc, contrasts, cells}: Score(metrics = "auc") tables,
 *   column-wise as the oracle's JSON (`model, times, AUC, se, lower, upper`; contrasts `times, model, reference,
 *   delta.AUC, se, lower, upper, p`); `cells` keep each (model, time) estimate with its per-subject influence
 *   function (sorted sample order). Rows are sorted by time, as Score's.
 * - `scoreBrier(time, event, models, opts, sample?)` -> {brier, contrasts, cells}: Score(metrics = "brier",
 *   summary = c("ibs", "ipa"), null.model = TRUE); the first model is "Null model" (marginal Kaplan-Meier).
 * - `nullModel(sample)`: that Kaplan-Meier model as a ScoreModel.
 * - `pecCurves(time, event, models, times)` -> {grid, curves, ibs}: pec(exact = TRUE, reference = TRUE).
 * - `NULL_MODEL` = "Null model".
 */
import { qnorm, pTwoSidedNormal } from './distributions.js';
import { brier, integrateStep, pecGrid } from './brier.js';
import { ipcwSample, kmSurvivalAt, sortedValues, type IpcwSample } from './ipcw.js';
import { tdAuc } from './tdauc.js';

export interface ScoreModel {
  name: string;
  kind: 'risk' | 'marker';
  /** Per row (caller's order): the predicted risk P(T <= t) or the marker. */
  at(t: number): ArrayLike<number>;
}

export interface ScoreOptions {
  times: number[];
  /** Standard errors, CIs and contrast p-values (default true). */
  se?: boolean;
  /** Treat the censoring distribution as known (no censoring term in the influence function). */
  conservative?: boolean;
  confLevel?: number;
}

export const NULL_MODEL = 'Null model';

function sd(x: Float64Array): number {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let ss = 0;
  for (const v of x) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (x.length - 1));
}

interface Cell {
  model: string;
  time: number;
  value: number;
  influence?: Float64Array;
}

function contrasts(cells: Cell[], models: string[], times: number[], n: number, z: number, se: boolean, valueKey: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = { times: [], model: [], reference: [], [valueKey]: [] };
  if (se) Object.assign(out, { se: [], lower: [], upper: [], p: [] });
  const get = (m: string, t: number) => cells.find((c) => c.model === m && c.time === t)!;
  for (const t of times) {
    for (let r = 0; r < models.length - 1; r++) {
      for (let m = r + 1; m < models.length; m++) {
        const a = get(models[m]!, t);
        const b = get(models[r]!, t);
        const delta = a.value - b.value;
        out['times']!.push(t);
        out['model']!.push(models[m]);
        out['reference']!.push(models[r]);
        out[valueKey]!.push(delta);
        if (se) {
          const d = Float64Array.from(b.influence!, (v, i) => v - a.influence![i]!);
          const s = sd(d) / Math.sqrt(n);
          out['se']!.push(s);
          out['lower']!.push(delta - z * s);
          out['upper']!.push(delta + z * s);
          out['p']!.push(pTwoSidedNormal(Math.abs(delta) / s));
        }
      }
    }
  }
  return out;
}

/** One row of a Score table (model, times, estimate, and with `se` its SE and clipped normal CI), and its cell. */
function addRow(table: Record<string, unknown[]>, cells: Cell[], key: string, model: string, t: number, value: number, influence: Float64Array | undefined, z: number): void {
  cells.push({ model, time: t, value, influence });
  table['model']!.push(model);
  table['times']!.push(t);
  table[key]!.push(value);
  if (influence) {
    const s = sd(influence) / Math.sqrt(influence.length);
    table['se']!.push(s);
    table['lower']!.push(Math.max(0, value - z * s));
    table['upper']!.push(Math.min(1, value + z * s));
  }
}

function checkTimes(times: number[]): void {
  if (times.length === 0 || times.some((t) => !Number.isFinite(t) || t <= 0)) throw new RangeError(`score: evaluation times must be positive numbers, got ${times.join(', ')}`);
}

export function scoreAuc(time: ArrayLike<number>, event: ArrayLike<number>, models: ScoreModel[], opts: ScoreOptions, sample: IpcwSample = ipcwSample(time, event)) {
  checkTimes(opts.times);
  const se = opts.se ?? true;
  const z = qnorm(1 - (1 - (opts.confLevel ?? 0.95)) / 2);
  const n = sample.n;
  const cells: Cell[] = [];
  const auc: Record<string, unknown[]> = { model: [], times: [], AUC: [] };
  if (se) Object.assign(auc, { se: [], lower: [], upper: [] });
  const times = [...opts.times].sort((a, b) => a - b);
  for (const m of models) {
    for (const t of times) {
      const r = tdAuc(sample, sortedValues(sample, m.at(t)), t, { influence: se, conservative: opts.conservative });
      addRow(auc, cells, 'AUC', m.name, t, r.auc, r.influence, z);
    }
  }
  const names = models.map((m) => m.name);
  return { auc, contrasts: names.length > 1 ? contrasts(cells, names, times, n, z, se, 'delta.AUC') : undefined, cells };
}

/** The Kaplan-Meier null model: P(T <= t) = 1 - KM(t) for everyone. */
export function nullModel(sample: IpcwSample): ScoreModel {
  return { name: NULL_MODEL, kind: 'risk', at: (t) => new Float64Array(sample.n).fill(1 - kmSurvivalAt(sample, t)) };
}

export function scoreBrier(time: ArrayLike<number>, event: ArrayLike<number>, models: ScoreModel[], opts: ScoreOptions, sample: IpcwSample = ipcwSample(time, event)) {
  checkTimes(opts.times);
  const se = opts.se ?? true;
  const z = qnorm(1 - (1 - (opts.confLevel ?? 0.95)) / 2);
  const n = sample.n;
  const all = [nullModel(sample), ...models];
  const times = [...opts.times].sort((a, b) => a - b);
  const cells: Cell[] = [];
  const out: Record<string, unknown[]> = { model: [], times: [], Brier: [] };
  if (se) Object.assign(out, { se: [], lower: [], upper: [] });
  Object.assign(out, { IBS: [], IPA: [] });
  const nullBrier = new Map<number, number>();
  for (const m of all) {
    const values: number[] = [];
    for (const t of times) {
      const r = brier(sample, sortedValues(sample, m.at(t)), t, { influence: se, conservative: opts.conservative });
      if (m.name === NULL_MODEL) nullBrier.set(t, r.brier);
      values.push(r.brier);
      addRow(out, cells, 'Brier', m.name, t, r.brier, r.influence, z);
    }
    times.forEach((t) => {
      out['IBS']!.push(integrateStep(times, values, t));
      out['IPA']!.push(1 - values[times.indexOf(t)]! / nullBrier.get(t)!);
    });
  }
  return { brier: out, contrasts: contrasts(cells, all.map((m) => m.name), times, n, z, se, 'delta.Brier'), cells };
}

/** pec::pec(exact = TRUE, cens.model = "marginal", reference = TRUE) up to max(times), and its ibs at `times`. */
export function pecCurves(time: ArrayLike<number>, event: ArrayLike<number>, models: ScoreModel[], times: number[], sample: IpcwSample = ipcwSample(time, event)) {
  const horizon = Math.max(...times);
  const grid = pecGrid(time, times).filter((g) => g <= horizon);
  const all = [{ ...nullModel(sample), name: 'Reference' }, ...models];
  const curves: Record<string, number[]> = {};
  const ibs: Record<string, number[]> = {};
  const unique = [...new Set(grid)];
  for (const m of all) {
    const at = new Map<number, number>();
    for (const g of unique) at.set(g, brier(sample, sortedValues(sample, m.at(g)), g).brier);
    const curve = grid.map((g) => at.get(g)!);
    curves[m.name] = curve;
    ibs[m.name] = times.map((t) => integrateStep(unique, unique.map((g) => at.get(g)!), t));
  }
  return { grid, curves, ibs };
}
