/**
 * Log-rank and the Fleming-Harrington G-rho family as survival::survdiff (survdiff2.c), with strata, case weights
 * (for inverse-probability weighting; with unit weights it is survdiff exactly) and pairwise tests with p-value
 * adjustment.
 *
 * Exports:
 * - `survdiff(time, event, group, nGroups, {strata, rho, weights})` -> {n, observed, expected, variance, chisq, df, p}
 *   (observed/expected summed over strata; weights S(t-)^rho from the pooled Kaplan-Meier within each stratum).
 * - `pairwiseSurvdiff(...)`: every pair of groups refitted alone, with holm / BH / bonferroni adjusted p-values.
 */
import { cholesky, cholSolve, symMatrix } from './linalg.js';
import { pAdjust, pchisqUpper } from './distributions.js';

export interface SurvdiffOptions {
  strata?: ArrayLike<number>;
  rho?: number;
  weights?: ArrayLike<number>;
}

export interface SurvdiffResult {
  n: number[];
  observed: number[];
  expected: number[];
  variance: number[][];
  chisq: number;
  df: number;
  p: number;
}

export function survdiff(time: ArrayLike<number>, event: ArrayLike<number>, group: ArrayLike<number>, nGroups: number, opts: SurvdiffOptions = {}): SurvdiffResult {
  const rho = opts.rho ?? 0;
  const n = time.length;
  const W = (i: number) => (opts.weights ? opts.weights[i]! : 1);
  const obs = new Float64Array(nGroups);
  const exp = new Float64Array(nGroups);
  const V = Array.from({ length: nGroups }, () => new Float64Array(nGroups));
  const counts = new Array(nGroups).fill(0);
  for (let i = 0; i < n; i++) counts[group[i]!]++;
  const strata = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const s = opts.strata ? opts.strata[i]! : 0;
    if (!strata.has(s)) strata.set(s, []);
    strata.get(s)!.push(i);
  }
  for (const s of [...strata.keys()].sort((a, b) => a - b)) {
    const idx = strata.get(s)!.sort((a, b) => time[a]! - time[b]!);
    // distinct times in increasing order with per-group risk sets
    const risk = new Float64Array(nGroups);
    let nrisk = 0;
    for (const i of idx) {
      risk[group[i]!] += W(i);
      nrisk += W(i);
    }
    let km = 1;
    for (let k = 0; k < idx.length; ) {
      const t = time[idx[k]!]!;
      let j = k;
      let deaths = 0;
      const dg = new Float64Array(nGroups);
      const leave = new Float64Array(nGroups);
      for (; j < idx.length && time[idx[j]!] === t; j++) {
        const i = idx[j]!;
        leave[group[i]!] += W(i);
        if (event[i] === 1) {
          deaths += W(i);
          dg[group[i]!] += W(i);
        }
      }
      const wt = rho === 0 ? 1 : Math.pow(km, rho);
      if (deaths > 0) {
        for (let g = 0; g < nGroups; g++) {
          obs[g] += wt * dg[g]!;
          exp[g] += (wt * deaths * risk[g]!) / nrisk;
        }
        if (nrisk > 1) {
          const w2 = wt * wt;
          for (let a = 0; a < nGroups; a++) {
            const tmp = (w2 * deaths * risk[a]! * (nrisk - deaths)) / (nrisk * (nrisk - 1));
            V[a]![a] += tmp;
            for (let b = 0; b < nGroups; b++) V[a]![b] -= (tmp * risk[b]!) / nrisk;
          }
        }
      }
      km *= (nrisk - deaths) / nrisk;
      for (let g = 0; g < nGroups; g++) risk[g] -= leave[g]!;
      nrisk -= leave.reduce((a, b) => a + b, 0);
      k = j;
    }
  }
  const keep = Array.from(exp).map((e, g) => (e > 0 ? g : -1)).filter((g) => g >= 0);
  let chisq = 0;
  if (keep.length >= 2) {
    const sub = keep.slice(1);
    const m = symMatrix(sub.length);
    sub.forEach((a, i) => sub.forEach((b, j) => (m.data[i * sub.length + j] = V[a]![b]!)));
    const d = sub.map((g) => obs[g]! - exp[g]!);
    // survdiff uses solve(); a singular variance here means a degenerate design, as in R it would error.
    const x = cholSolve(cholesky(m), d);
    chisq = d.reduce((s, di, i) => s + di * x[i]!, 0);
  }
  const df = keep.length - 1;
  return { n: counts, observed: Array.from(obs), expected: Array.from(exp), variance: V.map((r) => Array.from(r)), chisq, df, p: pchisqUpper(chisq, df) };
}

export interface PairwiseRow {
  a: string;
  b: string;
  chisq: number;
  p: number;
  p_holm: number;
  p_bh: number;
  p_bonferroni: number;
}

export function pairwiseSurvdiff(time: ArrayLike<number>, event: ArrayLike<number>, group: ArrayLike<number>, levels: string[], opts: SurvdiffOptions = {}): PairwiseRow[] {
  const rows: PairwiseRow[] = [];
  for (let a = 0; a < levels.length - 1; a++) {
    for (let b = a + 1; b < levels.length; b++) {
      const idx: number[] = [];
      for (let i = 0; i < time.length; i++) if (group[i] === a || group[i] === b) idx.push(i);
      const pick = <T extends ArrayLike<number>>(v: T | undefined) => (v ? idx.map((i) => v[i]!) : undefined);
      const r = survdiff(pick(time)!, pick(event)!, idx.map((i) => (group[i] === a ? 0 : 1)), 2, { rho: opts.rho, strata: pick(opts.strata), weights: pick(opts.weights) });
      rows.push({ a: levels[a]!, b: levels[b]!, chisq: r.chisq, p: pchisqUpper(r.chisq, 1), p_holm: 0, p_bh: 0, p_bonferroni: 0 });
    }
  }
  const p = rows.map((r) => r.p);
  const holm = pAdjust(p, 'holm');
  const bh = pAdjust(p, 'BH');
  const bonf = pAdjust(p, 'bonferroni');
  rows.forEach((r, k) => {
    r.p_holm = holm[k]!;
    r.p_bh = bh[k]!;
    r.p_bonferroni = bonf[k]!;
  });
  return rows;
}
