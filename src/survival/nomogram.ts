/**
 * Cox nomogram as rms::nomogram on an rms::cph fit (survival axes from rms::Survival), as data a report can draw.
 *
 * Exports:
 * - `pretty(lo, hi, n)`: R's pretty() (R_pretty with bounds, min.n = n %/% 3, high.u.bias 1.5).
 * - `quantile7(x, p)`: R's default (type 7) quantile.
 * - `datadistLimits(values)`: rms::datadist limits and values for one numeric column.
 * - `buildNomogram(input)` -> `Nomogram`: points per predictor axis, points per unit, the linear-predictor axis,
 *   survival axes at each time, and a total-points grid mapped to lp and S(t | lp).
 *   Rule: points_k(x) = sc * (beta_k x - min over the axis of beta_k x); sc = maxscale / max_k range_k;
 *   lp = intercept + TP / sc with lp centred as cph (X beta - sum(beta * column means)); S(t | lp) = S0(t)^exp(lp).
 */
import { HccError } from '../util/errors.js';
import { applyTransform, type Term } from './data.js';

const EPS = 2.220446049250313e-16;

/** R's pretty(c(lo, hi), n): equally spaced round values covering the range. */
export function pretty(lo: number, hi: number, n = 5): number[] {
  const minN = Math.floor(n / 3);
  const h = 1.5;
  const h5 = 0.5 + 1.5 * h;
  const roundingEps = 1e-10;
  const dx = hi - lo;
  let cell: number;
  let iSmall: boolean;
  if (dx === 0 && hi === 0) {
    cell = 1;
    iSmall = true;
  } else {
    cell = Math.max(Math.abs(lo), Math.abs(hi));
    const U = (1 + (h5 >= 1.5 * h + 0.5 ? 1 / (1 + h) : 1.5 / (1 + h5))) * Math.max(1, n) * EPS;
    iSmall = dx < cell * U * 3;
  }
  if (iSmall) {
    if (cell > 10) cell = 9 + cell / 10;
    cell *= 0.75;
    if (minN > 1) cell /= minN;
  } else {
    cell = dx;
    if (n > 1) cell /= n;
  }
  const base = Math.pow(10, Math.floor(Math.log10(cell)));
  let unit = base;
  let ns = 2 * base;
  if (ns - cell < h * (cell - unit)) {
    unit = ns;
    ns = 5 * base;
    if (ns - cell < h5 * (cell - unit)) {
      unit = ns;
      ns = 10 * base;
      if (ns - cell < h * (cell - unit)) unit = ns;
    }
  }
  let nsI = Math.floor(lo / unit + roundingEps);
  let nuI = Math.ceil(hi / unit - roundingEps);
  while (nsI * unit > lo + roundingEps * unit) nsI--;
  while (nuI * unit < hi - roundingEps * unit) nuI++;
  let k = Math.floor(0.5 + nuI - nsI);
  let ndiv: number;
  if (k < minN) {
    k = minN - k;
    if (nsI >= 0) {
      nuI += Math.floor(k / 2);
      nsI -= Math.floor(k / 2) + (k % 2);
    } else {
      nsI -= Math.floor(k / 2);
      nuI += Math.floor(k / 2) + (k % 2);
    }
    ndiv = minN;
  } else ndiv = k;
  const l = Math.min(nsI * unit, lo);
  const u = Math.max(nuI * unit, hi);
  const out: number[] = [];
  for (let i = 0; i <= ndiv; i++) out.push(i === ndiv ? u : l + (i * (u - l)) / ndiv);
  const delta = (u - l) / ndiv;
  return out.map((s) => (Math.abs(s) < 1e-14 * delta ? 0 : s));
}

export function quantile7(values: ArrayLike<number>, p: number): number {
  const x = Array.from(values).sort((a, b) => a - b);
  const h = (x.length - 1) * p;
  const lo = Math.floor(h + 4 * EPS);
  const frac = h - lo;
  return frac <= 0 ? x[lo]! : x[lo]! + frac * (x[lo + 1]! - x[lo]!);
}

export interface DatadistEntry {
  /** Low:effect, Adjust to, High:effect, Low:prediction, High:prediction, Low, High. */
  limits: (number | string | null)[];
  /** Distinct values when there are at most 10 (rms then draws the axis at them). */
  values: number[] | string[] | null;
}

