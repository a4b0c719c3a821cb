/** `hcc stats iptw`: propensity model, IPT weights, balance and overlap, weighted KM / log-rank / Cox. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { designMatrix, groupOf, parseFormula, prepare, requireEvents } from '../data.js';
import { fitLogistic, predictLogistic } from '../logistic.js';
import { iptwWeights, overlap, smd, type Estimand } from '../iptw.js';
import { kaplanMeier, kmAtTimes, kmConfInt } from '../km.js';
import { survdiff } from '../logrank.js';
import { fitCox } from '../cox.js';
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
  const n = frame.time.length;
  const rows = Array.from({ length: n }, (_, i) => design.columns.map((c) => c[i]!));
  const ps0 = fitLogistic(rows, treated, { names: design.names });
  const estimand = (opts['estimand'] ?? 'ATE').toUpperCase() as Estimand;
  if (estimand !== 'ATE' && estimand !== 'ATT') throw usageError(`--estimand must be ATE or ATT, got '${opts['estimand']}'`);
  const trim = optNumbers(opts, 'trim');
  if (trim && trim.length !== 2) throw usageError('--trim=lo,hi (propensity percentiles, e.g. 0.01,0.99)');
  const { weights, ps, bounds } = iptwWeights(predictLogistic(ps0, rows), treated, { estimand, stabilized: opts['stabilized'] === undefined || optFlag(opts, 'stabilized'), trim: trim as [number, number] | undefined });
  const balance = {
    covariate: design.names,
    smd_before: design.columns.map((c) => smd(c, treated)),
    smd_after: design.columns.map((c) => smd(c, treated, weights)),
  };
  const times = optNumbers(opts, 'times');
  const arms = [0, 1].map((a) => {
    const idx = Array.from({ length: n }, (_, i) => i).filter((i) => treated[i] === a);
    const curve = kaplanMeier(idx.map((i) => frame.time[i]!), idx.map((i) => frame.event[i]!), idx.map((i) => weights[i]!));
    const ci = kmConfInt(curve, 'log');
    return { arm: `${trt}=${g.levels[a]}`, time: curve.time, n_risk: curve.n_risk, n_event: curve.n_event, surv: curve.surv, lower: ci.lower, upper: ci.upper, ...(times ? { at_times: kmAtTimes(curve, times, ci.lower, ci.upper) } : {}) };
  });
  const lr = survdiff(frame.time, frame.event, treated, 2, { weights });
  const cox = fitCox({ time: frame.time, event: frame.event, columns: [Float64Array.from(treated)], names: [`${trt}${g.levels[1]}`], weights }, { ties: 'efron', robust: true });
  const wsum = (a: number) => weights.reduce((s, w, i) => s + (treated[i] === a ? w : 0), 0);
  const result = {
    treatment: trt,
    levels: g.levels,
    estimand,
    stabilized: opts['stabilized'] === undefined || optFlag(opts, 'stabilized'),
    propensity_model: { term: ['(Intercept)', ...design.names], coef: ps0.coefficients, se: ps0.se, converged: ps0.converged, separation: ps0.separation },
    trim_bounds: bounds,
    weights_summary: { arm: g.levels, n: [0, 1].map((a) => treated.filter((t) => t === a).length), sum: [wsum(0), wsum(1)], min: Math.min(...weights), max: Math.max(...weights), effective_n: [0, 1].map((a) => { const w = Array.from(weights).filter((_, i) => treated[i] === a); return w.reduce((s, x) => s + x, 0) ** 2 / w.reduce((s, x) => s + x * x, 0); }) },
    balance,
    overlap: overlap(ps, treated),
    weighted_km: arms,
    weighted_logrank: { observed: lr.observed, expected: lr.expected, chisq: lr.chisq, df: lr.df, p: lr.p, note: 'survdiff with case weights in the risk sets; a descriptive test (the weights are treated as known)' },
    weighted_cox: { term: cox.names, coef: cox.coef, robust_se: cox.se, naive_se: cox.naiveSe, hr: cox.hr, hr_lower: cox.hrLower, hr_upper: cox.hrUpper, p: cox.p, note: 'coxph(Surv ~ treatment, weights = w, robust = TRUE): HR with the sandwich SE' },
    covariates: optList(opts, 'covariates') ?? design.names,
  };
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
