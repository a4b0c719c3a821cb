/**
 * Seeded bootstrap engine for any statistic of the survival and diagnostic metrics, optionally stratified (e.g.
 * cases and controls, as pROC's `boot.stratified`), run in worker threads.
 *
 * Reproducibility: replicate r draws its indices from `Rng.stream(seed, 'bootstrap', r)` alone, so the replicates
 * (and every CI) are bit-identical whatever the number of workers or their scheduling.
 *
 * A statistic is a function `(data, indices) -> number[]` exported by a module; it is named by reference
 * ({module URL, export name}) so worker threads can load it. `data` must be structured-cloneable (typed arrays,
 * plain objects). Built-in statistics are in src/survival/bootstrap-statistics.ts.
 *
 * Exports:
 * - `StatisticRef`, `BootstrapOptions` {replicates, seed, strata?, workers?, onProgress?}.
 * - `bootstrapIndices(n, seed, r, strata?)`: the indices of replicate r.
 * - `bootstrap(ref, data, n, opts)` -> {estimate, replicates (one row per replicate)}.
 * - `quantile7(sorted, p)`: R's default quantile (type 7).
 * - `percentileCi`, `basicCi`, `bcaCi(estimate, reps, jackknife, level)`, `jackknife(ref, data, n)`.
 * - `pairedBootstrapTest(estimate, reps, a, b)`: the difference of two metrics on the same resamples: D =
 *   (theta_a - theta_b) / sd(diffs), two-sided normal p (pROC's roc.test(method = "bootstrap")), and the
 *   percentile CI of the difference.
 */
import { Worker } from 'node:worker_threads';
import { Rng } from '../util/rng.js';
import { pnorm, pTwoSidedNormal, qnorm } from './distributions.js';

export interface StatisticRef {
  /** Module URL (import.meta.url of the module that exports it). */
  module: string;
  name: string;
}

export type Statistic<D> = (data: D, indices: Int32Array) => number[];

export interface BootstrapOptions {
  replicates: number;
  seed: number;
  /** Stratum per row: each stratum is resampled to its own size. */
  strata?: Int32Array;
  /** Worker threads (default 1 = this thread). */
  workers?: number;
  onProgress?: (done: number) => void;
}

export function bootstrapIndices(n: number, seed: number, r: number, strata?: Int32Array): Int32Array {
  const rng = Rng.stream(seed, 'bootstrap', r);
  const out = new Int32Array(n);
  if (!strata) {
    for (let i = 0; i < n; i++) out[i] = rng.int(n);
    return out;
  }
  const groups = new Map<number, number[]>();
  strata.forEach((s, i) => {
    const g = groups.get(s);
    if (g) g.push(i);
    else groups.set(s, [i]);
  });
  let k = 0;
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(key)!;
    for (let i = 0; i < g.length; i++) out[k++] = g[rng.int(g.length)]!;
  }
  return out;
}

async function load<D>(ref: StatisticRef): Promise<Statistic<D>> {
  const mod = (await import(ref.module)) as Record<string, unknown>;
  const f = mod[ref.name];
  if (typeof f !== 'function') throw new Error(`bootstrap: ${ref.module} does not export a statistic '${ref.name}'`);
  return f as Statistic<D>;
}

/** Replicates [from, to) in this thread. */
export async function runReplicates<D>(ref: StatisticRef, data: D, n: number, from: number, to: number, seed: number, strata?: Int32Array, onDone?: () => void): Promise<number[][]> {
  const f = await load<D>(ref);
  const out: number[][] = [];
  for (let r = from; r < to; r++) {
    out.push(f(data, bootstrapIndices(n, seed, r, strata)));
    onDone?.();
  }
  return out;
}

export interface BootstrapResult {
  estimate: number[];
  /** replicates[r][k]: statistic k on replicate r. */
  replicates: number[][];
}

