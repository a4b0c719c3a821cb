/** `hcc stats nomogram`: rms::cph + rms::nomogram with survival axes, the oracle's `nomogram` JSON. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { coxBaseline, coxDataFromFrame, coxSurvfit, curveAt, fitCox } from '../cox.js';
import { frameVariable, parseFormula, prepare, requireEvents } from '../data.js';
import { buildNomogram, datadistFactor, datadistNumeric, pretty, type DatadistEntry, type NomogramPredictor } from '../nomogram.js';
import { dataOptions, fmt, formatTable, optList, optNumber, optNumbers, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';
import { formulaFrom } from './cox.js';

const LIMIT_NAMES = ['Low:effect', 'Adjust to', 'High:effect', 'Low:prediction', 'High:prediction', 'Low', 'High'];

function limitText(v: number | string | null): string | null {
  if (v === null) return null;
  return typeof v === 'number' ? String(Number(v.toPrecision(15))) : v;
}

export function runNomogram(table: CsvTable, opts: TaskOptions): TaskOutput {
  const rhs = formulaFrom(opts);
  const terms = parseFormula(rhs);
  if (terms.some((t) => t.kind === 'strata')) throw usageError('nomogram: strata() is not supported');
  const frame = prepare(table, dataOptions(opts), { columns: terms.map((t) => t.variable), timefix: true });
  requireEvents(frame, 'nomogram');
  const times = optNumbers(opts, 'times');
  if (!times) throw usageError('nomogram: --times required');
  const maxscale = optNumber(opts, 'maxscale', 100)!;
  const nint = optNumber(opts, 'nint', 10)!;
  const ties = (opts['ties'] ?? 'efron') as 'efron' | 'breslow';
  const { data, design } = coxDataFromFrame(frame, terms);
  // rms::cph: every column centred (no nocenter), tight convergence (the oracle's eps = 1e-10, tol = 1e-13).
  const fit = fitCox(data, { ties, eps: 1e-10, tolerChol: 1e-13, maxIter: 50, centerAll: true });
  const center = fit.coef.reduce((s, b, j) => s + b * fit.means[j]!, 0);
  const lp = Float64Array.from(frame.time, (_, i) => fit.coef.reduce((s, b, j) => s + b * data.columns[j]![i]!, 0) - center);
  const baseline = coxBaseline(fit, data);
  const curve = coxSurvfit(fit, baseline, fit.means);
  // Survival(cph): step function over c(0, event times[, the largest time]).
  const bt = [0];
  const bs = [1];
  curve.time.forEach((t, k) => {
    if (baseline[0]!.nEvent[k]! > 0) {
      bt.push(t);
      bs.push(curve.surv[k]!);
    }
  });
  const maxT = Math.max(...frame.time);
  if (maxT > bt[bt.length - 1]!) {
    bt.push(maxT);
    bs.push(bs[bs.length - 1]!);
  }
  const limits: Record<string, Record<string, string | null>> = {};
  const axisGiven: Record<string, number[] | string[]> = {};
  const coefficients: Record<string, number> = {};
  const predictors: NomogramPredictor[] = terms.map((term, t) => {
    const cols = design.assign.map((a, j) => (a === t ? j : -1)).filter((j) => j >= 0);
    const v = frameVariable(frame, term.variable);
    const levels = design.levels.get(term.label);
    let dd: DatadistEntry;
    if (v.kind === 'factor') dd = datadistFactor(v.levels, v.codes);
    else if (levels) dd = datadistFactor(levels, Float64Array.from(v.values, (x) => levels.indexOf(String(x))));
    else dd = datadistNumeric(v.values);
    limits[term.variable] = Object.fromEntries(LIMIT_NAMES.map((n, k) => [n, limitText(dd.limits[k]!)]));
    const coefNames = levels ? levels.slice(1).map((l) => `${term.variable}=${l}`) : [term.variable];
    cols.forEach((j, k) => (coefficients[coefNames[k]!] = fit.coef[j]!));
    const given = optList(opts, `axis-${term.variable}`);
    let axis: number[] | string[];
    if (given) {
      const num = given.map(Number);
      axis = num.some(Number.isNaN) ? given : num;
      axisGiven[term.variable] = axis;
    } else if (levels) axis = levels;
    else if (dd.values) axis = dd.values as number[];
    else axis = pretty(dd.limits[5] as number, dd.limits[6] as number, nint);
    return { variable: term.variable, term, coefNames, coefs: cols.map((j) => fit.coef[j]!), levels, axis };
  });
  const nom = buildNomogram({ predictors, center, linearPredictors: lp, times, baseline: { time: bt, surv: bs }, maxscale, nint, pointsStep: optNumber(opts, 'points-step', 10) });
  // survival::coxph + survfit for row 1, against the cph-based S(t | lp) of the same row.
  const cfit = fitCox(data, { ties });
  const x0 = Float64Array.from(data.columns, (c) => c[0]!);
  const surv0 = curveAt(coxSurvfit(cfit, coxBaseline(cfit, data), x0), times).surv;
  const result = {
    formula: `Surv(oracle_time, oracle_event) ~ ${terms.map((t) => t.label).join(' + ')}`,
    times,
    maxscale,
    coefficients,
    centering_constant: center,
    scale_points_per_lp_unit: nom.sc,
    intercept_lp_at_zero_points: nom.intercept,
    rule: 'points_k(x) = sc * (beta_k*x - min over axis of beta_k*x) [for a negative beta the minimum is at the axis maximum]; sc = maxscale / max_k(range_k of beta_k*x over its axis); total points TP -> linear predictor lp = intercept + TP/sc (lp centred as in cph: X beta - center); S(t|lp) = S0(t)^exp(lp)',
    axis_range_rule: "continuous axes span pretty() of the full data range (datadist Low..High, type.range='full') with nint ticks",
    points_per_unit: nom.pointsPerUnit,
    points_per_unit_note: 'abs(beta)*sc for terms whose coefficient name equals the variable (per unit of the transformed term, e.g. per unit of log(bili))',
    axis_values_given: axisGiven,
    axes: Object.fromEntries(Object.entries(nom.axes).map(([k, a]) => [k, { variable: a.variable, values: a.values, xbeta: a.xbeta, points: a.points }])),
    lp_axis: nom.lpAxis,
    survival_axes: nom.survivalAxes,
    total_points_grid: nom.totalPointsGrid,
    baseline_survival_at_lp0: nom.baselineSurvivalAtLp0,
    datadist_limits: limits,
    check_survival_coxph: {
      note: 'S(t|row 1) from survival::survfit(coxph) vs rms Survival(cph, eps=1e-10) at the same lp',
      row: frame.rows[0],
      survfit_coxph: surv0,
      rms_survival: times.map((t) => nom.survival(t, lp[0]!)),
    },
  };
  return { na: frame.na, result };
}

export const nomogramTask: StatsTask = {
  name: 'nomogram',
  summary: 'Cox nomogram (rms::nomogram): points per predictor, total points -> linear predictor -> S(t)',
  usage: `  --formula='a + b + log(c)' | --covariates=a,b   --times=t1,t2 (one survival axis each)   --maxscale=100
  --nint=10   --axis-VAR=v1,v2,... (axis values)   --points-step=10   --ties=efron|breslow`,
  options: ['formula', 'covariates', 'times', 'maxscale', 'nint', 'points-step', 'ties'],
  prefixes: ['axis-'],
  run: runNomogram,
  print(out) {
    const r = out.result as Record<string, any>;
    const lines = [`Nomogram: ${r['formula']} (${fmt(r['scale_points_per_lp_unit'], 5)} points per unit of linear predictor)`];
    for (const a of Object.values(r['axes']) as { variable: string; values: unknown[]; points: number[] }[]) {
      lines.push('', formatTable({ [a.variable]: a.values, Points: a.points }, 4));
    }
    const g = r['total_points_grid'];
    lines.push('', formatTable({ 'Total Points': g.points, lp: g.lp, ...Object.fromEntries(Object.entries(g.surv as Record<string, unknown[]>)) }, 4));
    return lines.join('\n');
  },
};
