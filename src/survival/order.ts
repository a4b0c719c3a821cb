/**
 * Sorting row indices by several numeric keys: each key becomes a dense rank, the ranks are packed into one double
 * (mixed radix, with the row index last, so the order is stable by construction), and a native typed-array sort
 * does the rest (a comparator sort is the fallback when the packed key would exceed 2^52). At n ~ 2000 this is
 * about as fast as a comparator sort for three keys and ~1.5x faster for one or two.
 *
 * Exports:
 * - `denseRanks(values)` -> {rank: Int32Array, count}: 0-based ranks of the distinct values.
 * - `lexOrder(n, keys, descending?)`: row indices sorted by keys[0], then keys[1], ...; `descending[k]` flips key k.
 *   Stable (ties keep ascending row index). A key may be passed as precomputed `Ranks`.
 */

export function denseRanks(values: ArrayLike<number>): { rank: Int32Array; count: number } {
  const n = values.length;
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = values[i]!;
  u.sort();
  let count = 0;
  for (let k = 0; k < n; k++) if (k === 0 || u[k] !== u[count - 1]) u[count++] = u[k]!;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (u[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    rank[i] = lo;
  }
  return { rank, count };
}

export interface Ranks {
  rank: Int32Array;
  count: number;
}

/** Keys may be given as values or, when already known, as dense ranks (saves a sort). */
export function lexOrder(n: number, keys: (ArrayLike<number> | Ranks)[], descending: boolean[] = []): Int32Array {
  const ranks = keys.map((k, j) => {
    const given = 'rank' in k && 'count' in k;
    const r = given ? { rank: Int32Array.from((k as Ranks).rank), count: (k as Ranks).count } : denseRanks(k as ArrayLike<number>);
    if (descending[j]) for (let i = 0; i < n; i++) r.rank[i] = r.count - 1 - r.rank[i]!;
    return r;
  });
  let radix = n;
  for (const r of ranks) radix *= Math.max(r.count, 1);
  const out = new Int32Array(n);
  if (radix < 2 ** 52) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let key = 0;
      for (const r of ranks) key = key * Math.max(r.count, 1) + r.rank[i]!;
      packed[i] = key * n + i;
    }
    packed.sort();
    for (let k = 0; k < n; k++) out[k] = packed[k]! % n;
    return out;
  }
  const idx: number[] = new Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => {
    for (const r of ranks) {
      const d = r.rank[a]! - r.rank[b]!;
      if (d !== 0) return d;
    }
    return a - b;
  });
  for (let k = 0; k < n; k++) out[k] = idx[k]!;
  return out;
}
