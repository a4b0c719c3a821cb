/**
 * Calibration of predicted risks P(T <= t) at a horizon, and decision curves for survival at t.
 *
 * - `groupedCalibration(time, event, risk, t, groups)`: subjects split into quantile groups of predicted risk
 *   (breaks = unique type-7 quantiles, intervals right-closed with the lowest included, as cut(include.lowest =
 *   TRUE)); per group the mean prediction and the observed risk 1 - KM(t) with the log-scale 95% CI, and the
 *   events by t; overall observed risk, mean prediction and O/E. Identical to riskRegression's
 *   plotCalibration(method = "quantile") frames.
 * - `smoothedCalibration(time, event, risk, t, grid)`: the smoothed curve (Austin, Harrell & van Klaveren 2020):
 *   a Cox model of the outcome on cll = log(-log(1 - risk)) with a restricted cubic spline (rms::rcs(cll, 3):
 *   knots at the 10th, 50th and 90th percentiles), observed risk at t = 1 - S(t | cll); returns the curve on `grid` and ICI,
 *   E50, E90 (mean, median, 90th percentile of |observed - predicted| over the subjects).
 * - `netBenefit(time, event, risk, t, thresholds)`: Vickers 2008 / dcurves survival method:
 *   NB(pt) = p_hi (1 - S_hi(t)) - p_hi S_hi(t) pt / (1 - pt), p_hi = share with risk >= pt, S_hi = KM at t in
 *   that group, 0 when nobody is above pt; `treatAll(time, event, t, thresholds)`.
 * - `kmRiskAt(time, event, t)`: 1 - KM(t) with its log-scale CI (summary.survfit(times = t, extend = TRUE)).
 * - `quantile7R(values, probs)`: R's quantile(type = 7) with R's arithmetic.
 */
import { coxBaseline, fitCox, stepIndex } from './cox.js';
import { kaplanMeier, kmAtTimes, kmConfInt } from './km.js';
import { aeqTimes } from './timefix.js';

export function kmRiskAt(time: ArrayLike<number>, event: ArrayLike<number>, t: number): { risk: number; lower: number; upper: number; surv: number } {
  const curve = kaplanMeier(time, event);
  const ci = kmConfInt(curve, 'log');
  const a = kmAtTimes(curve, [t], ci.lower, ci.upper);
  return { surv: a.surv[0]!, risk: 1 - a.surv[0]!, lower: 1 - a.upper[0]!, upper: 1 - a.lower[0]! };
}

/** R's quantile(x, probs, type = 7), including its (1 - h) x_lo + h x_hi arithmetic. */
export function quantile7R(values: ArrayLike<number>, probs: number[]): number[] {
  const x = Float64Array.from(values).sort();
  const n = x.length;
  return probs.map((p) => {
    const index = 1 + Math.max(n - 1, 0) * p;
    const lo = Math.floor(index);
    const hi = Math.ceil(index);
    const q = x[lo - 1]!;
    const h = index - lo;
    return index > lo && x[hi - 1] !== q ? (1 - h) * q + h * x[hi - 1]! : q;
  });
}

/** seq(0, 1, length.out = k + 1) as R computes it. */
function unitSeq(k: number): number[] {
  return Array.from({ length: k + 1 }, (_, i) => (i === 0 ? 0 : i === k ? 1 : i * (1 / k)));
}

export interface CalibrationTable {
  time: number;
  /** `max_time`: the group's last observed time (its Kaplan-Meier is carried forward past it, as extend = TRUE). */
  table: { group: number[]; n: number[]; mean_pred: number[]; obs: number[]; obs_lower: number[]; obs_upper: number[]; events_by_t: number[]; max_time: number[] };
  overall_observed: number;
  overall_mean_pred: number;
  oe_ratio: number;
}

