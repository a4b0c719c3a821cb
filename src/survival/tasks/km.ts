/** `hcc stats km`: survival::survfit Kaplan-Meier with the oracle's `km` JSON. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { prepare } from '../data.js';
import { kaplanMeier, kmAtTimes, kmConfInt, kmMedian, kmQuantiles, kmRmean, type ConfType } from '../km.js';
import { dataOptions, formatTable, optList, optNumber, optNumbers, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';
import { groupColumns, grouping } from './groups.js';

export function runKm(table: CsvTable, opts: TaskOptions): TaskOutput {
  const frame = prepare(table, dataOptions(opts), { columns: groupColumns(opts), timefix: true });
  const g = grouping(frame, opts);
  const types = (optList(opts, 'conf-type') ?? ['log', 'log-log', 'plain']) as ConfType[];
  for (const t of types) if (!['log', 'log-log', 'plain'].includes(t)) throw usageError(`--conf-type: '${t}' is not log, log-log or plain`);
  const tau = optNumber(opts, 'tau');
  const times = optNumbers(opts, 'times');
  const strata = g ? g.levels.map((l, k) => ({ label: `${g.name}=${l}`, idx: Array.from(g.codes.keys()).filter((i) => g.codes[i] === k) })) : [{ label: 'all', idx: Array.from(frame.time.keys()) }];
  const curves = strata.map((s) => ({ label: s.label, curve: kaplanMeier(s.idx.map((i) => frame.time[i]!), s.idx.map((i) => frame.event[i]!)) }));
  const endTime = tau ?? Math.max(...curves.map((c) => c.curve.time[c.curve.time.length - 1]!));
  const result: Record<string, unknown> = { group: g?.name ?? null, conf_level: 0.95 };
  for (const ct of types) {
    const withCi = curves.map((c) => ({ ...c, ci: kmConfInt(c.curve, ct) }));
    const summary = { stratum: [] as string[], n: [] as number[], events: [] as number[], median: [] as number[], median_lower: [] as number[], median_upper: [] as number[], rmean: [] as number[], rmean_se: [] as number[] };
    const q = { probs: [0.25, 0.5, 0.75], quantile: [] as number[][], lower: [] as number[][], upper: [] as number[][] };
    const at = { stratum: [] as string[], time: [] as number[], n_risk: [] as number[], n_event_interval: [] as number[], n_censor_interval: [] as number[], surv: [] as number[], se_surv: [] as number[], lower: [] as number[], upper: [] as number[] };
    for (const c of withCi) {
      const med = kmMedian(c.curve, c.ci.lower, c.ci.upper);
      const rm = kmRmean(c.curve, endTime);
      summary.stratum.push(c.label);
      summary.n.push(c.curve.n_risk[0]!);
      summary.events.push(c.curve.n_event.reduce((a, b) => a + b, 0));
      summary.median.push(med.median);
      summary.median_lower.push(med.lower);
      summary.median_upper.push(med.upper);
      summary.rmean.push(rm.rmean);
      summary.rmean_se.push(rm.se);
      const qq = kmQuantiles(c.curve, q.probs, c.ci.lower, c.ci.upper);
      q.quantile.push(qq.quantile);
      q.lower.push(qq.lower);
      q.upper.push(qq.upper);
      if (times) {
        const a = kmAtTimes(c.curve, times, c.ci.lower, c.ci.upper);
        at.stratum.push(...a.time.map(() => c.label));
        at.time.push(...a.time);
        at.n_risk.push(...a.n_risk);
        at.n_event_interval.push(...a.n_event_interval);
        at.n_censor_interval.push(...a.n_censor_interval);
        at.surv.push(...a.surv);
        at.se_surv.push(...a.se_surv);
        at.lower.push(...a.lower);
        at.upper.push(...a.upper);
      }
    }
    const block: Record<string, unknown> = {
      curves: withCi.map((c) => ({
        stratum: c.label,
        time: c.curve.time,
        n_risk: c.curve.n_risk,
        n_event: c.curve.n_event,
        n_censor: c.curve.n_censor,
        surv: c.curve.surv,
        se_surv_greenwood: c.curve.surv.map((s, k) => s * c.curve.se_log_surv[k]!),
        se_log_surv: c.curve.se_log_surv,
        lower: c.ci.lower,
        upper: c.ci.upper,
        cumhaz_nelson_aalen: c.curve.cumhaz,
        se_cumhaz: c.curve.se_cumhaz,
      })),
      summary,
      rmean_tau: tau ?? 'common (largest observed time, survival:::print default)',
      // one curve: quantile.survfit returns vectors, not a one-row matrix
      quantiles: curves.length === 1 ? { probs: q.probs, quantile: q.quantile[0], lower: q.lower[0], upper: q.upper[0] } : q,
    };
    if (times) block['at_times'] = at;
    result[`conf_${ct.replace(/-/g, '')}`] = block;
  }
  return { na: frame.na, result };
}

export const kmTask: StatsTask = {
  name: 'km',
  summary: 'Kaplan-Meier (survival::survfit): Greenwood SE, log/log-log/plain CIs, median, RMST, at-risk tables',
  usage: `  --group=COL | --cut-score=COL --cuts=c1[,c2] (optionally with --group)
  --conf-type=log,log-log,plain   --times=t1,t2   --tau=T (RMST horizon; default the largest time)`,
  options: ['group', 'cut-score', 'cuts', 'conf-type', 'times', 'tau'],
  run: runKm,
  print(out) {
    const r = out.result;
    const key = Object.keys(r).find((k) => k.startsWith('conf_') && typeof r[k] === 'object')!;
    const b = r[key] as { summary: Record<string, unknown[]>; at_times?: Record<string, unknown[]> };
    const s = b.summary;
    const lines = [`Kaplan-Meier (${key.replace('conf_', '')} CI, 95%)`, formatTable({ '': s['stratum']!, n: s['n']!, events: s['events']!, rmean: s['rmean']!, 'se(rmean)': s['rmean_se']!, median: s['median']!, '0.95LCL': s['median_lower']!, '0.95UCL': s['median_upper']! })];
    if (b.at_times) {
      const a = b.at_times;
      lines.push('', formatTable({ stratum: a['stratum']!, time: a['time']!, 'n.risk': a['n_risk']!, 'n.event': a['n_event_interval']!, survival: a['surv']!, 'std.err': a['se_surv']!, 'lower 95% CI': a['lower']!, 'upper 95% CI': a['upper']! }));
    }
    return lines.join('\n');
  },
};
