/**
 * Cumulative/dynamic time-dependent AUC with IPCW (Uno 2007, Blanche 2013), as riskRegression::Score(metrics =
 * "auc", cens.model = "km"): cases T_i <= t with an event, weighted 1/G(T_i-); controls T_j > t, weighted 1/G(t);
 * subjects censored before t drop out; marker ties count 1/2. A higher marker means a higher risk.
 *
 * The standard error is Score's: sd(IF)/sqrt(n) of the influence function of the estimator, including the term of
 * the Kaplan-Meier censoring model unless `conservative` (riskRegression's getIC0AUC and
 * getInfluenceFunctionAUCKMCensoringTerm, ported step by step so the numbers agree to round-off).
 *
 * Exports:
 * - `tdAuc(sample, markerSorted, t, {influence, conservative})` -> {auc, influence?} at one time on an
 *   `IpcwSample` (src/survival/ipcw.ts); the marker in the sample's sorted order.
 * - `tdAucCounts(sample, t)`: the numbers of cases, controls and subjects censored before t.
 * - `timeRocStrictAuc(sample, markerSorted, t)`: the timeROC 0.4 variant (cases T < t).
 */
import { censoringInfluence, lastAtOrBefore, type IpcwSample } from './ipcw.js';

export interface TdAucResult {
  auc: number;
  /** Per sorted subject; se = sd(influence)/sqrt(n). */
  influence?: Float64Array;
}

/** Weighted Mann-Whitney AUC between cases and controls (ties 1/2), O(n log n). */
function weightedAuc(marker: Float64Array, caseW: Float64Array, ctrlW: Float64Array): number {
  const n = marker.length;
  const idx = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => marker[a]! - marker[b]!);
  let below = 0;
  let num = 0;
  let sumCase = 0;
  let sumCtrl = 0;
  for (let k = 0; k < n; ) {
    let j = k;
    let tieCase = 0;
    let tieCtrl = 0;
    for (; j < n && marker[idx[j]!] === marker[idx[k]!]; j++) {
      tieCase += caseW[idx[j]!]!;
      tieCtrl += ctrlW[idx[j]!]!;
    }
    num += tieCase * (below + 0.5 * tieCtrl);
    below += tieCtrl;
    sumCase += tieCase;
    sumCtrl += tieCtrl;
    k = j;
  }
  return num / (sumCase * sumCtrl);
}

export function tdAucCounts(s: IpcwSample, t: number): { n_cases: number; n_controls: number; n_censored_before: number } {
  let cases = 0;
  let controls = 0;
  let cens = 0;
  for (let i = 0; i < s.n; i++) {
    if (s.time[i]! > t) controls++;
    else if (s.event[i] === 1) cases++;
    else cens++;
  }
  return { n_cases: cases, n_controls: controls, n_censored_before: cens };
}

export function timeRocStrictAuc(s: IpcwSample, marker: Float64Array, t: number): number {
  const gt = s.G.at(t);
  const caseW = Float64Array.from(s.time, (x, i) => (x < t && s.event[i] === 1 ? 1 / s.gMinus[i]! : 0));
  const ctrlW = Float64Array.from(s.time, (x) => (x > t ? 1 / gt : 0));
  return weightedAuc(marker, caseW, ctrlW);
}

