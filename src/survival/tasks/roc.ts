/**
 * `hcc stats roc`: pROC for a binary outcome (--outcome=COL) or a survival landmark (--landmark=t: cases T <= t
 * with an event, controls T > t, censored before t dropped): AUC with DeLong variance and CI, a seeded stratified
 * bootstrap percentile CI, the Youden cut-off (with PPV/NPV there: `youden_summary`, ours), every threshold's
 * sensitivity/specificity, and with --threshold=x the classification at x (`at_threshold`, ours); with two scores,
 * DeLong's paired test, the paired bootstrap test and the DeLong covariance. JSON as the oracle's.
 *
 * --direction: '<' (default; controls < cases, i.e. a higher score means a higher risk) or '>' per score. Never
 * chosen from the data; `direction_auto` shows what pROC's default would have picked.
 */
import type { CsvTable } from '../../util/csv.js';
import { HccError, usageError } from '../../util/errors.js';
import { frameVariable, prepare, type SurvFrame } from '../data.js';
import { bootstrap, pairedBootstrapTest, percentileCi } from '../bootstrap.js';
import { statistic } from '../bootstrap-statistics.js';
import { atThreshold, aucDelong, autoDirection, delongCi, delongPaired, rocCurve, splitByOutcome, youden, type RocDirection } from '../roc.js';
import { dataOptions, fmt, formatTable, optList, optNumber, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

/** The oracle's make_event for a 0/1 outcome column: 0/1, FALSE/TRUE, 1/2 (2 = event) or --event-value. */
function binaryOutcome(frame: SurvFrame, col: string, eventValue: string | undefined): Uint8Array {
  const v = frameVariable(frame, col);
  if (eventValue !== undefined) {
    return v.kind === 'numeric' ? Uint8Array.from(v.values, (x) => (x === Number(eventValue) ? 1 : 0)) : Uint8Array.from(v.codes, (c) => (v.levels[c] === eventValue ? 1 : 0));
  }
  if (v.kind === 'factor' && v.levels.every((l) => l === 'TRUE' || l === 'FALSE')) return Uint8Array.from(v.codes, (c) => (v.levels[c] === 'TRUE' ? 1 : 0));
  if (v.kind === 'numeric') {
    const u = new Set(v.values);
    if ([...u].every((x) => x === 0 || x === 1)) return Uint8Array.from(v.values);
    if ([...u].every((x) => x === 1 || x === 2)) return Uint8Array.from(v.values, (x) => (x === 2 ? 1 : 0));
  }
  throw new HccError(`${frame.source}: outcome column '${col}' must be coded 0/1, FALSE/TRUE or 1/2 (2 = event); give --event-value=V otherwise`);
}

export async function runRoc(table: CsvTable, opts: TaskOptions): Promise<TaskOutput> {
  const scores = optList(opts, 'score');
  if (!scores) throw usageError('roc: --score=a[,b] required');
  const outcome = opts['outcome'];
  const landmark = optNumber(opts, 'landmark');
  if (outcome === undefined && landmark === undefined) throw usageError('roc: give --outcome=COL (0/1) or --landmark=t (case: T<=t & event; control: T>t)');
  const dopts = dataOptions(opts);
  let frame: SurvFrame;
  let y: Uint8Array;
  let keep: number[];
  if (outcome !== undefined) {
    frame = prepare(table, { ...dopts, eventValue: undefined }, { columns: [outcome, ...scores], survival: false });
    y = binaryOutcome(frame, outcome, dopts.eventValue);
    keep = frame.rows.map((_, i) => i);
  } else {
    frame = prepare(table, dopts, { columns: scores });
    keep = [];
    frame.time.forEach((t, i) => {
      if ((t <= landmark! && frame.event[i] === 1) || t > landmark!) keep.push(i);
    });
    y = Uint8Array.from(keep, (i) => (frame.time[i]! <= landmark! && frame.event[i] === 1 ? 1 : 0));
  }
  const nCases = y.reduce((a, v) => a + v, 0);
  if (nCases === 0 || nCases === y.length) throw new HccError(`${frame.source}: roc needs both cases and controls; found ${nCases} cases and ${y.length - nCases} controls`);
  const dirs = optList(opts, 'direction') ?? ['<'];
  const directions = scores.map((_, k) => dirs[k % dirs.length] as RocDirection);
  if (directions.some((d) => d !== '<' && d !== '>')) throw usageError(`roc: --direction must be '<' or '>' per score, got '${opts['direction']}'`);
  const values = scores.map((s) => {
    const v = frameVariable(frame, s);
    if (v.kind !== 'numeric') throw new HccError(`${frame.source}: score column '${s}' must be numeric`);
    return Float64Array.from(keep, (i) => v.values[i]!);
  });
  const bootN = optNumber(opts, 'boot-n', 2000)!;
  if (!(Number.isInteger(bootN) && bootN >= 10)) throw usageError(`roc: --boot-n must be an integer >= 10, got ${opts['boot-n']}`);
  const threshold = optNumber(opts, 'threshold');
  const seed = optNumber(opts, 'seed', 20250101)!;
  const result: Record<string, unknown> = {
    outcome: outcome ?? `landmark T<=${landmark} & event vs T>${landmark} (censored before landmark excluded)`,
    direction: directions,
    n_cases: nCases,
    n_controls: y.length - nCases,
    boot_n: bootN,
    seed,
    rows_used: keep.map((i) => frame.rows[i]!),
  };
  const boot = await bootstrap(statistic('binaryAuc'), { scores: values, y, directions }, y.length, { replicates: bootN, seed, strata: Int32Array.from(y), workers: optNumber(opts, 'workers', 1) });
  const delong = values.map((v, k) => {
    const { cases, controls } = splitByOutcome(v, y);
    const d = aucDelong(cases, controls, directions[k]);
    const auto = autoDirection(cases, controls);
    const curve = rocCurve(cases, controls, directions[k]);
    const best = youden(curve);
    result[scores[k]!] = {
      auc: d.auc,
      var_delong: d.variance,
      ci_delong: delongCi(d.auc, d.variance),
      ci_bootstrap_percentile: percentileCi(boot.replicates, k),
      youden_best: { threshold: best.thresholds, sensitivity: best.sensitivity, specificity: best.specificity },
      coords: { threshold: curve.thresholds, sensitivity: curve.sensitivity, specificity: curve.specificity },
      direction_auto: auto,
      auc_direction_auto: aucDelong(cases, controls, auto).auc,
      youden_summary: atThreshold(cases, controls, best.thresholds[0]!, directions[k]),
      ...(threshold !== undefined ? { at_threshold: atThreshold(cases, controls, threshold, directions[k]) } : {}),
    };
    return d;
  });
  if (scores.length >= 2) {
    const t = delongPaired(delong[0]!, delong[1]!);
    result['delong_test'] = {
      a: scores[0],
      b: scores[1],
      z: t.z,
      p: t.p,
      auc: t.auc,
      diff_ci: t.diffCi,
      covariance_note: 'paired DeLong: z = (A1-A2)/sqrt(V1+V2-2C12) with structural components',
    };
    const bt = pairedBootstrapTest(boot.estimate, boot.replicates, 0, 1);
    result['bootstrap_test'] = { d: bt.d, p: bt.p };
    result['cov_delong'] = t.covariance;
    if (directions[0] !== directions[1]) result['warnings'] = ["DeLong's test should not be applied to ROC curves with a different direction."];
  }
  return { na: frame.na, result };
}

export const rocTask: StatsTask = {
  name: 'roc',
  summary: 'ROC AUC for a binary outcome or landmark: DeLong CI and paired test, stratified bootstrap, Youden (pROC)',
  usage: [
    '  --score=a[,b]  --outcome=COL (0/1) | --landmark=t   --direction=<|> per score (default <: higher = more risk)',
    '  --boot-n=2000  --seed=N  --workers=K (bootstrap threads; results do not depend on K)',
    '  --threshold=x: sensitivity, specificity, PPV, NPV and counts at x (positive: score >= x for <, <= x for >)',
  ].join('\n'),
  options: ['score', 'outcome', 'landmark', 'direction', 'boot-n', 'seed', 'workers', 'threshold'],
  run: runRoc,
  print(out) {
    const r = out.result;
    const scores = Object.keys(r).filter((k) => typeof r[k] === 'object' && r[k] !== null && 'auc' in (r[k] as object) && k !== 'delong_test');
    const rows = scores.map((s) => r[s] as { auc: number; ci_delong: number[]; ci_bootstrap_percentile: number[]; youden_best: { threshold: number[]; sensitivity: number[]; specificity: number[] } });
    const lines = [
      `ROC: ${r['n_cases']} cases, ${r['n_controls']} controls (${r['outcome']})`,
      formatTable(
        {
          score: scores,
          AUC: rows.map((x) => x.auc),
          'DeLong 95% CI': rows.map((x) => `${fmt(x.ci_delong[0], 4)}-${fmt(x.ci_delong[1], 4)}`),
          'bootstrap 95% CI': rows.map((x) => `${fmt(x.ci_bootstrap_percentile[0], 4)}-${fmt(x.ci_bootstrap_percentile[1], 4)}`),
          'Youden threshold': rows.map((x) => x.youden_best.threshold[0]),
          sens: rows.map((x) => x.youden_best.sensitivity[0]),
          spec: rows.map((x) => x.youden_best.specificity[0]),
        },
        4,
      ),
    ];
    const t = r['delong_test'] as { a: string; b: string; z: number; p: number } | undefined;
    if (t) lines.push(`DeLong's test for two correlated ROC curves (${t.a} vs ${t.b}): Z = ${fmt(t.z, 4)}, p = ${fmt(t.p, 4)}`);
    return lines.join('\n');
  },
};
