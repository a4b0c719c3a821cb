/**
 * Concordance as survival::concordance (concordancefit + concordance3.c): Harrell's C and the time-weighted
 * variants (S, S/G, n/G2 = Uno, I) with ymax truncation, strata, case weights, and the infinitesimal-jackknife SE.
 *
 * Exports:
 * - `TimeWeight` = 'n' | 'S' | 'S/G' | 'n/G2' | 'I'.
 * - `concordanceFit(time, event, x, {strata, weights, reverse, timewt, ymax})` -> {c, se, variance, count}.
 *   Without `reverse`, a larger x predicts longer survival (R's default); `reverse: true` for risk scores.
 *   Counts keep R's labels after reversal (concordant = pairs in which the higher risk fails first).
 * - `censoringKm(time, event, convention)`: the reverse Kaplan-Meier G with `G_at(t)` and `G_minus(t)` lookups
 *   ('events_first' as prodlim/riskRegression/survival's concordance; 'survfit' as survfit(Surv(T, 1 - d))).
 * - `manualConcordance(time, event, x, tau)`: the oracle's pair-by-pair Harrell and Uno checks (O(n^2)).
 */
import { denseRanks, lexOrder } from './order.js';

export type TimeWeight = 'n' | 'S' | 'S/G' | 'n/G2' | 'I';

export interface ConcordanceCount {
  concordant: number;
  discordant: number;
  tied_x: number;
  tied_y: number;
  tied_xy: number;
}

export interface ConcordanceResult {
  c: number;
  se: number;
  variance: number;
  count: ConcordanceCount;
}

export interface ConcordanceOptions {
  strata?: ArrayLike<number>;
  weights?: ArrayLike<number>;
  reverse?: boolean;
  timewt?: TimeWeight;
  ymax?: number;
}

/** Fenwick tree over score ranks: weight of ranks above / below / equal to a rank. */
class RankTree {
  private readonly tree: Float64Array;
  private readonly node: Float64Array;
  total = 0;
  constructor(readonly size: number) {
    this.tree = new Float64Array(size + 1);
    this.node = new Float64Array(size);
  }
  add(rank: number, w: number): void {
    this.node[rank] += w;
    this.total += w;
    for (let i = rank + 1; i <= this.size; i += i & -i) this.tree[i] += w;
  }
  /** Writes [greater, smaller, tied] weights relative to `rank` into `out` (no allocation in the hot loop). */
  walk(rank: number, out: Float64Array): Float64Array {
    let below = 0;
    for (let i = rank; i > 0; i -= i & -i) below += this.tree[i]!;
    const tied = this.node[rank]!;
    out[0] = this.total - below - tied;
    out[1] = below;
    out[2] = tied;
    return out;
  }
}

interface StratumCount {
  count: Float64Array; // concordant, discordant, tied.x, tied.y, tied.xy, cox variance term
  influence: Float64Array[]; // 5 columns, local row order
}

