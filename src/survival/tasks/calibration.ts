/**
 * `hcc stats calibration`: calibration at each time t of Cox models (--cox) or given risks (--risk-cols): quantile
 * groups with Kaplan-Meier observed risk, O/E, the apparent calibration slope of Cox models, riskRegression's
 * quantile frames (oracle JSON), plus the smoothed calibration curve with ICI/E50/E90 (`smoothed`, ours).
 */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { groupedCalibration, smoothedCalibration } from '../calibration.js';
import { fitCox } from '../cox.js';
import { aeqTimes } from '../timefix.js';
import { prepare, requireEvents } from '../data.js';
import { buildModels, modelColumns, parseModels } from './models.js';
import { requireTimes } from './score.js';
import { dataOptions, fmt, formatTable, optNumber, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

export function runCalibration(table: CsvTable, opts: TaskOptions): TaskOutput {
  const times = requireTimes(opts, 'calibration');
  const specs = parseModels(opts);
  if (specs.some((s) => s.kind === 'marker')) throw usageError('calibration needs probabilities: use --cox or --risk-cols');
  const frame = prepare(table, dataOptions(opts), { columns: modelColumns(specs) });
  requireEvents(frame, 'calibration');
  const { models, fits } = buildModels(frame, specs, times, opts);
  const groups = optNumber(opts, 'groups', 10)!;
  if (!(Number.isInteger(groups) && groups >= 2)) throw usageError(`calibration: --groups must be an integer >= 2, got ${opts['groups']}`);
  const result: Record<string, unknown> = {
    times,
    groups,
    method: 'subjects split into quantile groups of predicted risk at t (cut at quantiles, type 7, include.lowest); observed = 1 - KM(t) within group (log CI)',
  };
  const frames: Record<string, Record<string, { Pred: number[]; Obs: number[] }>> = {};
  const grid = Array.from({ length: 99 }, (_, k) => (k + 1) / 100);
  for (const m of models) {
    const perTime = times.map((t) => groupedCalibration(frame.time, frame.event, m.at(t), t, groups));
    const out: Record<string, unknown> = { per_time: perTime };
    const f = fits.get(m.name);
    if (f) {
      const lp = f.relRisk.map((r) => Math.log(r));
      out['calibration_slope'] = fitCox({ time: aeqTimes(frame.time), event: frame.event, columns: [lp], names: ['lp'] }).coef[0];
      out['slope_note'] = 'apparent (in-sample) slope of coxph(Surv ~ lp): equals 1 by construction for an in-sample fit; meaningful on validation data';
    }
    out['smoothed'] = times.map((t) => ({ time: t, ...smoothedCalibration(frame.time, frame.event, m.at(t), t, grid) }));
    result[m.name] = out;
    perTime.forEach((p) => {
      // prodlim's predict (riskRegression's frames) is NA past a group's last observation.
      (frames[`t_${p.time}`] ??= {})[m.name] = { Pred: p.table.mean_pred, Obs: p.table.obs.map((o, k) => (p.time > p.table.max_time[k]! ? NaN : o)) };
    });
  }
  result['riskRegression_quantile'] = frames;
  return { na: frame.na, result };
}

export const calibrationTask: StatsTask = {
  name: 'calibration',
  summary: 'Calibration at t: risk-quantile groups with Kaplan-Meier observed risk, O/E, slope, smoothed curve (ICI)',
  usage: "  --times=t1,t2  --cox='name:rhs;...' or --risk-cols=c_t1,c_t2 --risk-name=NAME  --groups=10  --ties=efron|breslow",
  options: ['times', 'cox', 'risk-cols', 'risk-name', 'marker', 'groups', 'ties'],
  run: runCalibration,
  print(out) {
    const r = out.result;
    const lines: string[] = [];
    for (const [name, v] of Object.entries(r)) {
      const m = v as { per_time?: Array<{ time: number; table: Record<string, unknown[]>; oe_ratio: number }>; smoothed?: Array<{ ici: number; e50: number; e90: number }> };
      if (!m || typeof m !== 'object' || !m.per_time) continue;
      m.per_time.forEach((p, k) => {
        const s = m.smoothed?.[k];
        lines.push(`${name}, t = ${fmt(p.time)}: O/E = ${fmt(p.oe_ratio, 4)}${s ? `, ICI = ${fmt(s.ici, 4)}, E50 = ${fmt(s.e50, 4)}, E90 = ${fmt(s.e90, 4)}` : ''}`);
        lines.push(formatTable(p.table, 4), '');
      });
    }
    return lines.join('\n');
  },
};
