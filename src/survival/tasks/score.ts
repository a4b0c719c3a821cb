/**
 * `hcc stats score` (aliases tdauc, brier): riskRegression::Score td-AUC and Brier with influence-function SE,
 * contrasts, IPA and IBS, the manual re-computations, and pec's prediction-error curves, in the oracle's JSON.
 */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { censoringKm } from '../concordance.js';
import { prepare, requireEvents } from '../data.js';
import { brier as brierAt } from '../brier.js';
import { ipcwSample, sortedValues } from '../ipcw.js';
import { NULL_MODEL, pecCurves, scoreAuc, scoreBrier } from '../score.js';
import { tdAuc, tdAucCounts, timeRocStrictAuc } from '../tdauc.js';
import { buildModels, modelColumns, parseModels, type ModelSpec } from './models.js';
import { dataOptions, fmt, formatTable, optFlag, optNumber, optNumbers, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

function modelInfo(s: ModelSpec): Record<string, unknown> {
  if (s.kind === 'cox') return { kind: 'cox', rhs: s.rhs };
  return { kind: s.kind, vars: s.vars };
}

export function requireTimes(opts: TaskOptions, task: string): number[] {
  const times = optNumbers(opts, 'times');
  if (!times) throw usageError(`${task}: --times=t1[,t2,...] required`);
  if (times.some((t) => !(t > 0))) throw usageError(`${task}: --times must be positive, got ${opts['times']}`);
  return times;
}

export function runScore(table: CsvTable, opts: TaskOptions): TaskOutput {
  const times = requireTimes(opts, 'score');
  const specs = parseModels(opts);
  const frame = prepare(table, dataOptions(opts), { columns: modelColumns(specs) });
  requireEvents(frame, 'score');
  const { models, fits } = buildModels(frame, specs, times, opts);
  const se = !optFlag(opts, 'no-se');
  const conservative = optFlag(opts, 'conservative');
  const confLevel = optNumber(opts, 'conf-level', 0.95)!;
  const sample = ipcwSample(frame.time, frame.event);
  const result: Record<string, unknown> = {
    times,
    cens_model: 'km (marginal reverse Kaplan-Meier)',
    se_method: conservative ? 'conservative influence function (G treated as known)' : 'influence function incl. censoring-model term',
    conf_level: confLevel,
    models: Object.fromEntries(specs.map((s) => [s.name, modelInfo(s)])),
  };
  const sopts = { times, se, conservative, confLevel };
  const auc = scoreAuc(frame.time, frame.event, models, sopts, sample);
  result['auc'] = auc.auc;
  if (auc.contrasts) result['auc_contrasts'] = auc.contrasts;
  const manual: Record<string, unknown[]> = { model: [], times: [], AUC: [], AUC_cases_strict_timeROC: [], n_cases: [], n_controls: [], n_censored_before: [] };
  for (const m of models) {
    for (const t of times) {
      const x = sortedValues(sample, m.at(t));
      const c = tdAucCounts(sample, t);
      manual['model']!.push(m.name);
      manual['times']!.push(t);
      manual['AUC']!.push(tdAuc(sample, x, t).auc);
      manual['AUC_cases_strict_timeROC']!.push(timeRocStrictAuc(sample, x, t));
      manual['n_cases']!.push(c.n_cases);
      manual['n_controls']!.push(c.n_controls);
      manual['n_censored_before']!.push(c.n_censored_before);
    }
  }
  result['auc_manual'] = manual;
  result['auc_manual_note'] =
    'AUC: cases T<=t & event (riskRegression, scikit-survival); AUC_cases_strict_timeROC: cases T<t & event (timeROC 0.4 code); both weight cases 1/G(T_i-) and controls 1/G(t), marker ties count 1/2';
  const gs = censoringKm(frame.time, frame.event, 'survfit');
  result['censoring_survival_at_times'] = {
    events_first: times.map((t) => sample.G.at(t)),
    survfit: times.map((t) => gs.at(t)),
    note: 'riskRegression/pec/prodlim use events_first (subjects failing at t leave the risk set before censorings at t); manual values use it too',
  };
  const prob = models.filter((m) => m.kind === 'risk');
  if (prob.length > 0) {
    const b = scoreBrier(frame.time, frame.event, prob, sopts, sample);
    result['brier'] = b.brier;
    result['brier_contrasts'] = b.contrasts;
    const bm: Record<string, unknown[]> = { model: [], times: [], Brier: [] };
    for (const m of prob) {
      for (const t of times) {
        bm['model']!.push(m.name);
        bm['times']!.push(t);
        bm['Brier']!.push(brierAt(sample, sortedValues(sample, m.at(t)), t).brier);
      }
    }
    result['brier_manual'] = bm;
    result['ibs_note'] =
      'riskRegression IBS(t_k) = (1/t_k) * sum_j Brier(t_{j-1}) (t_j - t_{j-1}) over the grid c(0, times) with Brier(0)=0 (left step function): depends on the supplied time grid; see ibs_fine for the all-observed-times grid';
    const coxModels = prob.filter((m) => fits.has(m.name));
    if (coxModels.length > 0) {
      const pec = pecCurves(frame.time, frame.event, coxModels, times, sample);
      const horizon = Math.max(...times);
      const fine: Record<string, unknown[]> = { model: [], times: [], IBS: [] };
      for (const name of [NULL_MODEL, ...coxModels.map((m) => m.name)]) {
        times.forEach((t, k) => {
          fine['model']!.push(name);
          fine['times']!.push(t);
          fine['IBS']!.push(pec.ibs[name === NULL_MODEL ? 'Reference' : name]![k]);
        });
      }
      result['ibs_fine'] = {
        note: 'riskRegression::Score on grid = all unique observed times <= max(times) plus the requested times (the pec exact=TRUE grid); IBS at each requested time',
        grid_size: new Set([...frame.time, ...times].filter((g) => g > 0 && g <= horizon)).size,
        table: fine,
      };
      result['pec'] = {
        note: 'pec::pec(exact=TRUE) evaluates the Brier score at every event time <= max(times); ibs = (1/(t-0)) * integral_0^t BS(s) ds as a left-continuous step function on that grid',
        models: Object.keys(pec.curves),
        ibs_times: times,
        ibs: pec.ibs,
        grid_time: pec.grid,
        brier_curve: pec.curves,
      };
    }
  }
  return { na: frame.na, result };
}

export const scoreTask: StatsTask = {
  name: 'score',
  aliases: ['tdauc', 'brier'],
  summary: 'td-AUC (cumulative/dynamic, IPCW) and Brier/IPA/IBS with SE and contrasts (riskRegression::Score, pec)',
  usage: [
    '  --times=t1,t2,... (required)   models: --marker=a[,b] (higher = more risk; AUC only)',
    "  --risk-cols=c_t1,c_t2,... --risk-name=NAME (P(T<=t) per time)   --cox='name:rhs;name2:rhs2' (in-sample coxph)",
    '  --no-se  --conservative (G treated as known)  --conf-level=0.95  --ties=efron|breslow',
  ].join('\n'),
  options: ['times', 'marker', 'risk-cols', 'risk-name', 'cox', 'no-se', 'conservative', 'conf-level', 'ties'],
  run: runScore,
  print(out) {
    const r = out.result;
    const auc = r['auc'] as Record<string, unknown[]>;
    const lines = ['Time-dependent AUC (cumulative/dynamic, IPCW, riskRegression::Score)', formatTable(auc, 5)];
    const ac = r['auc_contrasts'] as Record<string, unknown[]> | undefined;
    if (ac) lines.push('', 'AUC contrasts', formatTable(ac, 5));
    const b = r['brier'] as Record<string, unknown[]> | undefined;
    if (b) lines.push('', 'Brier score (IBS over c(0, times); IPA vs the Kaplan-Meier null model)', formatTable(b, 5));
    const pec = r['pec'] as { ibs: Record<string, number[]>; ibs_times: number[] } | undefined;
    if (pec) {
      lines.push('', `Integrated Brier score (pec, all observed times up to ${pec.ibs_times.map((t) => fmt(t)).join(', ')})`);
      lines.push(formatTable({ model: Object.keys(pec.ibs), ...Object.fromEntries(pec.ibs_times.map((t, k) => [`IBS[0;${fmt(t)})`, Object.values(pec.ibs).map((v) => v[k])])) }, 5));
    }
    return lines.join('\n');
  },
};