export function tdAuc(s: IpcwSample, marker: Float64Array, t: number, opts: { influence?: boolean; conservative?: boolean } = {}): TdAucResult {
  const n = s.n;
  const gt = s.G.at(t);
  const firsthit = Math.max(0, lastAtOrBefore(s, t));
  // Score's weights: 1/G(T_i-) for cases, 1/G(t) for controls, 0 for censored before t.
  const w = new Float64Array(n);
  const isCase = new Uint8Array(n);
  const caseW = new Float64Array(n);
  const ctrlW = new Float64Array(n);
  let muCase = 0;
  let muControls = 0;
  for (let i = 0; i < n; i++) {
    if (s.time[i]! <= t) {
      if (s.event[i] === 1) {
        w[i] = 1 / s.gMinus[i]!;
        isCase[i] = 1;
        caseW[i] = w[i]!;
        muCase += w[i]!;
      }
    } else {
      w[i] = 1 / gt;
      ctrlW[i] = w[i]!;
      muControls += w[i]!;
    }
  }
  if (muCase === 0 || muControls === 0) return { auc: NaN, influence: opts.influence ? new Float64Array(n).fill(NaN) : undefined };
  const auc = weightedAuc(marker, caseW, ctrlW);
  if (!opts.influence) return { auc };

  const mu = (muCase * muControls) / (n * n);
  const nu = auc * mu;
  // ic0Control[k]: case weight above subject k's marker (ties 1/2, self excluded); ic0Case[k]: control weight below.
  const ord = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => marker[a]! - marker[b]!);
  const ic0Control = new Float64Array(n);
  const ic0Case = new Float64Array(n);
  let prev = 0;
  let curr = 0;
  for (let i = n - 1; i >= 0; ) {
    let j = i;
    for (; j >= 0 && marker[ord[j]!] === marker[ord[i]!]; j--) if (isCase[ord[j]!]) curr += w[ord[j]!]!;
    for (let l = i; l > j; l--) {
      const o = ord[l]!;
      ic0Control[o] = 0.5 * (prev + curr - (isCase[o] ? w[o]! : 0));
    }
    i = j;
    prev = curr;
  }
  prev = curr = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    for (; j < n && marker[ord[j]!] === marker[ord[i]!]; j++) if (ctrlW[ord[j]!]! > 0) curr += w[ord[j]!]!;
    for (let l = i; l < j; l++) {
      const o = ord[l]!;
      ic0Case[o] = 0.5 * (prev + curr - (ctrlW[o]! > 0 ? w[o]! : 0));
    }
    i = j;
    prev = curr;
  }
  const inf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let num = 0;
    let den = 0;
    if (isCase[i]) {
      num = (w[i]! / n) * ic0Case[i]!;
      den = (w[i]! / n) * muControls;
    } else if (ctrlW[i]! > 0) {
      num = (w[i]! / n) * ic0Control[i]!;
      den = (w[i]! / n) * muCase;
    }
    inf[i] = (num * mu - den * nu) / (mu * mu);
  }
  if (opts.conservative) return { auc, influence: inf };

  // The Kaplan-Meier censoring term (getInfluenceFunctionAUCKMCensoringTerm, survival case: no status 2).
  let t2num1 = 0;
  let t2den1 = 0;
  let t2num2 = nu * n * n;
  let t2den2 = muCase;
  let sumPartNum = 0;
  for (let i = firsthit + 1; i < n; i++) sumPartNum += ic0Control[i]!;
  sumPartNum /= gt;
  const sumPartDen = (n - (firsthit + 1)) / gt;
  const t3num2 = nu * n * n - sumPartNum;
  const t3den2 = muControls - sumPartDen;
  let tie = 0;
  for (; tie < n && s.time[tie] === s.time[0]; tie++) {
    if (s.time[tie]! <= t && s.event[tie] === 1) {
      t2num2 -= ic0Case[tie]! * w[tie]!;
      t2den2 -= w[tie]!;
    }
  }
  let upperTie = tie - 1;
  const n2 = n * n;
  for (let i = 0; i < n; i++) {
    const f = censoringInfluence(s, i, firsthit);
    const t2num = (t2num1 + f * t2num2) / n2;
    const t2den = ((t2den1 + f * t2den2) * muControls) / n2;
    const t3num = (f * t3num2 + f * sumPartNum) / n2;
    const t3den = ((f * t3den2 + f * sumPartDen) * muCase) / n2;
    if (upperTie === i) {
      const mc = s.mcTerm2[s.sindex[i]!]!;
      let k = i + 1;
      for (; k < n && s.time[k] === s.time[i + 1]; k++) {
        if (s.time[k]! <= t && s.event[k] === 1) {
          t2num1 -= ic0Case[k]! * mc * w[k]!;
          t2den1 -= mc * w[k]!;
          t2num2 -= ic0Case[k]! * w[k]!;
          t2den2 -= w[k]!;
        }
      }
      upperTie = k - 1;
    }
    inf[i] += ((t2num + t3num) * mu - (t2den + t3den) * nu) / (mu * mu);
  }
  return { auc, influence: inf };
}
