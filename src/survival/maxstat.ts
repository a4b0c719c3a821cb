/**
 * Maximally selected log-rank statistic for a cut-point of a continuous score, as maxstat::maxstat.test(Surv ~ x,
 * smethod = "LogRank") (Hothorn & Lausen 2003): log-rank scores a_i (exactRankTests::cscores.Surv), and for each
 * cut mu between the minprop and maxprop quantiles the standardized statistic |S_mu - E| / sqrt(V) with
 * S_mu = sum of scores with x <= mu and its permutation mean and variance. M = max over cuts; the cut-point is
 * the first maximiser (low group: x <= cut).
 *
 * p-values adjusted for the search:
 * - `pLausen92(M, minprop, maxprop)`: Lausen & Schumacher 1992 (Brownian-bridge approximation);
 * - `pLausen94(M, N, m)`: Lausen, Sauerbrei & Schumacher 1994 (improved Bonferroni bound over the cuts);
 * - `pExactGauss(M, m, N, {seed, maxPoints})`: 1 - P(max |Z_k| < M) for the Gaussian limit of the standardized
 *   statistics, whose correlations corr(k, l) = sqrt(m_k (N - m_l) / ((N - m_k) m_l)) make it a Markov chain;
 *   computed by Genz's separation-of-variables integral with randomized Richtmyer lattice points (quasi-Monte
 *   Carlo like mvtnorm::pmvnorm, seeded with src/util/rng.ts), returning the estimate and its standard error.
 *   Like R's, it estimates 1 - P(inside) and cannot resolve p-values much below 1e-10: the rare paths that reach
 *   the boundary are never sampled, and 1 - P rounds to 0 (R's fixtures show 0 there too). Use Lau94 there.
 *
 * - `pCondMC(result, B, seed)`: the conditional Monte-Carlo (permutation) p-value, seeded.
 *
 * Exports: `logrankScores(time, event)`, `maxstatTest(time, event, x, opts)` -> {statistic, cutpoint, cuts,
 * stats, m, n, scores}, `pLausen92`, `pLausen94`, `pExactGauss`, `pCondMC`.
 */
import { Rng } from '../util/rng.js';
import { pnorm, qnorm } from './distributions.js';

/** exactRankTests::cscores.Surv(type = "LogRank"), ties as irank (the number of observations <= t). */
export function logrankScores(time: ArrayLike<number>, event: ArrayLike<number>): Float64Array {
  const n = time.length;
  const ot = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]! || a - b);
  const rank = new Int32Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n - 1 && time[ot[j]!] === time[ot[j + 1]!]) j++;
    for (let k = i; k <= j; k++) rank[ot[k]!] = j + 1;
    i = j + 1;
  }
  const cum = new Float64Array(n);
  let c = 0;
  for (let k = 0; k < n; k++) {
    const i = ot[k]!;
    c += event[i]! / (n - rank[i]! + 1);
    cum[k] = c;
  }
  return Float64Array.from({ length: n }, (_, i) => event[i]! - cum[rank[i]! - 1]!);
}

export interface MaxstatResult {
  statistic: number;
  cutpoint: number;
  /** Candidate cuts (x values closing the low group) and their standardized statistics. */
  cuts: number[];
  stats: number[];
  /** Low-group sizes of the candidate cuts. */
  m: number[];
  n: number;
  /** Log-rank scores in the order of the sorted score (for the permutation p-value). */
  scores: Float64Array;
}

export function maxstatTest(time: ArrayLike<number>, event: ArrayLike<number>, x: ArrayLike<number>, opts: { minprop?: number; maxprop?: number } = {}): MaxstatResult {
  const minprop = opts.minprop ?? 0.1;
  const maxprop = opts.maxprop ?? 1 - minprop;
  const n = x.length;
  const scores = logrankScores(time, event);
  const ox = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  const xs = Float64Array.from(ox, (i) => x[i]!);
  const y = Float64Array.from(ox, (i) => scores[i]!);
  let m: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || xs[i] !== xs[i - 1]) m.push(i);
  if (minprop === 0 && maxprop === 1) m = m.slice(1, m.length - 1);
  else {
    const lo = Math.floor(n * minprop);
    const hi = Math.floor(n * maxprop);
    if (m.every((k) => k < lo)) throw new RangeError('maxstat: minprop too large (too few distinct score values)');
    if (m.every((k) => k > hi)) throw new RangeError('maxstat: maxprop too small');
    m = m.filter((k) => k >= Math.max(1, lo) && k <= hi);
  }
  if (m.length < 1) throw new RangeError('maxstat: no cut-point between minprop and maxprop (too few distinct score values)');
  let ss = 0;
  let ss2 = 0;
  for (const v of y) {
    ss += v;
    ss2 += v * v;
  }
  const cum = new Float64Array(n);
  let c = 0;
  y.forEach((v, i) => (cum[i] = c += v));
  const stats = m.map((k) => {
    const E = (k / n) * ss;
    const V = ((k * (n - k)) / (n * n * (n - 1))) * (n * ss2 - ss * ss);
    return Math.abs((cum[k - 1]! - E) / Math.sqrt(V));
  });
  const statistic = Math.max(...stats);
  const cuts = m.map((k) => xs[k - 1]!);
  return { statistic, cutpoint: cuts[stats.indexOf(statistic)]!, cuts, stats, m, n, scores: y };
}

const dnorm = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

