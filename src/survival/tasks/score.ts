/**
 * `hcc stats score` (aliases tdauc, brier): riskRegression::Score td-AUC and Brier with influence-function SE,
 * contrasts, IPA and IBS, the manual re-computations, and pec's prediction-error curves, in the oracle's JSON.
 */
import type { CsvTable } from '../../util/csv.js';
import { HccError, usageError } from '../../util/errors.js';
import { censoringKm } from '../concordance.js';
import { prepare, requireEvents } from '../data.js';
import { brier as brierAt, pecGrid } from '../brier.js';
import { ipcwSample, sortedValues } from '../ipcw.js';
import { NULL_MODEL, pecCurves, scoreAuc, scoreBrier, type ScoreModel } from '../score.js';
import { bootstrap, pairedBootstrapTest, percentileCi } from '../bootstrap.js';
import { statistic } from '../bootstrap-statistics.js';
import { kmRiskAt } from '../calibration.js';
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

export async function runScore(table: CsvTable, opts: TaskOptions): Promise<TaskOutput> {
  const times = requireTimes(opts, 'score');
  const specs = parseModels(opts);
  const frame = prepare(table, dataOptions(opts), { columns: modelColumns(specs) });
  requireEvents(frame, 'score');
  const { models, fits } = buildModels(frame, specs, times, opts);
  const se = !optFlag(opts, 'no-se');
  const conservative = optFlag(opts, 'conservative');
  const confLevel = optNumber(opts, 'conf-level', 0.95)!;
  const sample = ipcwSample(frame.time, frame.event);
  for (const t of times) {
    const c = tdAucCounts(sample, t);
    if (c.n_cases === 0) throw new HccError(`${frame.source}: score: no events at or before time ${t} in '${frame.timeColumn}' (first event at ${Math.min(...frame.time.filter((_, i) => frame.event[i] === 1))}); choose later --times`);
    if (c.n_controls === 0) throw new HccError(`${frame.source}: score: nobody is followed beyond time ${t} (last follow-up ${Math.max(...frame.time)}); choose --times inside the follow-up`);
  }
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
  const bootN = optNumber(opts, 'boot-n');
  if (bootN !== undefined) result['bootstrap'] = await bootstrapScore(frame.time, frame.event, models, fits.size > 0 ? prob.filter((m) => fits.has(m.name)) : [], times, bootN, opts);
  return { na: frame.na, result };
}

/** Pairs (reference, model) in Score's contrast order: every earlier model is the reference of every later one. */
function pairs(k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let r = 0; r < k - 1; r++) for (let m = r + 1; m < k; m++) out.push([r, m]);
  return out;
}

/**
 * Seeded bootstrap (subjects resampled, predictions kept: the apparent performance) of td-AUC at every time and of
 * pec's IBS at the horizon for Cox models: percentile CIs and paired tests of every pair of models (pROC's D).
 */
