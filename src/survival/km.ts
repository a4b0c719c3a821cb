/**
 * Kaplan-Meier as survival::survfit (Greenwood variance, log / log-log / plain intervals, Nelson-Aalen hazard),
 * with the medians, quantiles, restricted means and at-time summaries of print/summary/quantile.survfit.
 *
 * Exports:
 * - `kaplanMeier(time, event, weights?) -> KmCurve`: one row per distinct observed time (censor-only times
 *   included): n_risk, n_event, n_censor, surv, se_log_surv (Greenwood sigma), cumhaz (Nelson-Aalen), se_cumhaz.
 * - `ConfType` = 'log' | 'log-log' | 'plain'; `kmConfInt(curve, type, level)` -> {lower, upper} (survfit_confint).
 * - `kmMedian(curve, lower, upper)`: print.survfit's median and its CI (first time the curve / band is < 0.5,
 *   midpoint on a flat at exactly 0.5).
 * - `kmQuantiles(curve, probs, lower, upper)`: quantile.survfit.
 * - `kmRmean(curve, endTime, startTime)`: restricted mean and its se as print.survfit's rmean.
 * - `kmAtTimes(curve, times, lower, upper, prevTime?)`: summary.survfit(times, extend = TRUE).
 */
import { Z975, qnorm } from './distributions.js';

export interface KmCurve {
  time: number[];
  n_risk: number[];
  n_event: number[];
  n_censor: number[];
  surv: number[];
  /** Greenwood: se of log S (survfit's std.err). */
  se_log_surv: number[];
  cumhaz: number[];
  se_cumhaz: number[];
}

export function kaplanMeier(time: ArrayLike<number>, event: ArrayLike<number>, weights?: ArrayLike<number>): KmCurve {
  const n = time.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]!);
  const c: KmCurve = { time: [], n_risk: [], n_event: [], n_censor: [], surv: [], se_log_surv: [], cumhaz: [], se_cumhaz: [] };
  let total = 0;
  for (let i = 0; i < n; i++) total += weights ? weights[i]! : 1;
  let atRisk = total;
  let s = 1;
  let g = 0;
  let h = 0;
  let vh = 0;
  for (let k = 0; k < n; ) {
    const t = time[order[k]!]!;
    let d = 0;
    let cens = 0;
    let j = k;
    for (; j < n && time[order[j]!] === t; j++) {
      const w = weights ? weights[order[j]!]! : 1;
      if (event[order[j]!] === 1) d += w;
      else cens += w;
    }
    if (d > 0) {
      s *= (atRisk - d) / atRisk;
      g += atRisk > d ? d / (atRisk * (atRisk - d)) : Infinity;
      h += d / atRisk;
      vh += d / (atRisk * atRisk);
    }
    c.time.push(t);
    c.n_risk.push(atRisk);
    c.n_event.push(d);
    c.n_censor.push(cens);
    c.surv.push(s);
    c.se_log_surv.push(Math.sqrt(g));
    c.cumhaz.push(h);
    c.se_cumhaz.push(Math.sqrt(vh));
    atRisk -= d + cens;
    k = j;
  }
  return c;
}

export type ConfType = 'log' | 'log-log' | 'plain';

/** survfit_confint with logse = TRUE. */
export function confInt(p: number, se: number, type: ConfType, level = 0.95): [number, number] {
  const z = level === 0.95 ? Z975 : qnorm(1 - (1 - level) / 2);
  if (type === 'plain') {
    const se2 = se * p * z;
    return [Math.max(p - se2, 0), Math.min(p + se2, 1)];
  }
  if (type === 'log') {
    if (se === 0) return [p, p];
    if (p === 0 || !Number.isFinite(se)) return [NaN, NaN];
    return [Math.exp(Math.log(p) - z * se), Math.min(Math.exp(Math.log(p) + z * se), 1)];
  }
  if (se === 0) return [p, p];
  if (p === 0 || p === 1 || !Number.isFinite(se)) return [NaN, NaN];
  const se2 = (z * se) / Math.log(p);
  return [Math.exp(-Math.exp(Math.log(-Math.log(p)) - se2)), Math.exp(-Math.exp(Math.log(-Math.log(p)) + se2))];
}

export function kmConfInt(curve: KmCurve, type: ConfType, level = 0.95): { lower: number[]; upper: number[] } {
  const lower: number[] = [];
  const upper: number[] = [];
  curve.surv.forEach((p, k) => {
    const [l, u] = confInt(p, curve.se_log_surv[k]!, type, level);
    lower.push(l);
    upper.push(u);
  });
  return { lower, upper };
}

const TOL = Math.sqrt(2.220446049250313e-16);

/** print.survfit's minmin: first x whose y < 0.5 (midpoint when y is 0.5 within tolerance). */
function minmin(y: number[], x: number[]): number {
  const keep = y.map((v, i) => (!Number.isNaN(v) && v < 0.5 + TOL ? i : -1)).filter((i) => i >= 0);
  if (keep.length === 0) return NaN;
  const yy = keep.map((i) => y[i]!);
  const xx = keep.map((i) => x[i]!);
  if (Math.abs(yy[0]! - 0.5) < TOL) {
    const k = yy.findIndex((v) => v < yy[0]!);
    if (k >= 0) return (xx[0]! + xx[k]!) / 2;
  }
  return xx[0]!;
}

export function kmMedian(curve: KmCurve, lower: number[], upper: number[]): { median: number; lower: number; upper: number } {
  return { median: minmin(curve.surv, curve.time), lower: minmin(lower, curve.time), upper: minmin(upper, curve.time) };
}