export function pLausen92(b: number, minprop = 0.1, maxprop = 0.9): number {
  if (b < 1) return 1;
  const db = dnorm(b);
  const p = (4 * db) / b + db * (b - 1 / b) * Math.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop));
  return Math.max(p, 0);
}

export function pLausen94(b: number, n: number, m: number[]): number {
  let D = 0;
  for (let k = 0; k + 1 < m.length; k++) {
    const m1 = m[k]!;
    const m2 = m[k + 1]!;
    const t = Math.sqrt(1 - (m1 * (n - m2)) / ((n - m1) * m2));
    D += (1 / Math.PI) * Math.exp((-b * b) / 2) * (t - ((b * b) / 4 - 1) * (t * t * t) / 6);
  }
  return 1 - (pnorm(b) - pnorm(-b)) + D;
}

function primes(count: number): number[] {
  const out: number[] = [];
  for (let k = 2; out.length < count; k++) if (out.every((p) => p * p > k || k % p !== 0)) out.push(k);
  return out;
}

/**
 * 1 - P(|Z_k| < b for all k) for the standardized statistics at cuts m (Markov correlation), by randomized
 * quasi-Monte Carlo (Genz 1992). Points grow until the standard error is below `relTol` of the p-value or the
 * work budget (points x cuts, default 4e6) is spent; `error` is the standard error over the random shifts.
 */
export function pExactGauss(b: number, m: number[], n: number, opts: { seed?: number; maxPoints?: number; relTol?: number } = {}): { p: number; error: number } {
  const K = m.length;
  if (K === 1) return { p: 2 * pnorm(-b), error: 0 };
  // Z_{k+1} = rho_k Z_k + sqrt(1 - rho_k^2) e_k.
  const rho = Float64Array.from({ length: K - 1 }, (_, k) => Math.sqrt((m[k]! * (n - m[k + 1]!)) / ((n - m[k]!) * m[k + 1]!)));
  const sig = rho.map((r) => Math.sqrt(1 - r * r));
  const q = Float64Array.from(primes(K - 1), (p) => Math.sqrt(p) % 1);
  const rng = Rng.stream(opts.seed ?? 20250101, 'maxstat-exactGauss');
  const shifts = 12;
  const maxPoints = opts.maxPoints ?? Math.max(12000, Math.ceil(4e6 / K));
  const relTol = opts.relTol ?? 1e-3;
  const e1 = pnorm(b) - pnorm(-b);
  let perShift = 500;
  const sums = new Float64Array(shifts);
  let done = 0;
  for (;;) {
    for (let s = 0; s < shifts; s++) {
      const u = Float64Array.from(q, () => rng.uniform());
      let acc = 0;
      for (let i = done + 1; i <= done + perShift; i++) {
        let f = e1;
        let z = qnorm(pnorm(-b) + baker((i * q[0]! + u[0]!) % 1) * e1);
        for (let k = 0; k < K - 1 && f > 0; k++) {
          const a = pnorm((-b - rho[k]! * z) / sig[k]!);
          const c = pnorm((b - rho[k]! * z) / sig[k]!);
          f *= c - a;
          if (k + 1 < K - 1) {
            const w = baker((i * q[k + 1]! + u[k + 1]!) % 1);
            z = rho[k]! * z + sig[k]! * qnorm(Math.min(1 - 1e-16, Math.max(1e-300, a + w * (c - a))));
          }
        }
        acc += 1 - f;
      }
      sums[s] += acc;
    }
    done += perShift;
    const means = Array.from(sums, (v) => v / done);
    const p = means.reduce((a, v) => a + v, 0) / shifts;
    const se = Math.sqrt(means.reduce((a, v) => a + (v - p) ** 2, 0) / (shifts * (shifts - 1)));
    if (se <= relTol * p || done * shifts >= maxPoints) return { p, error: se };
    perShift = Math.min(perShift * 2, Math.ceil(maxPoints / shifts) - done);
    if (perShift <= 0) return { p, error: se };
  }
}

/**
 * maxstat's condMC: the share of B random permutations of the scores whose maximal standardized statistic over
 * the same cuts exceeds M (maxstatpermdist.c), seeded; `error` is the binomial standard error.
 */
export function pCondMC(mt: MaxstatResult, B = 10000, seed = 20250101): { p: number; error: number } {
  const { n, m, scores } = mt;
  let ss = 0;
  let ss2 = 0;
  for (const v of scores) {
    ss += v;
    ss2 += v * v;
  }
  const E = m.map((k) => (k / n) * ss);
  const sd = m.map((k) => Math.sqrt(((k * (n - k)) / (n * n * (n - 1))) * (n * ss2 - ss * ss)));
  const rng = Rng.stream(seed, 'maxstat-condMC');
  const y = Array.from(scores);
  let exceed = 0;
  for (let b = 0; b < B; b++) {
    rng.shuffle(y);
    let sum = 0;
    let k = 0;
    for (let j = 0; j < n && k < m.length; j++) {
      sum += y[j]!;
      if (j + 1 === m[k]) {
        if (Math.abs((sum - E[k]!) / sd[k]!) > mt.statistic) {
          exceed++;
          break;
        }
        k++;
      }
    }
  }
  const p = exceed / B;
  return { p, error: Math.sqrt((p * (1 - p)) / B) };
}

function baker(x: number): number {
  return Math.abs(2 * x - 1);
}
