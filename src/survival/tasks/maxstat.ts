/** `hcc stats maxstat`: maxstat::maxstat.test(Surv ~ score, smethod = "LogRank") with the oracle's JSON. */
import type { CsvTable } from '../../util/csv.js';
import { HccError, usageError } from '../../util/errors.js';
import { frameVariable, prepare, requireEvents } from '../data.js';
import { pchisqUpper } from '../distributions.js';
import { survdiff } from '../logrank.js';
import { maxstatTest, pCondMC, pExactGauss, pLausen92, pLausen94 } from '../maxstat.js';
import { dataOptions, fmt, formatTable, optList, optNumber, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

const DEFAULT_PMETHODS = ['Lau92', 'Lau94', 'exactGauss'];
const PMETHODS = [...DEFAULT_PMETHODS, 'condMC'];

export function runMaxstat(table: CsvTable, opts: TaskOptions): TaskOutput {
  const sc = opts['score'];
  if (sc === undefined) throw usageError('maxstat: --score=COL required');
  const frame = prepare(table, dataOptions(opts), { columns: [sc] });
  requireEvents(frame, 'maxstat');
  const v = frameVariable(frame, sc);
  if (v.kind !== 'numeric') throw new HccError(`${frame.source}: maxstat: score column '${sc}' must be numeric`);
  const minprop = optNumber(opts, 'minprop', 0.1)!;
  const maxprop = optNumber(opts, 'maxprop', 1 - minprop)!;
  if (!(minprop >= 0 && maxprop <= 1 && minprop <= maxprop)) throw usageError(`maxstat: need 0 <= minprop <= maxprop <= 1, got ${minprop}, ${maxprop}`);
  const pms = optList(opts, 'pmethod') ?? DEFAULT_PMETHODS;
  const bad = pms.filter((p) => p !== 'none' && !PMETHODS.includes(p));
  if (bad.length > 0) throw usageError(`maxstat: --pmethod ${bad.join(',')} is not available (available: ${PMETHODS.join(', ')}; HL is not implemented)`);
  let mt;
  try {
    mt = maxstatTest(frame.time, frame.event, v.values, { minprop, maxprop });
  } catch (e) {
    throw new HccError(`${frame.source}: score '${sc}': ${(e as Error).message}`);
  }
  const result: Record<string, unknown> = { score: sc, minprop, maxprop, smethod: 'LogRank' };
  const seed = optNumber(opts, 'seed', 20250101)!;
  for (const pm of pms) {
    if (pm === 'Lau92') result['p_Lau92'] = pLausen92(mt.statistic, minprop, maxprop);
    if (pm === 'Lau94') result['p_Lau94'] = pLausen94(mt.statistic, mt.n, mt.m);
    if (pm === 'exactGauss') {
      const g = pExactGauss(mt.statistic, mt.m, mt.n, { seed });
      result['p_exactGauss'] = g.p;
      result['p_exactGauss_error'] = g.error;
    }
    if (pm === 'condMC') {
      const c = pCondMC(mt, optNumber(opts, 'B', 10000)!, seed);
      result['p_condMC'] = c.p;
      result['p_condMC_error'] = c.error;
    }
  }
  result['cutpoint'] = mt.cutpoint;
  result['statistic_M'] = mt.statistic;
  result['grid'] = {
    cut: mt.cuts,
    standardized_stat: mt.stats,
    note: 'statistic = max over cuts of the standardized two-sample linear rank statistic with log-rank (Savage) scores and permutation variance; not the survdiff chi-square',
  };
  result['rule'] = 'high group: score > cutpoint; low group: score <= cutpoint';
  const grp = Int32Array.from(v.values, (x) => (x > mt.cutpoint ? 1 : 0));
  const sd = survdiff(frame.time, frame.event, grp, 2);
  result['split'] = { n_low: grp.filter((g) => g === 0).length, n_high: grp.filter((g) => g === 1).length, logrank_chisq: sd.chisq, naive_p: pchisqUpper(sd.chisq, 1) };
  result['survminer_surv_cutpoint'] = { cutpoint: mt.cutpoint, statistic: mt.statistic };
  return { na: frame.na, result };
}

export const maxstatTask: StatsTask = {
  name: 'maxstat',
  summary: 'Maximally selected log-rank statistic and cut-point with Lau92/Lau94/exactGauss/condMC p-values (maxstat)',
  usage: '  --score=COL  --minprop=0.1  --maxprop=1-minprop  --pmethod=Lau92,Lau94,exactGauss[,condMC]  --B=10000 (condMC)  --seed=N (exactGauss, condMC)',
  options: ['score', 'minprop', 'maxprop', 'pmethod', 'seed', 'B'],
  run: runMaxstat,
  print(out) {
    const r = out.result;
    const split = r['split'] as { n_low: number; n_high: number; logrank_chisq: number; naive_p: number };
    const ps = ['p_Lau92', 'p_Lau94', 'p_exactGauss', 'p_condMC'].filter((k) => r[k] !== undefined);
    return [
      `Maximally selected LogRank statistics using ${ps.map((k) => k.slice(2)).join(', ')}`,
      `M = ${fmt(r['statistic_M'])}, estimated cutpoint = ${fmt(r['cutpoint'])} (low group: ${r['score']} <= cutpoint)`,
      formatTable({ method: ps.map((k) => k.slice(2)), p: ps.map((k) => r[k]) }, 5),
      `split: ${split.n_low} low, ${split.n_high} high; naive log-rank chisq = ${fmt(split.logrank_chisq)} (p = ${fmt(split.naive_p, 4)}, not adjusted for the search)`,
    ].join('\n');
  },
};
