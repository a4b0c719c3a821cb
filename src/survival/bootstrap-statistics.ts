/**
 * Statistics for the bootstrap engine (./bootstrap.ts): each is `(data, indices) -> number[]` on plain,
 * structured-cloneable data, so worker threads can run it. Reference one with `statistic('name')`.
 *
 * - `binaryAuc` {scores[], y, directions[]}: the AUC of each score (pROC conventions) on the resample.
 * - `timeDependentAuc` {time, event, markers[], times[]}: Score's td-AUC of each marker at each time (marker-major:
 *   marker 0 at every time, then marker 1, ...), with the censoring model refitted on the resample.
 * - `tdAucCells` {time, event, cells[] {values, t}}: the td-AUC of each (values, time) cell, e.g. a model's risk
 *   at its own time.
 * - `concordanceC` {time, event, risks[], timewt, tau?}: survival::concordance C of each risk score (higher = riskier).
 * - `brierScore` {time, event, risks[][] (per model, one column per time), times[]}: the IPCW Brier score of each
 *   model at each time (model-major).
 * - `integratedBrier` {time, event, risks[][] (per model, one column per grid time), grid[], horizon}: pec's IBS
 *   of each model on the resample (the grid is fixed to the original data's observed times).
 */
import { concordanceFit, type TimeWeight } from './concordance.js';
import { brier, integrateStep } from './brier.js';
import { ipcwSample, sortedValues } from './ipcw.js';
import { aucDelong, type RocDirection } from './roc.js';
import { tdAuc } from './tdauc.js';
import type { StatisticRef } from './bootstrap.js';

export function statistic(name: 'binaryAuc' | 'timeDependentAuc' | 'tdAucCells' | 'concordanceC' | 'brierScore' | 'integratedBrier'): StatisticRef {
  return { module: import.meta.url, name };
}

const pick = (x: ArrayLike<number>, idx: Int32Array) => Float64Array.from(idx, (i) => x[i]!);

export function binaryAuc(data: { scores: Float64Array[]; y: Uint8Array; directions: RocDirection[] }, idx: Int32Array): number[] {
  return data.scores.map((s, k) => {
    const cases: number[] = [];
    const controls: number[] = [];
    for (const i of idx) (data.y[i] === 1 ? cases : controls).push(s[i]!);
    return aucDelong(cases, controls, data.directions[k]).auc;
  });
}

export function timeDependentAuc(data: { time: Float64Array; event: Uint8Array; markers: Float64Array[]; times: number[] }, idx: Int32Array): number[] {
  const sample = ipcwSample(pick(data.time, idx), pick(data.event, idx));
  return data.markers.flatMap((m) => {
    const x = sortedValues(sample, pick(m, idx));
    return data.times.map((t) => tdAuc(sample, x, t).auc);
  });
}

export function tdAucCells(data: { time: Float64Array; event: Uint8Array; cells: Array<{ values: Float64Array; t: number }> }, idx: Int32Array): number[] {
  const sample = ipcwSample(pick(data.time, idx), pick(data.event, idx));
  return data.cells.map((c) => tdAuc(sample, sortedValues(sample, pick(c.values, idx)), c.t).auc);
}

export function concordanceC(data: { time: Float64Array; event: Uint8Array; risks: Float64Array[]; timewt: TimeWeight; tau?: number }, idx: Int32Array): number[] {
  const time = pick(data.time, idx);
  const event = pick(data.event, idx);
  return data.risks.map((r) => concordanceFit(time, event, pick(r, idx), { reverse: true, timewt: data.timewt, ymax: data.tau }).c);
}

export function brierScore(data: { time: Float64Array; event: Uint8Array; risks: Float64Array[][]; times: number[] }, idx: Int32Array): number[] {
  const sample = ipcwSample(pick(data.time, idx), pick(data.event, idx));
  return data.risks.flatMap((cols) => data.times.map((t, k) => brier(sample, sortedValues(sample, pick(cols[k]!, idx)), t).brier));
}

export function integratedBrier(data: { time: Float64Array; event: Uint8Array; risks: Float64Array[][]; grid: number[]; horizon: number }, idx: Int32Array): number[] {
  const sample = ipcwSample(pick(data.time, idx), pick(data.event, idx));
  return data.risks.map((cols) => integrateStep(data.grid, data.grid.map((t, k) => brier(sample, sortedValues(sample, pick(cols[k]!, idx)), t).brier), data.horizon));
}