/** quantile.survfit's findq on x = c(0, time), y = c(0, 1 - curve). */
function findq(x: number[], y: number[], probs: number[]): number[] {
  const pairs = x.map((xi, i) => [xi, y[i]!] as [number, number]);
  const ymax = Math.max(...y.filter((v) => !Number.isNaN(v)));
  if (ymax < Math.min(...probs)) return probs.map(() => NaN);
  const xmax = x[x.length - 1]!;
  const seen = new Set<number>();
  const kept = pairs.filter(([, yi]) => {
    const key = Number.isNaN(yi) ? NaN : yi;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const xs = kept.map((p) => p[0]);
  const ys = kept.map((p) => p[1]);
  const n = ys.length;
  // approx(v, 1:n, p, "constant", f = 1) over the non-missing points: smallest k with v[k] >= p.
  const idx = (shift: number, p: number): number => {
    const valid = ys.map((v, i) => (Number.isNaN(v) ? -1 : i)).filter((i) => i >= 0);
    const v = valid.map((i) => ys[i]! + shift);
    if (v.length === 0 || p < v[0]! || p > v[v.length - 1]!) return -1;
    const k = v.findIndex((vi) => vi >= p);
    return valid[k]!;
  };
  return probs.map((p) => {
    if (p === 0) return xs[0]!;
    const i1 = idx(TOL, p);
    const i2 = idx(-TOL, p);
    let q = i1 < 0 || i2 < 0 ? NaN : (xs[i1]! + xs[i2]!) / 2;
    const yl = ys[n - 1]!;
    if (!Number.isNaN(yl) && Math.abs(p - yl) < TOL) q = i1 < 0 ? NaN : (xs[i1]! + xmax) / 2;
    return q;
  });
}

export function kmQuantiles(curve: KmCurve, probs: number[], lower: number[], upper: number[]): { quantile: number[]; lower: number[]; upper: number[] } {
  const x = [0, ...curve.time];
  return {
    quantile: findq(x, [0, ...curve.surv.map((s) => 1 - s)], probs),
    lower: findq(x, [0, ...lower.map((s) => 1 - s)], probs),
    upper: findq(x, [0, ...upper.map((s) => 1 - s)], probs),
  };
}

/** Restricted mean survival to endTime with its se (print.survfit / survmean). */
export function kmRmean(curve: KmCurve, endTime: number, startTime = Math.min(0, ...curve.time)): { rmean: number; se: number } {
  const hh = curve.n_risk.map((r, k) => (r - curve.n_event[k]! === 0 ? 0 : curve.n_event[k]! / (r * (r - curve.n_event[k]!))));
  const keep = curve.time.map((t, k) => (t <= endTime ? k : -1)).filter((k) => k >= 0);
  let tt: number[];
  let ss: number[];
  let h: number[];
  if (keep.length === 0) {
    tt = [endTime];
    ss = [1];
    h = [0];
  } else {
    tt = [...keep.map((k) => curve.time[k]!), endTime];
    ss = [...keep.map((k) => curve.surv[k]!), curve.surv[keep[keep.length - 1]!]!];
    h = [...keep.map((k) => hh[k]!), 0];
  }
  const rect = tt.map((t, k) => (t - (k === 0 ? startTime : tt[k - 1]!)) * (k === 0 ? 1 : ss[k - 1]!));
  const mean = rect.reduce((a, b) => a + b, 0);
  // varmean = sum(cumsum(rev(rectangles[-1]))^2 * rev(hh)[-1])
  const r1 = rect.slice(1).reverse();
  const hr = [...h].reverse().slice(1);
  let cum = 0;
  let v = 0;
  r1.forEach((r, k) => {
    cum += r;
    v += cum * cum * hr[k]!;
  });
  return { rmean: mean, se: Math.sqrt(v) };
}

export interface KmAtTimes {
  time: number[];
  n_risk: number[];
  n_event_interval: number[];
  n_censor_interval: number[];
  surv: number[];
  se_surv: number[];
  lower: number[];
  upper: number[];
}

/** summary.survfit(fit, times, extend = TRUE) for one curve. */
export function kmAtTimes(curve: KmCurve, times: number[], lower: number[], upper: number[]): KmAtTimes {
  const out: KmAtTimes = { time: [], n_risk: [], n_event_interval: [], n_censor_interval: [], surv: [], se_surv: [], lower: [], upper: [] };
  const sorted = [...times].sort((a, b) => a - b);
  let prev = -Infinity;
  for (const t of sorted) {
    let k = -1;
    for (let i = 0; i < curve.time.length && curve.time[i]! <= t; i++) k = i;
    const next = curve.time.findIndex((x) => x >= t);
    out.time.push(t);
    out.n_risk.push(next < 0 ? 0 : curve.n_risk[next]!);
    let ev = 0;
    let ce = 0;
    curve.time.forEach((x, i) => {
      if (x > prev && x <= t) {
        ev += curve.n_event[i]!;
        ce += curve.n_censor[i]!;
      }
    });
    out.n_event_interval.push(ev);
    out.n_censor_interval.push(ce);
    if (k < 0) {
      out.surv.push(1);
      out.se_surv.push(0);
      out.lower.push(1);
      out.upper.push(1);
    } else {
      out.surv.push(curve.surv[k]!);
      out.se_surv.push(curve.surv[k]! * curve.se_log_surv[k]!);
      out.lower.push(lower[k]!);
      out.upper.push(upper[k]!);
    }
    prev = t;
  }
  return out;
}