export function datadistNumeric(y: ArrayLike<number>): DatadistEntry {
  const values = [...new Set(Array.from(y))].sort((a, b) => a - b);
  const nu = values.length;
  const n = y.length;
  if (nu < 2) return { limits: new Array(7).fill(values[0] ?? null), values };
  const r: [number, number] = [values[0]!, values[nu - 1]!];
  const lim: (number | null)[] = [null, null, null, null, null, r[0], r[1]];
  const qd = 10 / Math.max(n, 200);
  let q = nu < 4 ? r : [quantile7(y, qd), quantile7(y, 1 - qd)];
  lim[3] = q[0]!;
  lim[4] = q[1]!;
  if (lim[3] === lim[4]) [lim[3], lim[4]] = r;
  lim[1] = nu < 3 ? values[0]! : nu === 3 ? values[1]! : quantile7(y, 0.5);
  q = nu < 4 ? r : [quantile7(y, 0.25), quantile7(y, 0.75)];
  lim[0] = q[0]!;
  lim[2] = q[1]!;
  if (lim[0] === lim[2]) [lim[0], lim[2]] = r;
  return { limits: lim, values: nu > 10 ? null : values };
}

export function datadistFactor(levels: string[], codes: ArrayLike<number>): DatadistEntry {
  const counts = levels.map((_, k) => Array.from(codes).filter((c) => c === k).length);
  const mode = levels[counts.indexOf(Math.max(...counts))]!;
  return { limits: [null, mode, null, levels[0]!, levels[levels.length - 1]!, levels[0]!, levels[levels.length - 1]!], values: levels };
}

export interface NomogramPredictor {
  /** The variable (rms names a transformed term by its variable: log(bili) -> bili). */
  variable: string;
  term: Term;
  /** Coefficient names in rms style ("sex=2" for factor levels) and values. */
  coefNames: string[];
  coefs: number[];
  /** Factor levels (reference first), or undefined for numeric. */
  levels?: string[];
  /** Axis values: given, the distinct values (<= 10), or pretty() of the data range. */
  axis: number[] | string[];
}

export interface NomogramInput {
  predictors: NomogramPredictor[];
  /** sum(beta * column means): cph's centring. */
  center: number;
  /** Centred linear predictors of the fitted rows (for the lp axis range). */
  linearPredictors: ArrayLike<number>;
  times: number[];
  /** S0(t) at lp = 0 as rms::Survival: step function over c(0, event times[, last time]). */
  baseline: { time: number[]; surv: number[] };
  maxscale?: number;
  nint?: number;
  pointsStep?: number;
}

export interface NomogramAxis {
  variable: string;
  values: number[] | string[];
  xbeta: number[];
  points: number[];
}

export interface Nomogram {
  sc: number;
  intercept: number;
  axes: Record<string, NomogramAxis>;
  pointsPerUnit: Record<string, number>;
  lpAxis: { points: number[]; lp: number[] };
  survivalAxes: Record<string, { points: number[]; value: number[] }>;
  totalPointsGrid: { points: number[]; lp: number[]; surv: Record<string, number[]> };
  baselineSurvivalAtLp0: number[];
  survival(t: number, lp: number): number;
}

/** rms::Survival(cph)(t, lp). */
export function survivalAt(baseline: { time: number[]; surv: number[] }, t: number, lp: number): number {
  let tm = -1;
  for (let i = 0; i < baseline.time.length; i++) if (baseline.time[i]! <= t + 1e-6) tm = i;
  if (t > Math.max(...baseline.time) + 1e-6 || tm < 0) return NaN;
  return Math.pow(baseline.surv[tm]!, Math.exp(lp));
}

