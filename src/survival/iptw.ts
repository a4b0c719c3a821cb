/**
 * Inverse probability of treatment weighting for a binary treatment (TACE vs HAIC was not randomised):
 * a logistic propensity model, ATE or ATT weights (stabilised by the marginal treatment probability for ATE),
 * optional trimming of the propensity at percentiles, balance (standardised mean differences before and after
 * weighting, pooled-variance denominator from the unweighted groups as in cobalt/tableone), overlap summaries,
 * and the weighted outcome analyses (Kaplan-Meier per arm, log-rank, Cox with the robust sandwich SE).
 *
 * Exports:
 * - `IptwOptions` {estimand: 'ATE'|'ATT', stabilized, trim?: [lo, hi] percentiles of the propensity}.
 * - `iptwWeights(ps, treated, opts)` -> {weights, trimmedBounds}.
 * - `smd(x, treated, weights?)`: standardised mean difference of one covariate column.
 * - `overlap(ps, treated)`: min / quartiles / max of the propensity per arm and the common-support range.
 */
import { HccError } from '../util/errors.js';

export type Estimand = 'ATE' | 'ATT';

export interface IptwOptions {
  estimand?: Estimand;
  stabilized?: boolean;
  /** Propensity percentiles (0-1) outside which the propensity is truncated, e.g. [0.01, 0.99]. */
  trim?: [number, number];
}

function quantile7(values: ArrayLike<number>, p: number): number {
  const x = Array.from(values).sort((a, b) => a - b);
  const h = (x.length - 1) * p;
  const lo = Math.floor(h);
  return x[lo]! + (h - lo) * ((x[Math.min(lo + 1, x.length - 1)] ?? x[lo]!) - x[lo]!);
}

export function iptwWeights(ps: ArrayLike<number>, treated: ArrayLike<number>, opts: IptwOptions = {}): { weights: Float64Array; ps: Float64Array; bounds: [number, number] | null } {
  const n = ps.length;
  let e = Float64Array.from(ps as ArrayLike<number>);
  let bounds: [number, number] | null = null;
  if (opts.trim) {
    const [lo, hi] = opts.trim;
    if (!(lo >= 0 && hi <= 1 && lo < hi)) throw new HccError(`IPTW trim: expected two percentiles 0 <= lo < hi <= 1, got ${lo}, ${hi}`);
    bounds = [quantile7(e, lo), quantile7(e, hi)];
    e = e.map((v) => Math.min(Math.max(v, bounds![0]), bounds![1]));
  }
  let nt = 0;
  for (let i = 0; i < n; i++) nt += treated[i]!;
  if (nt === 0 || nt === n) throw new HccError('IPTW: the treatment column has a single arm over the used rows');
  const pt = nt / n;
  const estimand = opts.estimand ?? 'ATE';
  const stab = opts.stabilized ?? true;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = treated[i] === 1;
    if (!(e[i]! > 0 && e[i]! < 1)) throw new HccError(`IPTW: propensity ${e[i]} of row ${i + 1} is 0 or 1 (no overlap); trim the propensity`);
    if (estimand === 'ATE') w[i] = t ? (stab ? pt : 1) / e[i]! : (stab ? 1 - pt : 1) / (1 - e[i]!);
    else w[i] = t ? 1 : e[i]! / (1 - e[i]!);
  }
  return { weights: w, ps: e, bounds };
}

function wMeanVar(x: ArrayLike<number>, idx: number[], w?: ArrayLike<number>): { mean: number; variance: number } {
  let sw = 0;
  let s = 0;
  for (const i of idx) {
    const wi = w ? w[i]! : 1;
    sw += wi;
    s += wi * x[i]!;
  }
  const mean = s / sw;
  let v = 0;
  for (const i of idx) v += (w ? w[i]! : 1) * (x[i]! - mean) ** 2;
  return { mean, variance: v / sw };
}

/** SMD = (mean_t - mean_c) / sqrt((var_t + var_c) / 2), variances from the unweighted arms. */
export function smd(x: ArrayLike<number>, treated: ArrayLike<number>, weights?: ArrayLike<number>): number {
  const t: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < x.length; i++) (treated[i] === 1 ? t : c).push(i);
  const sd = Math.sqrt((wMeanVar(x, t).variance + wMeanVar(x, c).variance) / 2);
  return (wMeanVar(x, t, weights).mean - wMeanVar(x, c, weights).mean) / sd;
}

export function overlap(ps: ArrayLike<number>, treated: ArrayLike<number>): { arm: string[]; min: number[]; q25: number[]; median: number[]; q75: number[]; max: number[]; common_support: [number, number] } {
  const arms = [0, 1].map((a) => Array.from(ps).filter((_, i) => treated[i] === a));
  const q = (v: number[], p: number) => quantile7(v, p);
  return {
    arm: ['control', 'treated'],
    min: arms.map((v) => Math.min(...v)),
    q25: arms.map((v) => q(v, 0.25)),
    median: arms.map((v) => q(v, 0.5)),
    q75: arms.map((v) => q(v, 0.75)),
    max: arms.map((v) => Math.max(...v)),
    common_support: [Math.max(Math.min(...arms[0]!), Math.min(...arms[1]!)), Math.min(Math.max(...arms[0]!), Math.max(...arms[1]!))],
  };
}
