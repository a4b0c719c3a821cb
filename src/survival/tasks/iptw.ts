/** `hcc stats iptw`: propensity model, IPT weights, balance and overlap, weighted KM / log-rank / Cox. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { designMatrix, groupOf, parseFormula, prepare, requireEvents } from '../data.js';
import { iptwAnalysis, type Estimand } from '../iptw.js';
import { dataOptions, fmt, formatTable, optFlag, optList, optNumbers, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';
import { formulaFrom } from './cox.js';

export function runIptw(table: CsvTable, opts: TaskOptions): TaskOutput {
  const trt = opts['treatment'];
  if (trt === undefined) throw usageError('iptw: --treatment=COL (two levels; the second level is "treated", set the first with --ref-COL=LEVEL)');
  const terms = parseFormula(formulaFrom(opts));
  const frame = prepare(table, dataOptions(opts), { columns: [trt, ...terms.map((t) => t.variable)] });
  requireEvents(frame, 'iptw');
  const g = groupOf(frame, trt);
  if (g.levels.length !== 2) throw usageError(`iptw: treatment '${trt}' must have exactly two levels over the used rows, found ${g.levels.join(', ')}`);
  const treated = Uint8Array.from(g.codes);
  const design = designMatrix(frame, terms);
  const estimand = (opts['estimand'] ?? 'ATE').toUpperCase() as Estimand;
  if (estimand !== 'ATE' && estimand !== 'ATT') throw usageError(`--estimand must be ATE or ATT, got '${opts['estimand']}'`);
  const trim = optNumbers(opts, 'trim');
  if (trim && trim.length !== 2) throw usageError('--trim=lo,hi (propensity percentiles, e.g. 0.01,0.99)');
  const analysis = iptwAnalysis(
    { time: frame.time, event: frame.event, treated, covariates: design.columns, names: design.names, levels: g.levels, treatment: trt },
    { estimand, stabilized: opts['stabilized'] === undefined || optFlag(opts, 'stabilized'), trim: trim as [number, number] | undefined, times: optNumbers(opts, 'times') },
  );
  const result = { ...analysis, covariates: optList(opts, 'covariates') ?? design.names };
  return { na: frame.na, result };
}

export const iptwTask: StatsTask = {
  name: 'iptw',
  summary: 'Inverse probability of treatment weighting: propensity, weights, SMD balance, overlap, weighted KM/log-rank/Cox',
  usage: `  --treatment=COL (two levels; second = treated)   --formula='age + afp' | --covariates=a,b (propensity model)
  --estimand=ATE|ATT   --stabilized=TRUE|FALSE (ATE)   --trim=0.01,0.99 (propensity percentiles)   --times=12,24`,
  options: ['treatment', 'formula', 'covariates', 'estimand', 'stabilized', 'trim', 'times'],
  run: runIptw,
  print(out) {
    const r = out.result as Record<string, any>;
    const b = r['balance'];
    const c = r['weighted_cox'];
    return [
      `IPTW (${r['estimand']}) for ${r['treatment']}: ${r['levels'].join(' vs ')}`,
      formatTable({ covariate: b.covariate, 'SMD before': b.smd_before, 'SMD after': b.smd_after }, 3),
      '',
      `Weighted Cox HR ${fmt(c.hr[0], 4)} (${fmt(c.hr_lower[0], 4)}-${fmt(c.hr_upper[0], 4)}), robust se ${fmt(c.robust_se[0], 4)}, p = ${fmt(c.p[0], 3)}`,
      `Weighted log-rank chisq ${fmt(r['weighted_logrank'].chisq, 4)}, p = ${fmt(r['weighted_logrank'].p, 3)}`,
    ].join('\n');
  },
};