async function bootstrapScore(time: Float64Array, event: Uint8Array, models: ScoreModel[], coxModels: ScoreModel[], times: number[], B: number, opts: TaskOptions) {
  if (!(Number.isInteger(B) && B >= 10)) throw usageError(`score: --boot-n must be an integer >= 10, got ${opts['boot-n']}`);
  const seed = optNumber(opts, 'seed', 20250101)!;
  const workers = optNumber(opts, 'workers', 1)!;
  const level = optNumber(opts, 'conf-level', 0.95)!;
  const n = time.length;
  const cells = models.flatMap((m) => times.map((t) => ({ values: Float64Array.from(m.at(t)), t })));
  const b = await bootstrap(statistic('tdAucCells'), { time, event, cells }, n, { replicates: B, seed, workers });
  const auc: Record<string, unknown[]> = { model: [], times: [], AUC: [], lower: [], upper: [] };
  models.forEach((m, j) =>
    times.forEach((t, k) => {
      const [lo, hi] = percentileCi(b.replicates, j * times.length + k, level);
      auc['model']!.push(m.name);
      auc['times']!.push(t);
      auc['AUC']!.push(b.estimate[j * times.length + k]);
      auc['lower']!.push(lo);
      auc['upper']!.push(hi);
    }),
  );
  const contrastTable = (names: string[], est: number[], reps: number[][], index: (model: number, k: number) => number, at: number[]) => {
    const out: Record<string, unknown[]> = { times: [], model: [], reference: [], delta: [], D: [], p: [], lower: [], upper: [] };
    at.forEach((t, k) =>
      pairs(names.length).forEach(([r, m]) => {
        const test = pairedBootstrapTest(est, reps, index(m, k), index(r, k), level);
        out['times']!.push(t);
        out['model']!.push(names[m]);
        out['reference']!.push(names[r]);
        out['delta']!.push(test.difference);
        out['D']!.push(test.d);
        out['p']!.push(test.p);
        out['lower']!.push(test.ci[0]);
        out['upper']!.push(test.ci[1]);
      }),
    );
    return out;
  };
  const out: Record<string, unknown> = {
    replicates: B,
    seed,
    method: 'subjects resampled with replacement (predictions fixed, censoring model refitted); percentile CIs; model vs reference: D = delta / sd(delta*), two-sided normal p (pROC roc.test bootstrap)',
    auc,
  };
  if (models.length > 1) out['auc_contrasts'] = contrastTable(models.map((m) => m.name), b.estimate, b.replicates, (m, k) => m * times.length + k, times);
  if (coxModels.length > 0) {
    const horizon = Math.max(...times);
    const grid = [...new Set(pecGrid(time, times))].filter((g) => g <= horizon);
    const all = [{ name: NULL_MODEL, at: (t: number) => new Float64Array(n).fill(1 - kmRiskAt(time, event, t).surv) }, ...coxModels];
    const risks = all.map((m) => grid.map((g) => Float64Array.from(m.at(g))));
    const ib = await bootstrap(statistic('integratedBrier'), { time, event, risks, grid, horizon }, n, { replicates: B, seed, workers });
    out['ibs'] = {
      model: all.map((m) => m.name),
      horizon,
      IBS: ib.estimate,
      lower: all.map((_, j) => percentileCi(ib.replicates, j, level)[0]),
      upper: all.map((_, j) => percentileCi(ib.replicates, j, level)[1]),
    };
    out['ibs_contrasts'] = contrastTable(all.map((m) => m.name), ib.estimate, ib.replicates, (m) => m, [horizon]);
  }
  return out;
}

export const scoreTask: StatsTask = {
  name: 'score',
  aliases: ['tdauc', 'brier'],
  summary: 'td-AUC (cumulative/dynamic, IPCW) and Brier/IPA/IBS with SE and contrasts (riskRegression::Score, pec)',
  usage: [
    '  --times=t1,t2,... (required)   models: --marker=a[,b] (higher = more risk; AUC only)',
    "  --risk-cols=c_t1,c_t2,... --risk-name=NAME (P(T<=t) per time)   --cox='name:rhs;name2:rhs2' (in-sample coxph)",
    '  --no-se  --conservative (G treated as known)  --conf-level=0.95  --ties=efron|breslow',
    '  --boot-n=B --seed=N --workers=K: bootstrap percentile CIs and paired tests of td-AUC and (Cox models) the pec IBS',
  ].join('\n'),
  options: ['times', 'marker', 'risk-cols', 'risk-name', 'cox', 'no-se', 'conservative', 'conf-level', 'ties', 'boot-n', 'seed', 'workers'],
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
    const boot = r['bootstrap'] as { replicates: number; auc: Record<string, unknown[]>; auc_contrasts?: Record<string, unknown[]>; ibs?: Record<string, unknown>; ibs_contrasts?: Record<string, unknown[]> } | undefined;
    if (boot) {
      lines.push('', `Bootstrap (${boot.replicates} replicates): td-AUC percentile CIs`, formatTable(boot.auc, 5));
      if (boot.auc_contrasts) lines.push('', 'td-AUC paired bootstrap tests', formatTable(boot.auc_contrasts, 5));
      if (boot.ibs) lines.push('', `IBS to ${fmt(boot.ibs['horizon'])} with percentile CIs`, formatTable({ model: boot.ibs['model'] as string[], IBS: boot.ibs['IBS'] as number[], lower: boot.ibs['lower'] as number[], upper: boot.ibs['upper'] as number[] }, 5));
      if (boot.ibs_contrasts) lines.push('', 'IBS paired bootstrap tests', formatTable(boot.ibs_contrasts, 5));
    }
    return lines.join('\n');
  },
};
