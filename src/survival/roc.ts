/**
 * ROC analysis of a score against a binary outcome, as pROC 1.18: empirical AUC (Mann-Whitney, ties 1/2), DeLong
 * variance and CI, DeLong's paired test and covariance between two scores on the same subjects, the ROC curve at
 * pROC's thresholds, sensitivity/specificity/PPV/NPV at a threshold, and the Youden cut-off.
 *
 * Direction: `'<'` (the default here, and the project's convention "a higher score means a higher risk") means
 * controls score lower than cases: a subject is called positive when score >= threshold. `'>'` is the reverse.
 * Nothing flips automatically (pROC's default `direction = "auto"` picks the direction from the medians, which
 * silently turns an AUC below 0.5 into one above); `autoDirection` reports what pROC would have picked.
 *
 * Exports: `RocDirection`, `rocCurve(cases, controls, direction)` -> {thresholds, sensitivity, specificity},
 * `rocThresholds(values, direction)`, `aucDelong(cases, controls, direction)` -> {auc, variance, placements},
 * `delongCi(auc, variance, level)`, `delongPaired(a, b)`, `youden(curve)`, `autoDirection(cases, controls)`,
 * `atThreshold(cases, controls, threshold, direction)` -> {sensitivity, specificity, ppv, npv, counts},
 * `splitByOutcome(score, y)`.
 */
import { pTwoSidedNormal, qnorm } from './distributions.js';

export type RocDirection = '<' | '>';

export function splitByOutcome(score: ArrayLike<number>, y: ArrayLike<number>): { cases: Float64Array; controls: Float64Array } {
  const cases: number[] = [];
  const controls: number[] = [];
  for (let i = 0; i < y.length; i++) (y[i] === 1 ? cases : controls).push(score[i]!);
  return { cases: Float64Array.from(cases), controls: Float64Array.from(controls) };
}

