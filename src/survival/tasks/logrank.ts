/** `hcc stats logrank`: survival::survdiff (G-rho, strata, pairwise) with the oracle's `logrank` JSON. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { groupOf, prepare, requireEvents } from '../data.js';
import { pairwiseSurvdiff, survdiff } from '../logrank.js';
import { dataOptions, fmt, formatTable, optFlag, optNumber, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';
import { groupColumns, grouping } from './groups.js';

export function runLogrank(table: CsvTable, opts: TaskOptions): TaskOutput {
  const strataCol = opts['strata'];
  const rho = optNumber(opts, 'rho', 0)!;
  const frame = prepare(table, dataOptions(opts), { columns: [...groupColumns(opts), strataCol ?? ''], timefix: true });
  requireEvents(frame, 'logrank');
  const g = grouping(frame, opts);
  if (!g) throw usageError('logrank: --group=COL and/or --cut-score=COL --cuts=c required');
  if (g.levels.length < 2) throw usageError(`logrank: group '${g.name}' has a single level ('${g.levels[0]}') over the used rows`);
  const strata = strataCol ? groupOf(frame, strataCol).codes : undefined;
  const sd = survdiff(frame.time, frame.event, g.codes, g.levels.length, { rho, strata });
  const result: Record<string, unknown> = {
    group: g.name,
    strata: strataCol ?? null,
    rho,
    test: rho === 0 ? 'log-rank (Mantel-Haenszel)' : `G-rho family, rho=${rho}`,
    groups: g.levels.map((l) => `${g.name}=${l}`),
    n: sd.n,
    observed: sd.observed,
    expected: sd.expected,
    variance: sd.variance,
    chisq: sd.chisq,
    df: sd.df,
    p: sd.p,
  };
  if (optFlag(opts, 'pairwise')) {
    const rows = pairwiseSurvdiff(frame.time, frame.event, g.codes, g.levels, { rho, strata });
    const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    result['pairwise'] = { a: col('a'), b: col('b'), chisq: col('chisq'), p: col('p'), p_holm: col('p_holm'), p_bh: col('p_bh'), p_bonferroni: col('p_bonferroni') };
    if (!strataCol) {
      // survminer::pairwise_survdiff's lower-triangular matrix of unadjusted p-values
      const L = g.levels;
      result['pairwise_survminer_unadjusted_p'] = {
        rows: L.slice(1),
        cols: L.slice(0, -1),
        p: L.slice(1).map((rl) => L.slice(0, -1).map((cl) => rows.find((r) => r.a === cl && r.b === rl)?.p ?? NaN)),
      };
    }
  }
  return { na: frame.na, result };
}

export const logrankTask: StatsTask = {
  name: 'logrank',
  summary: 'Log-rank / G-rho tests (survival::survdiff) with strata and pairwise comparisons (holm, BH, bonferroni)',
  usage: `  --group=COL | --cut-score=COL --cuts=c1[,c2]   --strata=COL   --rho=0 (1 = Peto-Peto)   --pairwise`,
  options: ['group', 'cut-score', 'cuts', 'strata', 'rho', 'pairwise'],
  run: runLogrank,
  print(out) {
    const r = out.result as Record<string, unknown> & { groups: string[]; n: number[]; observed: number[]; expected: number[]; variance: number[][]; chisq: number; df: number; p: number };
    const oe = r.observed.map((o, k) => ((o - r.expected[k]!) ** 2) / r.expected[k]!);
    const ov = r.observed.map((o, k) => ((o - r.expected[k]!) ** 2) / r.variance[k]![k]!);
    const lines = [String(r['test']), formatTable({ '': r.groups, N: r.n, Observed: r.observed, Expected: r.expected, '(O-E)^2/E': oe, '(O-E)^2/V': ov }, 4), '', ` Chisq= ${fmt(r.chisq, 4)}  on ${r.df} degrees of freedom, p= ${fmt(r.p, 3)}`];
    const pw = r['pairwise'] as Record<string, unknown[]> | undefined;
    if (pw) lines.push('', 'Pairwise comparisons', formatTable({ a: pw['a']!, b: pw['b']!, chisq: pw['chisq']!, p: pw['p']!, holm: pw['p_holm']!, BH: pw['p_bh']!, bonferroni: pw['p_bonferroni']! }, 4));
    return lines.join('\n');
  },
};
