/**
 * Inverse probability of censoring weighting with the marginal Kaplan-Meier censoring model, shared by the
 * time-dependent AUC and the Brier score (riskRegression::Score, pec), including the pieces of the censoring
 * model's influence function that Score's standard errors add (riskRegression's getInfluenceFunctionKM).
 *
 * Conventions (as Score): subjects are sorted by time with events before censorings at tied times; the censoring
 * survival G is the reverse Kaplan-Meier with failing subjects leaving the risk set first (prodlim reverse=TRUE);
 * cases get 1/G(T_i-), survivors past t get 1/G(t).
 *
 * Exports:
 * - `IpcwSample`, `ipcwSample(time, event)`: the sorted sample, G(T_i-) per subject, and the censoring
 *   Nelson-Aalen influence terms.
 * - `sortedValues(sample, values)`: a per-row vector in the sample's sorted order.
 * - `lastAtOrBefore(sample, t)`: index of the last sorted subject with T <= t (-1 if none).
 * - `censoringInfluence(sample, i, firsthit)`: Score's `fihattau` for subject i (the influence of subject i on
 *   the censoring cumulative hazard up to min(T_i, t)).
 * - `kmSurvivalAt(sample, t)`: the Kaplan-Meier survival of the event at t (the Null model of Score and pec).
 */
import { censoringKm, type CensoringKm } from './concordance.js';
import { stepIndex } from './cox.js';

export interface IpcwSample {
  n: number;
  /** Sorted position -> row of the caller's arrays. */
  order: Int32Array;
  time: Float64Array;
  event: Uint8Array;
  G: CensoringKm;
  /** G(T_i-) in sorted order. */
  gMinus: Float64Array;
  /** Distinct times, the number at risk there, and the cumulative censoring-hazard influence term. */
  utime: Float64Array;
  atRisk: Float64Array;
  mcTerm2: Float64Array;
  /** Sorted subject -> index of its distinct time. */
  sindex: Int32Array;
}

export function ipcwSample(time: ArrayLike<number>, event: ArrayLike<number>): IpcwSample {
  const n = time.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]! || event[b]! - event[a]!);
  const t = Float64Array.from(order, (i) => time[i]!);
  const e = Uint8Array.from(order, (i) => event[i]!);
  const G = censoringKm(t, e, 'events_first');
  const gMinus = Float64Array.from(t, (x) => G.minus(x));
  // riskRegression's getInfluenceFunctionKM (IC-Nelson-Aalen-cens-time.cpp), step by step.
  const sindex = new Int32Array(n);
  const ut: number[] = [];
  const atRisk: number[] = [n];
  const mc: number[] = [];
  let cens = e[0] === 0 ? 1 : 0;
  let y = n;
  let k = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && t[i] === t[i - 1]) {
      cens += e[i] === 0 ? 1 : 0;
      y -= 1;
      sindex[i] = k;
    } else {
      ut.push(t[i - 1]!);
      mc.push(((cens / atRisk[k]!) * n) / atRisk[k]!);
      if (i < n) {
        k++;
        sindex[i] = k;
        y -= 1;
        atRisk.push(y);
        cens = e[i] === 0 ? 1 : 0;
      }
    }
  }
  for (let j = 1; j < mc.length; j++) mc[j]! += mc[j - 1]!;
  return { n, order, time: t, event: e, G, gMinus, utime: Float64Array.from(ut), atRisk: Float64Array.from(atRisk), mcTerm2: Float64Array.from(mc), sindex };
}

export function sortedValues(s: IpcwSample, values: ArrayLike<number>): Float64Array {
  const n = s.n;
  const order = s.order;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = values[order[k]!]!;
  return out;
}

export function lastAtOrBefore(s: IpcwSample, t: number): number {
  return stepIndex(s.time, t);
}

export function censoringInfluence(s: IpcwSample, i: number, firsthit: number): number {
  const j = i > firsthit ? firsthit : i;
  if (j < 0) return 0;
  const sj = s.sindex[j]!;
  if (s.utime[sj]! < s.time[i]!) return -s.mcTerm2[sj]!;
  const si = s.sindex[i]!;
  return (s.event[i] === 0 ? s.n / s.atRisk[si]! : 0) - s.mcTerm2[si]!;
}

export function kmSurvivalAt(s: IpcwSample, t: number): number {
  let surv = 1;
  let atRisk = s.n;
  for (let i = 0; i < s.n && s.time[i]! <= t; ) {
    let d = 0;
    let j = i;
    for (; j < s.n && s.time[j] === s.time[i]; j++) d += s.event[j]!;
    if (d > 0) surv *= 1 - d / atRisk;
    atRisk -= j - i;
    i = j;
  }
  return surv;
}