export function groupedCalibration(time: ArrayLike<number>, event: ArrayLike<number>, risk: ArrayLike<number>, t: number, groups = 10): CalibrationTable {
  const n = risk.length;
  const breaks = [...new Set(quantile7R(risk, unitSeq(groups)))];
  // cut(risk, breaks, include.lowest = TRUE, labels = FALSE): (b_{k-1}, b_k], the first closed.
  const g = Int32Array.from({ length: n }, (_, i) => {
    const r = risk[i]!;
    if (r === breaks[0]) return 1;
    for (let k = 1; k < breaks.length; k++) if (r <= breaks[k]!) return k;
    return breaks.length - 1;
  });
  const table: CalibrationTable['table'] = { group: [], n: [], mean_pred: [], obs: [], obs_lower: [], obs_upper: [], events_by_t: [], max_time: [] };
  for (const gg of [...new Set(g)].sort((a, b) => a - b)) {
    const idx: number[] = [];
    g.forEach((x, i) => x === gg && idx.push(i));
    const km = kmRiskAt(idx.map((i) => time[i]!), idx.map((i) => event[i]!), t);
    table.group.push(gg);
    table.n.push(idx.length);
    table.mean_pred.push(idx.reduce((s, i) => s + risk[i]!, 0) / idx.length);
    table.obs.push(km.risk);
    table.obs_lower.push(km.lower);
    table.obs_upper.push(km.upper);
    table.events_by_t.push(idx.filter((i) => event[i] === 1 && time[i]! <= t).length);
    table.max_time.push(Math.max(...idx.map((i) => time[i]!)));
  }
  const all = kmRiskAt(time, event, t);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += risk[i]!;
  mean /= n;
  return { time: t, table, overall_observed: all.risk, overall_mean_pred: mean, oe_ratio: all.risk / mean };
}

/** Restricted cubic spline basis (Harrell's rcspline.eval, norm = 2) for knots k. */
function rcsBasis(x: number, k: number[]): number[] {
  const K = k.length;
  const norm = (k[K - 1]! - k[0]!) ** 2;
  const p3 = (u: number) => (u > 0 ? u * u * u : 0);
  const out = [x];
  for (let j = 0; j < K - 2; j++) {
    out.push((p3(x - k[j]!) - (p3(x - k[K - 2]!) * (k[K - 1]! - k[j]!)) / (k[K - 1]! - k[K - 2]!) + (p3(x - k[K - 1]!) * (k[K - 2]! - k[j]!)) / (k[K - 1]! - k[K - 2]!)) / norm);
  }
  return out;
}

export interface SmoothCalibration {
  grid: number[];
  observed: number[];
  ici: number;
  e50: number;
  e90: number;
}

export function smoothedCalibration(time: ArrayLike<number>, event: ArrayLike<number>, risk: ArrayLike<number>, t: number, grid: number[]): SmoothCalibration {
  const clip = (p: number) => Math.min(1 - 1e-12, Math.max(1e-12, p));
  const cll = Float64Array.from(risk, (p) => Math.log(-Math.log(1 - clip(p))));
  const knots = quantile7R(cll, [0.1, 0.5, 0.9]);
  const distinct = new Set(knots).size === knots.length;
  const basis = (c: number) => (distinct ? rcsBasis(c, knots) : [c]);
  const rows = Array.from(cll, basis);
  const columns = rows[0]!.map((_, j) => Float64Array.from(rows, (r) => r[j]!));
  const data = { time: aeqTimes(Float64Array.from(time)), event, columns, names: columns.map((_, j) => `cll${j}`) };
  const fit = fitCox(data, { ties: 'efron' });
  const st = coxBaseline(fit, data)[0]!;
  const k = stepIndex(st.time, t);
  let H = 0;
  for (let i = 0; i <= k; i++) H += st.hazard[i]!;
  const b = fit.coef.map((x) => (Number.isNaN(x) ? 0 : x));
  const center = b.reduce((s, bj, j) => s + bj * fit.means[j]!, 0);
  const observedAt = (c: number) => 1 - Math.exp(-H * Math.exp(basis(c).reduce((s, v, j) => s + b[j]! * v, 0) - center));
  const diffs = Float64Array.from(cll, (c, i) => Math.abs(observedAt(c) - risk[i]!)).sort();
  return {
    grid,
    observed: grid.map((p) => observedAt(Math.log(-Math.log(1 - clip(p))))),
    ici: diffs.reduce((s, v) => s + v, 0) / diffs.length,
    e50: quantile7R(diffs, [0.5])[0]!,
    e90: quantile7R(diffs, [0.9])[0]!,
  };
}

export function treatAll(time: ArrayLike<number>, event: ArrayLike<number>, t: number, thresholds: number[]): { surv: number; netBenefit: number[] } {
  const s = kmRiskAt(time, event, t).surv;
  return { surv: s, netBenefit: thresholds.map((pt) => 1 - s - (s * pt) / (1 - pt)) };
}

export function netBenefit(time: ArrayLike<number>, event: ArrayLike<number>, risk: ArrayLike<number>, t: number, thresholds: number[]): number[] {
  const n = risk.length;
  return thresholds.map((pt) => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (risk[i]! >= pt) idx.push(i);
    if (idx.length === 0) return 0;
    const p = idx.length / n;
    const s = kmRiskAt(idx.map((i) => time[i]!), idx.map((i) => event[i]!), t).surv;
    return p * (1 - s) - (p * s * pt) / (1 - pt);
  });
}
