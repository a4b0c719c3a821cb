/**
 * The prediction models of the score, calibration and dca tasks, given as the oracle's options (parse_models and
 * model_risks in oracle.R):
 * - `--cox='name:rhs;name2:rhs2'`: in-sample coxph fits (ties from --ties, default efron); risk at t =
 *   1 - S(t|x) from survfit.coxph (summary(..., extend = TRUE));
 * - `--risk-cols=c_t1,c_t2,...` with `--risk-name=NAME`: predicted P(T <= t) per evaluation time;
 * - `--marker=a[,b]`: markers (higher = more risk), for the AUC only.
 * Order: Cox models, then the risk columns, then markers.
 *
 * Exports: `ModelSpec`, `parseModels(opts)`, `modelColumns(specs)`, `buildModels(frame, specs, times, opts)` ->
 * {models: ScoreModel[], fits}, `coxRiskAt(fitted, t)`.
 */
import { HccError, usageError } from '../../util/errors.js';
import { coxBaseline, coxDataFromFrame, coxLinearPredictor, fitCox, stepIndex, type CoxData, type CoxFit, type StratumHazard, type Ties } from '../cox.js';
import { frameVariable, parseFormula, type SurvFrame } from '../data.js';
import { aeqTimes } from '../timefix.js';
import type { ScoreModel } from '../score.js';
import { optList, type TaskOptions } from './task.js';

export type ModelSpec =
  | { kind: 'cox'; name: string; rhs: string; vars: string[] }
  | { kind: 'riskcols'; name: string; cols: string[]; vars: string[] }
  | { kind: 'marker'; name: string; col: string; vars: string[] };

export function parseModels(opts: TaskOptions): ModelSpec[] {
  const specs: ModelSpec[] = [];
  if (opts['cox'] !== undefined) {
    opts['cox'].split(';').map((p) => p.trim()).filter((p) => p !== '').forEach((p, k) => {
      const m = /^([A-Za-z][A-Za-z0-9_.]*):(.*)$/.exec(p);
      const name = m ? m[1]! : `cox${k + 1}`;
      const rhs = m ? m[2]! : p;
      specs.push({ kind: 'cox', name, rhs, vars: [...new Set(parseFormula(rhs).map((t) => t.variable))] });
    });
  }
  const rc = optList(opts, 'risk-cols');
  if (rc) specs.push({ kind: 'riskcols', name: opts['risk-name'] ?? 'risk', cols: rc, vars: rc });
  for (const mk of optList(opts, 'marker') ?? []) specs.push({ kind: 'marker', name: mk, col: mk, vars: [mk] });
  if (specs.length === 0) throw usageError("give --marker=col[,col2], --risk-cols=c_t1,c_t2 (one per time) or --cox='name:rhs;name2:rhs2'");
  return specs;
}

export function modelColumns(specs: ModelSpec[]): string[] {
  return [...new Set(specs.flatMap((s) => s.vars))];
}

export interface FittedCox {
  fit: CoxFit;
  data: CoxData;
  baseline: StratumHazard[];
  /** exp(X beta - sum(beta * means)) per row: the factor survfit.coxph applies to the baseline. */
  relRisk: Float64Array;
  /** Cumulative baseline hazard per stratum at its times. */
  cumhaz: Float64Array[];
}

/** An in-sample coxph fit and its survfit.coxph baseline, with coxph's timefix applied to the times. */
export function fitCoxModel(frame: SurvFrame, rhs: string, ties: Ties): FittedCox {
  const { data } = coxDataFromFrame({ ...frame, time: aeqTimes(frame.time) }, parseFormula(rhs));
  const fit = fitCox(data, { ties });
  const baseline = coxBaseline(fit, data);
  const lp = coxLinearPredictor(fit, data, false);
  const b = fit.coef.map((x) => (Number.isNaN(x) ? 0 : x));
  const center = b.reduce((s, bj, j) => s + bj * fit.means[j]!, 0);
  const cumhaz = baseline.map((st) => {
    let h = 0;
    return Float64Array.from(st.hazard, (x) => (h += x));
  });
  return { fit, data, baseline, relRisk: lp.map((x) => Math.exp(x - center)), cumhaz };
}

/** 1 - S(t | x_i) for every fitted row. */
export function coxRiskAt(m: FittedCox, t: number): Float64Array {
  const H = m.baseline.map((st, s) => {
    const k = stepIndex(st.time, t);
    return k < 0 ? 0 : m.cumhaz[s]![k]!;
  });
  const out = new Float64Array(m.relRisk.length);
  const strata = m.data.strata;
  for (let i = 0; i < out.length; i++) out[i] = 1 - Math.exp(-H[strata ? strata[i]! : 0]! * m.relRisk[i]!);
  return out;
}

function numericColumn(frame: SurvFrame, col: string): Float64Array {
  const v = frameVariable(frame, col);
  if (v.kind !== 'numeric') throw new HccError(`${frame.source}: column '${col}' must be numeric (a risk or marker), it has text values`);
  return v.values;
}

export function buildModels(frame: SurvFrame, specs: ModelSpec[], times: number[], opts: TaskOptions): { models: ScoreModel[]; fits: Map<string, FittedCox> } {
  const ties = (opts['ties'] ?? 'efron') as Ties;
  if (ties !== 'efron' && ties !== 'breslow') throw usageError(`--ties must be efron or breslow, got '${ties}'`);
  const fits = new Map<string, FittedCox>();
  const models = specs.map((s): ScoreModel => {
    if (s.kind === 'cox') {
      const f = fitCoxModel(frame, s.rhs, ties);
      fits.set(s.name, f);
      return { name: s.name, kind: 'risk', at: (t) => coxRiskAt(f, t) };
    }
    if (s.kind === 'riskcols') {
      if (s.cols.length !== times.length) throw usageError(`--risk-cols needs one column per --times value (${s.cols.length} columns for ${times.length} times)`);
      const cols = s.cols.map((c) => numericColumn(frame, c));
      cols.forEach((c, k) =>
        c.forEach((p, i) => {
          if (!(p >= 0 && p <= 1)) throw new HccError(`${frame.source}: risk column '${s.cols[k]}', data row ${frame.rows[i]}: ${p} is not a probability in [0, 1]`);
        }),
      );
      return {
        name: s.name,
        kind: 'risk',
        at: (t) => {
          const k = times.indexOf(t);
          if (k < 0) throw new HccError(`risk columns of '${s.name}' hold predictions at ${times.join(', ')} only, not at ${t}`);
          return cols[k]!;
        },
      };
    }
    const x = numericColumn(frame, s.col);
    return { name: s.name, kind: 'marker', at: () => x };
  });
  return { models, fits };
}
