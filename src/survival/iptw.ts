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
import { fitCox } from './cox.js';
import { kaplanMeier, kmAtTimes, kmConfInt } from './km.js';
import { fitLogistic, predictLogistic } from './logistic.js';
import { survdiff } from './logrank.js';

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

export interface IptwInput {
  time: ArrayLike<number>;
  event: ArrayLike<number>;
  /** 1 for the treated arm (the second level), 0 for the reference arm. */
  treated: Uint8Array;
  /** Propensity-model covariates, column-major. */
  covariates: Float64Array[];
  names: string[];
  /** The two treatment levels, reference first (e.g. ['TACE', 'HAIC']). */
  levels: string[];
  treatment: string;
}

/**
 * The whole IPTW analysis a reviewer asks for: the propensity model, weights, balance before and after, overlap,
 * weighted Kaplan-Meier per arm, weighted log-rank and the weighted Cox HR with its robust SE.
 */
export function iptwAnalysis(input: IptwInput, opts: IptwOptions & { times?: number[] } = {}) {
  const estimand = opts.estimand ?? 'ATE';
  const stabilized = opts.stabilized ?? true;
  const { treated } = input;
  const n = input.time.length;
  const rows = Array.from({ length: n }, (_, i) => input.covariates.map((c) => c[i]!));
  const ps0 = fitLogistic(rows, treated, { names: input.names });
  const { weights, ps, bounds } = iptwWeights(predictLogistic(ps0, rows), treated, { estimand, stabilized, trim: opts.trim });
  const balance = {
    covariate: input.names,
    smd_before: input.covariates.map((c) => smd(c, treated)),
    smd_after: input.covariates.map((c) => smd(c, treated, weights)),
  };
  const times = opts.times;
  const arms = [0, 1].map((a) => {
    const idx = Array.from({ length: n }, (_, i) => i).filter((i) => treated[i] === a);
    const curve = kaplanMeier(idx.map((i) => input.time[i]!), idx.map((i) => input.event[i]!), idx.map((i) => weights[i]!));
    const ci = kmConfInt(curve, 'log');
    return { arm: `${input.treatment}=${input.levels[a]}`, time: curve.time, n_risk: curve.n_risk, n_event: curve.n_event, surv: curve.surv, lower: ci.lower, upper: ci.upper, ...(times ? { at_times: kmAtTimes(curve, times, ci.lower, ci.upper) } : {}) };
  });
  const lr = survdiff(input.time, input.event, treated, 2, { weights });
  const cox = fitCox({ time: input.time, event: input.event, columns: [Float64Array.from(treated)], names: [`${input.treatment}${input.levels[1]}`], weights }, { ties: 'efron', robust: true });
  const wsum = (a: number) => weights.reduce((s, w, i) => s + (treated[i] === a ? w : 0), 0);
  return {
    treatment: input.treatment,
    levels: input.levels,
    estimand,
    stabilized,
    propensity_model: { term: ['(Intercept)', ...input.names], coef: ps0.coefficients, se: ps0.se, converged: ps0.converged, separation: ps0.separation },
    trim_bounds: bounds,
    weights_summary: { arm: input.levels, n: [0, 1].map((a) => treated.filter((t) => t === a).length), sum: [wsum(0), wsum(1)], min: Math.min(...weights), max: Math.max(...weights), effective_n: [0, 1].map((a) => { const w = Array.from(weights).filter((_, i) => treated[i] === a); return w.reduce((s, x) => s + x, 0) ** 2 / w.reduce((s, x) => s + x * x, 0); }) },
    balance,
    overlap: overlap(ps, treated),
    weighted_km: arms,
    weighted_logrank: { observed: lr.observed, expected: lr.expected, chisq: lr.chisq, df: lr.df, p: lr.p, note: 'survdiff with case weights in the risk sets; a descriptive test (the weights are treated as known)' },
    weighted_cox: { term: cox.names, coef: cox.coef, robust_se: cox.se, naive_se: cox.naiveSe, hr: cox.hr, hr_lower: cox.hrLower, hr_upper: cox.hrUpper, p: cox.p, note: 'coxph(Surv ~ treatment, weights = w, robust = TRUE): HR with the sandwich SE' },
  };
}