/** Number of sorted values < t (strict) or <= t. */
function countBelow(sorted: Float64Array, t: number, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strict ? sorted[mid]! < t : sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** pROC's roc.utils.thresholds: midpoints between sorted distinct values, -Inf and +Inf at the ends. */
export function rocThresholds(values: ArrayLike<number>, direction: RocDirection): number[] {
  const u = [...new Set(Array.from(values))].sort((a, b) => a - b);
  const present = new Set(u);
  const lows = [-Infinity, ...u];
  const highs = [...u, Infinity];
  return lows.map((lo, k) => {
    const hi = highs[k]!;
    let t = (lo + hi) / 2;
    if (Math.abs(t) > 1e100) t = lo / 2 + hi / 2;
    // Adjacent values so close that the midpoint rounds onto one of them: keep the side pROC keeps.
    if (present.has(t)) t = direction === '<' ? hi : lo;
    return t;
  });
}

/** Points from all subjects positive (sensitivity 1) to none positive, as pROC's coords(roc, "all"). */
export interface RocCurve {
  thresholds: number[];
  sensitivity: number[];
  specificity: number[];
}

export function rocCurve(cases: ArrayLike<number>, controls: ArrayLike<number>, direction: RocDirection = '<'): RocCurve {
  const th = rocThresholds([...Array.from(controls), ...Array.from(cases)], direction);
  const c = Float64Array.from(cases).sort();
  const k = Float64Array.from(controls).sort();
  const curve: RocCurve = { thresholds: th, sensitivity: [], specificity: [] };
  for (const t of th) {
    if (direction === '<') {
      curve.sensitivity.push((c.length - countBelow(c, t, true)) / c.length);
      curve.specificity.push(countBelow(k, t, true) / k.length);
    } else {
      curve.sensitivity.push(countBelow(c, t, false) / c.length);
      curve.specificity.push((k.length - countBelow(k, t, false)) / k.length);
    }
  }
  // pROC lists the curve from all-positive to all-negative: thresholds descend for '>'.
  if (direction === '>') for (const a of [curve.thresholds, curve.sensitivity, curve.specificity]) a.reverse();
  return curve;
}

export interface DelongResult {
  auc: number;
  variance: number;
  /** V10 per case and V01 per control (pROC's delongPlacements). */
  caseV: Float64Array;
  controlV: Float64Array;
}

/** AUC with DeLong placements in O((m + n) log(m + n)). */
export function aucDelong(cases: ArrayLike<number>, controls: ArrayLike<number>, direction: RocDirection = '<'): DelongResult {
  const m = cases.length;
  const n = controls.length;
  const sign = direction === '<' ? 1 : -1;
  const x = Float64Array.from(cases, (v) => sign * v);
  const y = Float64Array.from(controls, (v) => sign * v);
  const ys = Float64Array.from(y).sort();
  const xs = Float64Array.from(x).sort();
  // psi(x, y) = 1{x > y} + 1/2 1{x = y}
  const caseV = Float64Array.from(x, (v) => (countBelow(ys, v, true) + 0.5 * (countBelow(ys, v, false) - countBelow(ys, v, true))) / n);
  const controlV = Float64Array.from(y, (v) => (m - countBelow(xs, v, false) + 0.5 * (countBelow(xs, v, false) - countBelow(xs, v, true))) / m);
  let auc = 0;
  for (const v of caseV) auc += v;
  auc /= m;
  if (m <= 1 || n <= 1) return { auc, variance: NaN, caseV, controlV };
  let sx = 0;
  let sy = 0;
  for (const v of caseV) sx += (v - auc) * (v - auc);
  for (const v of controlV) sy += (v - auc) * (v - auc);
  return { auc, variance: sx / (m - 1) / m + sy / (n - 1) / n, caseV, controlV };
}

/** pROC's ci.auc(method = "delong"): normal quantiles around the AUC, clipped to [0, 1]. */
export function delongCi(auc: number, variance: number, level = 0.95): [number, number] {
  const z = qnorm(1 - (1 - level) / 2);
  const sd = Math.sqrt(variance);
  return [Math.max(0, auc - z * sd), Math.min(1, auc + z * sd)];
}

export interface DelongPaired {
  z: number;
  p: number;
  auc: [number, number];
  covariance: number;
  diffCi: [number, number];
}

function cov(a: Float64Array, b: Float64Array, ma: number, mb: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (a.length - 1);
}

/** roc.test(method = "delong", paired = TRUE) and cov(method = "delong") for two scores on the same subjects. */
export function delongPaired(a: DelongResult, b: DelongResult, level = 0.95): DelongPaired {
  const m = a.caseV.length;
  const n = a.controlV.length;
  const c = cov(a.caseV, b.caseV, a.auc, b.auc) / m + cov(a.controlV, b.controlV, a.auc, b.auc) / n;
  const v = a.variance + b.variance - 2 * c;
  const d = a.auc - b.auc;
  const z = d / Math.sqrt(v);
  const q = qnorm(1 - (1 - level) / 2);
  return { z, p: pTwoSidedNormal(z), auc: [a.auc, b.auc], covariance: c, diffCi: [d - q * Math.sqrt(v), d + q * Math.sqrt(v)] };
}

/** All thresholds maximising sensitivity + specificity (pROC coords "best", best.method = "youden"). */
export function youden(curve: RocCurve): RocCurve {
  const j = curve.sensitivity.map((se, k) => se + curve.specificity[k]!);
  const best = Math.max(...j);
  const idx = j.flatMap((v, k) => (v === best ? [k] : []));
  return { thresholds: idx.map((k) => curve.thresholds[k]!), sensitivity: idx.map((k) => curve.sensitivity[k]!), specificity: idx.map((k) => curve.specificity[k]!) };
}

/** The direction pROC's default (`direction = "auto"`) would choose: '<' when median(controls) <= median(cases). */
export function autoDirection(cases: ArrayLike<number>, controls: ArrayLike<number>): RocDirection {
  const median = (a: ArrayLike<number>) => {
    const s = Float64Array.from(a).sort();
    const h = s.length >> 1;
    return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
  };
  return median(controls) <= median(cases) ? '<' : '>';
}

export interface ThresholdSummary {
  threshold: number;
  sensitivity: number;
  specificity: number;
  ppv: number;
  npv: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Classification at one threshold: positive when score >= threshold ('<') or score <= threshold ('>'). */
export function atThreshold(cases: ArrayLike<number>, controls: ArrayLike<number>, threshold: number, direction: RocDirection = '<'): ThresholdSummary {
  const pos = (v: number) => (direction === '<' ? v >= threshold : v <= threshold);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < cases.length; i++) if (pos(cases[i]!)) tp++;
  for (let i = 0; i < controls.length; i++) if (pos(controls[i]!)) fp++;
  const fn = cases.length - tp;
  const tn = controls.length - fp;
  return { threshold, sensitivity: tp / cases.length, specificity: tn / controls.length, ppv: tp / (tp + fp), npv: tn / (tn + fn), tp, fp, tn, fn };
}
