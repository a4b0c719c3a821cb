/** `hcc stats dca`: decision curve for survival at one time t (Vickers 2008 / dcurves), in the oracle's JSON. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { netBenefit, quantile7R, treatAll } from '../calibration.js';
import { prepare, requireEvents } from '../data.js';
import { buildModels, modelColumns, parseModels } from './models.js';
import { requireTimes } from './score.js';
import { dataOptions, fmt, formatTable, optNumbers, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

export function runDca(table: CsvTable, opts: TaskOptions): TaskOutput {
  const t = requireTimes(opts, 'dca')[0]!;
  const specs = parseModels(opts);
  if (specs.some((s) => s.kind === 'marker')) throw usageError('dca needs probabilities: use --cox or --risk-cols (one column, risk at t)');
  const frame = prepare(table, dataOptions(opts), { columns: modelColumns(specs) });
  requireEvents(frame, 'dca');
  const { models } = buildModels(frame, specs.map((s) => (s.kind === 'riskcols' ? { ...s, cols: s.cols.slice(0, 1) } : s)), [t], opts);
  const thresholds = optNumbers(opts, 'thresholds') ?? Array.from({ length: 99 }, (_, k) => Math.round((0.01 + k * 0.01) * 1e10) / 1e10);
  if (thresholds.some((p) => !(p > 0 && p < 1))) throw usageError(`dca: --thresholds must lie strictly between 0 and 1`);
  const all = treatAll(frame.time, frame.event, t, thresholds);
  const result: Record<string, unknown> = {
    time: t,
    thresholds,
    formula: 'NB(pt) = p_hi*(1 - S_hi(t)) - p_hi*S_hi(t)*pt/(1-pt); p_hi = share with risk >= pt; S_hi = KM in that subgroup at t (Vickers 2008 stdca); NB = 0 when nobody is above pt',
    treat_all: all.netBenefit,
    treat_none: thresholds.map(() => 0),
    km_overall_surv: all.surv,
  };
  for (const m of models) {
    const r = m.at(t);
    const [min, q1, med, q3, max] = quantile7R(r, [0, 0.25, 0.5, 0.75, 1]);
    let mean = 0;
    for (let i = 0; i < r.length; i++) mean += r[i]!;
    result[m.name] = { net_benefit: netBenefit(frame.time, frame.event, r, t, thresholds), risk_summary: { 'Min.': min, '1st Qu.': q1, Median: med, Mean: mean / r.length, '3rd Qu.': q3, 'Max.': max } };
  }
  return { na: frame.na, result };
}

export const dcaTask: StatsTask = {
  name: 'dca',
  summary: 'Decision curve (net benefit) for survival at time t against treat-all and treat-none (Vickers 2008)',
  usage: "  --times=t (one time)  --cox='name:rhs;...' or --risk-cols=COL --risk-name=NAME  --thresholds=0.01:0.99:0.01",
  options: ['times', 'cox', 'risk-cols', 'risk-name', 'marker', 'thresholds', 'ties'],
  run: runDca,
  print(out) {
    const r = out.result;
    const th = r['thresholds'] as number[];
    const models = Object.keys(r).filter((k) => typeof r[k] === 'object' && r[k] !== null && 'net_benefit' in (r[k] as object));
    const cols: Record<string, unknown[]> = { threshold: th, treat_all: r['treat_all'] as number[] };
    for (const m of models) cols[m] = (r[m] as { net_benefit: number[] }).net_benefit;
    return [`Net benefit at t = ${fmt(r['time'])} (KM survival ${fmt(r['km_overall_surv'], 4)})`, formatTable(cols, 4)].join('\n');
  },
};