/** concordance3 for one stratum (rows given by idx), with the time weights per unique event time. */
function docount(time: ArrayLike<number>, status: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, idx: number[], timewt: TimeWeight, ymax: number | undefined): StratumCount {
  const n = idx.length;
  const count = new Float64Array(6);
  const imat = Array.from({ length: 5 }, () => new Float64Array(n));
  let nev = 0;
  for (const i of idx) nev += status[i]!;
  if (nev === 0) return { count, influence: imat };
  const opt: TimeWeight = nev < 2 ? 'n' : timewt;
  // Local copies: the comparator and the tree walks below run O(n log n) times.
  // (explicit loops: TypedArray.from with a map function is a slow path in V8)
  const lt = new Float64Array(n);
  const ls = new Uint8Array(n);
  const lx = new Float64Array(n);
  const lw = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    lt[k] = time[i]!;
    ls[k] = status[i]!;
    lx[k] = x[i]!;
    lw[k] = w[i]!;
  }
  // reverse time, censored before deaths, then by score
  const xr = denseRanks(lx);
  const { rank, count: nu } = xr;
  // status is 0/1, so it is its own dense rank
  const sort = lexOrder(n, [lt, { rank: Int32Array.from(ls), count: 2 }, xr], [true, false, false]);
  const T = (k: number) => lt[k]!;
  const S = (k: number) => ls[k]!;
  const W = (k: number) => lw[k]!;
  // fastkm1: S(t-), G(t-) (events first) and the number at risk at each unique event time, oldest first.
  const etimes: number[] = [];
  const tw: number[] = [];
  {
    const ncount = new Float64Array(n);
    const dcount = new Float64Array(n);
    const ccount = new Float64Array(n);
    let ntemp = 0;
    let dtemp = 0;
    let ctemp = 0;
    let dtime = T(sort[0]!);
    for (let i = 0; i < n; i++) {
      const p = sort[i]!;
      if (T(p) !== dtime) {
        dtemp = 0;
        ctemp = 0;
        dtime = T(p);
      }
      ntemp += W(p);
      if (S(p) === 0) ctemp += W(p);
      else dtemp += W(p);
      ncount[i] = ntemp;
      dcount[i] = dtemp;
      ccount[i] = ctemp;
    }
    let stemp = 1;
    let gtemp = 1;
    let lastD = NaN;
    let lastC = NaN;
    let wsum = 0;
    for (let i = 0; i < n; i++) wsum += W(i);
    for (let i = n - 1; i >= 0; i--) {
      const p = sort[i]!;
      if (S(p) === 1 && T(p) !== lastD) {
        lastD = T(p);
        const nr = ncount[i]!;
        etimes.push(lastD);
        let v: number;
        switch (opt) {
          case 'S':
            v = (wsum * stemp) / nr;
            break;
          case 'S/G':
            v = (wsum * stemp) / (gtemp * nr);
            break;
          case 'n/G2':
            v = 1 / (gtemp * gtemp);
            break;
          case 'I':
            v = 1 / nr;
            break;
          default:
            v = 1;
        }
        tw.push(ymax !== undefined && lastD > ymax ? 0 : v);
        stemp = (stemp * (nr - dcount[i]!)) / nr;
      }
      if (S(p) === 0 && T(p) !== lastC) {
        lastC = T(p);
        gtemp = (gtemp * (ncount[i]! - ccount[i]!)) / ncount[i]!;
      }
    }
  }
  const ntree = nu;
  const all = new RankTree(ntree);
  const deaths = new RankTree(ntree);
  const ws = new Float64Array(3);
  let z2 = 0;
  let utime = tw.length - 1;
  for (let i = 0; i < n; ) {
    const ii = sort[i]!;
    if (S(ii) === 0) {
      deaths.walk(rank[ii]!, ws);
      imat[0]![ii] -= ws[1];
      imat[1]![ii] -= ws[0];
      imat[2]![ii] -= ws[2];
      all.walk(rank[ii]!, ws);
      const wi = W(ii);
      z2 += wi * (ws[0] * (wi + 2 * (ws[1] + ws[2])) + ws[1] * (wi + 2 * (ws[0] + ws[2])) + (ws[0] - ws[1]) * (ws[0] - ws[1]));
      all.add(rank[ii]!, wi);
      i++;
      continue;
    }
    let ndeath = 0;
    let dwt = 0;
    let dwt2 = 0;
    let xsave = rank[ii]!;
    let j2 = i;
    const adj = tw[utime--]!;
    let j = i;
    const flushTied = (end: number) => {
      if (W(sort[j2]!) < dwt2) {
        for (; j2 < end; j2++) {
          const kk = sort[j2]!;
          imat[4]![kk] += (dwt2 - W(kk)) * adj;
          imat[3]![kk] -= (dwt2 - W(kk)) * adj;
        }
      } else j2 = end;
    };
    for (; j < n && T(sort[j]!) === T(ii); j++) {
      const jj = sort[j]!;
      ndeath++;
      count[3] += W(jj) * dwt * adj;
      dwt += W(jj);
      if (rank[jj] !== xsave) {
        flushTied(j);
        dwt2 = 0;
        xsave = rank[jj]!;
      }
      count[4] += W(jj) * dwt2 * adj;
      dwt2 += W(jj);
      all.walk(rank[jj]!, ws);
      for (let k = 0; k < 3; k++) {
        count[k] += W(jj) * ws[k]! * adj;
        imat[k]![jj] += ws[k]! * adj;
      }
      deaths.add(rank[jj]!, adj * W(jj));
    }
    flushTied(j);
    for (let k = i; k < i + ndeath; k++) {
      const jj = sort[k]!;
      deaths.walk(rank[jj]!, ws);
      imat[0]![jj] -= ws[1];
      imat[1]![jj] -= ws[0];
      imat[2]![jj] -= ws[2];
      imat[3]![jj] += (dwt - W(jj)) * adj;
      all.walk(rank[jj]!, ws);
      const wj = W(jj);
      z2 += wj * (ws[0] * (wj + 2 * (ws[1] + ws[2])) + ws[1] * (wj + 2 * (ws[0] + ws[2])) + (ws[0] - ws[1]) * (ws[0] - ws[1]));
      all.add(rank[jj]!, wj);
    }
    count[5] += (dwt * adj * z2) / all.total;
    i += ndeath;
  }
  for (let i = 0; i < n; i++) {
    deaths.walk(rank[i]!, ws);
    imat[0]![i] += ws[1];
    imat[1]![i] += ws[0];
    imat[2]![i] += ws[2];
  }
  count[3] -= count[4];
  return { count, influence: imat };
}