/** approx(x, y, xout, ties = mean), linear, NA outside the range of x. */
function approxInverse(x: number[], y: number[], xout: number): number {
  const groups = new Map<number, number[]>();
  x.forEach((xi, i) => {
    if (Number.isNaN(xi)) return;
    if (!groups.has(xi)) groups.set(xi, []);
    groups.get(xi)!.push(y[i]!);
  });
  const xs = [...groups.keys()].sort((a, b) => a - b);
  const ys = xs.map((v) => {
    const g = groups.get(v)!;
    return g.reduce((a, b) => a + b, 0) / g.length;
  });
  if (xs.length === 0 || xout < xs[0]! || xout > xs[xs.length - 1]!) return NaN;
  let k = 0;
  while (k < xs.length - 1 && xs[k + 1]! < xout) k++;
  if (xs[k] === xout || k === xs.length - 1) return ys[k]!;
  return ys[k]! + ((ys[k + 1]! - ys[k]!) * (xout - xs[k]!)) / (xs[k + 1]! - xs[k]!);
}

export function buildNomogram(input: NomogramInput): Nomogram {
  const maxscale = input.maxscale ?? 100;
  const nint = input.nint ?? 10;
  const axes: Record<string, NomogramAxis> = {};
  const ranges: number[] = [];
  let minSum = 0;
  for (const p of input.predictors) {
    const xbeta = (p.axis as (number | string)[]).map((a) => {
      if (p.levels) {
        const k = p.levels.indexOf(String(a));
        if (k < 0) throw new HccError(`nomogram: '${a}' is not a level of '${p.variable}'`);
        return k === 0 ? 0 : p.coefs[k - 1]!;
      }
      return p.coefs[0]! * applyTransform(p.term.kind, Number(a));
    });
    if (xbeta.some((x) => !Number.isFinite(x))) {
      throw new HccError(`nomogram: the axis of '${p.variable}' reaches an infinite value (${p.term.label}); give its values with --axis-${p.variable}=v1,v2,...`);
    }
    const lo = Math.min(...xbeta);
    ranges.push(Math.max(...xbeta) - lo);
    minSum += lo;
    axes[p.variable] = { variable: p.variable, values: p.axis, xbeta, points: [] };
  }
  const sc = maxscale / Math.max(...ranges);
  const intercept = -input.center + minSum;
  for (const a of Object.values(axes)) {
    const lo = Math.min(...a.xbeta);
    a.points = a.xbeta.map((x) => (x - lo) * sc);
  }
  const pointsPerUnit: Record<string, number> = {};
  for (const p of input.predictors) if (!p.levels) pointsPerUnit[p.variable] = Math.abs(p.coefs[0]!) * sc;
  const lpv = Array.from(input.linearPredictors);
  const lpAt = pretty(Math.min(...lpv), Math.max(...lpv), nint);
  const S = (t: number, lp: number) => survivalAt(input.baseline, t, lp);
  const survivalAxes: Nomogram['survivalAxes'] = {};
  const lpMin = Math.min(...lpAt);
  const lpMax = Math.max(...lpAt);
  const xseq = Array.from({ length: 1000 }, (_, i) => (i === 999 ? lpMax : lpMin + (i * (lpMax - lpMin)) / 999));
  for (const t of input.times) {
    const ends = [S(t, lpMin), S(t, lpMax)].filter((v) => !Number.isNaN(v));
    const fat = ends.length === 0 ? [] : pretty(Math.min(...ends), Math.max(...ends), nint);
    const fu = xseq.map((x) => S(t, x));
    const pts: number[] = [];
    const vals: number[] = [];
    for (const f of fat) {
      const w = approxInverse(fu, xseq, f);
      if (Number.isNaN(w)) continue;
      pts.push((w - intercept) * sc);
      vals.push(f);
    }
    survivalAxes[`surv_${t}`] = { points: pts, value: vals };
  }
  const tpMax = Object.values(axes).reduce((s, a) => s + Math.max(...a.points), 0);
  const step = input.pointsStep ?? 10;
  const grid: number[] = [];
  for (let k = 0; k * step <= Math.ceil(tpMax) + 1e-9; k++) grid.push(k * step);
  const lpGrid = grid.map((tp) => intercept + tp / sc);
  return {
    sc,
    intercept,
    axes,
    pointsPerUnit,
    lpAxis: { points: lpAt.map((l) => (l - intercept) * sc), lp: lpAt },
    survivalAxes,
    totalPointsGrid: { points: grid, lp: lpGrid, surv: Object.fromEntries(input.times.map((t) => [`surv_${t}`, lpGrid.map((l) => S(t, l))])) },
    baselineSurvivalAtLp0: input.times.map((t) => S(t, 0)),
    survival: S,
  };
}