export async function bootstrap<D>(ref: StatisticRef, data: D, n: number, opts: BootstrapOptions): Promise<BootstrapResult> {
  const f = await load<D>(ref);
  const estimate = f(data, Int32Array.from({ length: n }, (_, i) => i));
  const R = opts.replicates;
  const workers = Math.max(1, Math.min(opts.workers ?? 1, R));
  let done = 0;
  const tick = () => opts.onProgress?.(++done);
  if (workers === 1) return { estimate, replicates: await runReplicates(ref, data, n, 0, R, opts.seed, opts.strata, tick) };
  const chunks = Array.from({ length: workers }, (_, w) => [Math.floor((w * R) / workers), Math.floor(((w + 1) * R) / workers)] as const);
  const parts = await Promise.all(
    chunks.map(
      ([from, to]) =>
        new Promise<number[][]>((resolve, reject) => {
          const worker = new Worker(new URL('./bootstrap-worker.js', import.meta.url), { workerData: { ref, data, n, from, to, seed: opts.seed, strata: opts.strata } });
          worker.on('message', (msg: { progress?: number; result?: number[][] }) => {
            if (msg.progress) for (let k = 0; k < msg.progress; k++) tick();
            if (msg.result) resolve(msg.result);
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (code !== 0) reject(new Error(`bootstrap worker stopped with exit code ${code}`));
          });
        }),
    ),
  );
  return { estimate, replicates: parts.flat() };
}

export function quantile7(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const h = (n - 1) * p;
  const lo = Math.floor(h + 4 * Number.EPSILON);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function column(reps: number[][], k: number): Float64Array {
  return Float64Array.from(reps.map((r) => r[k]!).filter((v) => Number.isFinite(v))).sort();
}

export function percentileCi(reps: number[][], k: number, level = 0.95): [number, number] {
  const s = column(reps, k);
  return [quantile7(s, (1 - level) / 2), quantile7(s, 1 - (1 - level) / 2)];
}

/** Basic (reverse percentile) interval: 2 theta - q. */
export function basicCi(estimate: number, reps: number[][], k: number, level = 0.95): [number, number] {
  const [lo, hi] = percentileCi(reps, k, level);
  return [2 * estimate - hi, 2 * estimate - lo];
}

/** Leave-one-out estimates (for the BCa acceleration). */
export async function jackknife<D>(ref: StatisticRef, data: D, n: number): Promise<number[][]> {
  const f = await load<D>(ref);
  return Array.from({ length: n }, (_, j) => f(data, Int32Array.from({ length: n - 1 }, (_, i) => (i < j ? i : i + 1))));
}

/** Bias-corrected and accelerated interval (Efron 1987), as boot::boot.ci(type = "bca") with jackknife acceleration. */
export function bcaCi(estimate: number, reps: number[][], k: number, jack: number[][], level = 0.95): [number, number] {
  const s = column(reps, k);
  let below = 0;
  for (const v of s) if (v < estimate) below++;
  const z0 = qnorm(below / s.length);
  const j = jack.map((r) => r[k]!);
  const mj = j.reduce((a, v) => a + v, 0) / j.length;
  let num = 0;
  let den = 0;
  for (const v of j) {
    num += (mj - v) ** 3;
    den += (mj - v) ** 2;
  }
  const a = num / (6 * den ** 1.5);
  const adj = (alpha: number) => {
    const z = qnorm(alpha);
    return pnorm(z0 + (z0 + z) / (1 - a * (z0 + z)));
  };
  return [quantile7(s, adj((1 - level) / 2)), quantile7(s, adj(1 - (1 - level) / 2))];
}

export interface PairedBootstrapTest {
  difference: number;
  /** (theta_a - theta_b) / sd(differences over replicates). */
  d: number;
  p: number;
  ci: [number, number];
  replicates: number;
}

export function pairedBootstrapTest(estimate: number[], reps: number[][], a: number, b: number, level = 0.95): PairedBootstrapTest {
  const diffs = reps.map((r) => [r[a]! - r[b]!]).filter((d) => Number.isFinite(d[0]!));
  const m = diffs.reduce((s, d) => s + d[0]!, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d[0]! - m) ** 2, 0) / (diffs.length - 1));
  const difference = estimate[a]! - estimate[b]!;
  const d = sd === 0 && difference === 0 ? 0 : difference / sd;
  return { difference, d, p: pTwoSidedNormal(d), ci: percentileCi(diffs, 0, level), replicates: diffs.length };
}