export function concordanceFit(time: ArrayLike<number>, event: ArrayLike<number>, x: ArrayLike<number>, opts: ConcordanceOptions = {}): ConcordanceResult {
  const n = time.length;
  const w = opts.weights ?? new Float64Array(n).fill(1);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const s = opts.strata ? opts.strata[i]! : 0;
    if (!groups.has(s)) groups.set(s, []);
    groups.get(s)!.push(i);
  }
  const total = new Float64Array(6);
  const infl = Array.from({ length: 5 }, () => new Float64Array(n));
  for (const idx of groups.values()) {
    const r = docount(time, event, x, w, idx, opts.timewt ?? 'n', opts.ymax);
    for (let k = 0; k < 6; k++) total[k] += r.count[k]!;
    idx.forEach((i, local) => {
      for (let k = 0; k < 5; k++) infl[k]![i] = r.influence[k]![local]!;
    });
  }
  const npair = total[0]! + total[1]! + total[2]!;
  const somer = (total[0]! - total[1]!) / npair;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    const d = ((infl[0]![i]! - infl[1]![i]! - (infl[0]![i]! + infl[1]![i]! + infl[2]![i]!) * somer) * w[i]!) / (2 * npair);
    variance += d * d;
  }
  let c = (somer + 1) / 2;
  let conc = total[0]!;
  let disc = total[1]!;
  if (opts.reverse) {
    c = 1 - c;
    [conc, disc] = [disc, conc];
  }
  return { c, se: Math.sqrt(variance), variance, count: { concordant: conc, discordant: disc, tied_x: total[2]!, tied_y: total[3]!, tied_xy: total[4]! } };
}

export interface CensoringKm {
  times: Float64Array;
  G: Float64Array;
  /** G(t), right-continuous. */
  at(t: number): number;
  /** G(t-), the left limit. */
  minus(t: number): number;
}

/** Reverse Kaplan-Meier of the censoring distribution under either tie convention. */
export function censoringKm(time: ArrayLike<number>, event: ArrayLike<number>, convention: 'events_first' | 'survfit' = 'events_first'): CensoringKm {
  const n = time.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]!);
  const ut: number[] = [];
  const D: number[] = [];
  const C: number[] = [];
  const Y: number[] = [];
  order.forEach((i, k) => {
    if (ut.length === 0 || ut[ut.length - 1] !== time[i]) {
      ut.push(time[i]!);
      D.push(0);
      C.push(0);
      Y.push(n - k);
    }
    if (event[i] === 1) D[D.length - 1]++;
    else C[C.length - 1]++;
  });
  const G = new Float64Array(ut.length);
  let g = 1;
  ut.forEach((_, k) => {
    const den = convention === 'events_first' ? Y[k]! - D[k]! : Y[k]!;
    g *= 1 - (den > 0 ? C[k]! / den : 0);
    G[k] = g;
  });
  const times = Float64Array.from(ut);
  const find = (t: number, strict: boolean) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? times[mid]! < t : times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };
  return {
    times,
    G,
    at: (t) => {
      const k = find(t, false);
      return k < 0 ? 1 : G[k]!;
    },
    minus: (t) => {
      const k = find(t, true);
      return k < 0 ? 1 : G[k]!;
    },
  };
}

/** The oracle's transparent pair-by-pair Harrell and Uno estimates; `risk` is a higher-is-riskier score. */
export function manualConcordance(time: ArrayLike<number>, event: ArrayLike<number>, risk: ArrayLike<number>, tau?: number): { harrell: number; uno_Gminus_events_first: number; uno_G_at_survfit: number } {
  const n = time.length;
  const g1 = censoringKm(time, event, 'events_first');
  const g2 = censoringKm(time, event, 'survfit');
  const tmax = tau ?? Infinity;
  let nh = 0;
  let dh = 0;
  let nu1 = 0;
  let du1 = 0;
  let nu2 = 0;
  let du2 = 0;
  for (let i = 0; i < n; i++) {
    if (event[i] !== 1 || time[i]! > tmax) continue;
    let conc = 0;
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (time[j]! > time[i]! || (time[j] === time[i] && event[j] === 0)) {
        m++;
        conc += risk[i]! > risk[j]! ? 1 : risk[i] === risk[j] ? 0.5 : 0;
      }
    }
    if (m === 0) continue;
    nh += conc;
    dh += m;
    const w1 = 1 / g1.minus(time[i]!) ** 2;
    const w2 = 1 / g2.at(time[i]!) ** 2;
    nu1 += w1 * conc;
    du1 += w1 * m;
    nu2 += w2 * conc;
    du2 += w2 * m;
  }
  return { harrell: nh / dh, uno_Gminus_events_first: nu1 / du1, uno_G_at_survfit: nu2 / du2 };
}
