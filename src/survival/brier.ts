/**
 * IPCW Brier score (Graf 1999, Gerds & Schumacher 2006) as riskRegression::Score(metrics = "brier",
 * cens.model = "km") and pec::pec(cens.model = "marginal"), and the integrated Brier score.
 *
 * BS(t) = (1/n) sum_i [1{T_i <= t, event} (1 - F_i(t))^2 / G(T_i-) + 1{T_i > t} F_i(t)^2 / G(t)], F = predicted
 * P(T <= t | x); subjects censored before t contribute 0. The standard error is Score's: sd(IF)/sqrt(n) with the
 * Kaplan-Meier censoring term (riskRegression's getInfluenceFunctionBrierKMCensoringTerm, ported step by step).
 *
 * IBS conventions (they differ, so both are here):
 * - `integrateStep(grid, values, upTo)`: (1/upTo) * sum_j BS(g_{j-1}) (g_j - g_{j-1}) over c(0, grid) with
 *   BS(0) = 0, a left-continuous step function: Score's `summary = "ibs"` on its `times`, and pec's `ibs` when
 *   the grid holds every observed time up to the horizon (`pecGrid`).
 * - `pecGrid(time, times)`: pec(exact = TRUE)'s evaluation grid: sort(c(0, unique(times), unique(time))) up to
 *   max(time), duplicates kept (pec reports them).
 *
 * Exports: `brier(sample, riskSorted, t, {influence, conservative})` -> {brier, influence?}, `integrateStep`,
 * `pecGrid`.
 */
import { censoringInfluence, lastAtOrBefore, type IpcwSample } from './ipcw.js';

export interface BrierResult {
  brier: number;
  influence?: Float64Array;
}

export function brier(s: IpcwSample, risk: Float64Array, t: number, opts: { influence?: boolean; conservative?: boolean } = {}): BrierResult {
  const n = s.n;
  const gt = s.G.at(t);
  const time = s.time;
  const event = s.event;
  const gMinus = s.gMinus;
  const res = opts.influence ? new Float64Array(n) : undefined;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = risk[i]!;
    let v = 0;
    if (time[i]! > t) v = (r * r) / gt;
    else if (event[i] === 1) v = ((1 - r) * (1 - r)) / gMinus[i]!;
    if (res) res[i] = v;
    sum += v;
  }
  const bs = sum / n;
  if (!res) return { brier: bs };
  const inf = Float64Array.from(res, (r) => r - bs);
  if (opts.conservative) return { brier: bs, influence: inf };
  const firsthit = lastAtOrBefore(s, t);
  let part1 = 0;
  let part2 = 0;
  let after = 0;
  for (let i = 0; i < n; i++) {
    if (s.event[i] === 1 && s.time[i]! <= t) part2 += res[i]!;
    else if (s.time[i]! > t) after += res[i]!;
  }
  after /= n;
  let tie = 0;
  for (; tie < n && s.time[tie] === s.time[0]; tie++) if (s.time[tie]! <= t && s.event[tie] === 1) part2 -= res[tie]!;
  let upperTie = tie - 1;
  for (let i = 0; i < n; i++) {
    const f = censoringInfluence(s, i, firsthit);
    const term = (part1 + f * part2) / n + after * f;
    if (upperTie === i) {
      const mc = s.mcTerm2[s.sindex[i]!]!;
      let k = i + 1;
      for (; k < n && s.time[k] === s.time[i + 1]; k++) {
        if (s.time[k]! <= t && s.event[k] === 1) {
          part1 -= res[k]! * mc;
          part2 -= res[k]!;
        }
      }
      upperTie = k - 1;
    }
    inf[i]! += term;
  }
  return { brier: bs, influence: inf };
}

/** (1/upTo) * integral over [0, upTo] of the left-continuous step function through (grid, values), BS(0) = 0. */
export function integrateStep(grid: ArrayLike<number>, values: ArrayLike<number>, upTo: number): number {
  let area = 0;
  let prevT = 0;
  let prevV = 0;
  for (let j = 0; j < grid.length && grid[j]! <= upTo; j++) {
    area += prevV * (grid[j]! - prevT);
    prevT = grid[j]!;
    prevV = values[j]!;
  }
  return area / upTo;
}

export function pecGrid(time: ArrayLike<number>, times: number[]): number[] {
  const unique = [...new Set(Array.from(time))];
  const maxtime = Math.max(...unique);
  return [0, ...new Set(times), ...unique].filter((x) => x <= maxtime).sort((a, b) => a - b);
}
