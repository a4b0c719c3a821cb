/** `hcc stats cox`: survival::coxph with the oracle's `cox` JSON (coefficients, tests, baselines, predictions). */
import { readCsv, type CsvTable } from '../../util/csv.js';
import { HccError, usageError } from '../../util/errors.js';
import { coxBaseline, coxBasehaz, coxDataFromFrame, coxLinearPredictor, coxPredictLp, coxSurvfit, curveAt, designRow, fitCox, type CoxData, type CoxFit, type Ties } from '../cox.js';
import { coxZph } from '../zph.js';
import { parseFormula, prepare, requireEvents, type Design, type SurvFrame, type Term } from '../data.js';
import { dataOptions, fmt, formatTable, optFlag, optList, optNumbers, optString, quantileType1, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

/** --formula or --covariates (the oracle's rhs_from_opts). */
export function formulaFrom(opts: TaskOptions): string {
  const f = opts['formula'];
  if (f !== undefined) return f;
  const cv = optList(opts, 'covariates');
  if (!cv) throw usageError("give --formula='a + b' (R syntax) or --covariates=a,b");
  return cv.join(' + ');
}

export function formulaColumns(terms: Term[]): string[] {
  return terms.map((t) => t.variable);
}

function coxOne(frame: SurvFrame, terms: Term[], ties: Ties, opts: TaskOptions): Record<string, unknown> {
  const strata = opts['strata'];
  const weights = opts['weights'];
  const { data, design } = coxDataFromFrame(frame, terms, strata, weights);
  const robustOpt = opts['robust'];
  const fit = fitCox(data, { ties, robust: robustOpt === undefined ? undefined : optFlag(opts, 'robust') });
  const baseline = coxBaseline(fit, data);
  const lpRaw = coxLinearPredictor(fit, data, false);
  const lpCent = coxLinearPredictor(fit, data, true);
  let times = optNumbers(opts, 'times');
  if (!times) times = quantileType1(Array.from(frame.time).filter((_, i) => frame.event[i] === 1), [0.25, 0.5, 0.75]);
  const preds = predictions(fit, data, design, frame, opts, times, baseline);
  const strataTerm = strata ? ` + strata(${strata})` : '';
  const out: Record<string, unknown> = {
    ties,
    formula: `Surv(oracle_time, oracle_event) ~ ${terms.map((t) => t.label).join(' + ')}${strataTerm}`,
    n: fit.n,
    nevent: fit.nevent,
    coefficients: { term: fit.names, coef: fit.coef, se: fit.naiveSe ?? fit.se, z: fit.z, p: fit.p, hr: fit.hr, hr_lower: fit.hrLower, hr_upper: fit.hrUpper },
    vcov: fit.vcov,
    means: Object.fromEntries(fit.names.map((n, j) => [n, fit.means[j]])),
    loglik: fit.loglik,
    tests: fit.tests,
    concordance: fit.concordance,
    linear_predictor: {
      row: frame.rows,
      lp_raw: lpRaw,
      lp_centered: lpCent,
      note: "lp_raw = X beta (treatment contrasts); lp_centered = predict(type='lp') = X beta - sum(beta*means) (per stratum for stratified fits)",
    },
    basehaz_uncentered: coxBasehaz(fit, data, false, baseline),
    basehaz_centered: coxBasehaz(fit, data, true, baseline),
    survfit_ctype: ties === 'efron' ? '2 (Efron-corrected hazard increments)' : '1 (Breslow/Nelson-Aalen increments)',
    predicted_survival: preds,
    cox_zph: coxZph(fit, data, design),
  };
  if (fit.robust) {
    out['robust'] = { se: fit.se, naive_se: fit.naiveSe, naive_vcov: fit.naiveVcov, note: 'vcov is the robust (sandwich) variance; coefficients.se is the model-based se, z and p and the HR CI use the robust se, as summary.coxph' };
  }
  if (fit.warnings.length > 0) out['warnings'] = fit.warnings;
  return out;
}

function predictions(fit: CoxFit, data: CoxData, design: Design, frame: SurvFrame, opts: TaskOptions, times: number[], baseline: ReturnType<typeof coxBaseline>): unknown[] {
  const strata = opts['strata'];
  const newdata = opts['newdata'];
  const items: { id: string; x: Float64Array; stratum: number }[] = [];
  if (newdata !== undefined) {
    const nd = readCsv(newdata);
    nd.rows.forEach((r, i) => {
      const get = (c: string) => {
        const j = nd.columns.indexOf(c);
        if (j < 0) throw new HccError(`${newdata}: no column '${c}'`);
        return r[j]!;
      };
      let stratum = 0;
      if (strata && data.strataLevels) {
        stratum = data.strataLevels.findIndex((l) => l === get(strata) || l === `${strata}=${get(strata)}`);
        if (stratum < 0) throw new HccError(`${newdata}, row ${i + 1}: stratum '${get(strata)}' is not in the fitted data`);
      }
      items.push({ id: `newdata_${i + 1}`, x: designRow(design, get, newdata), stratum });
    });
  } else {
    const rows = (optList(opts, 'rows') ?? frame.rows.slice(0, 3).map(String)).map(Number);
    const bad = rows.filter((r) => !frame.rows.includes(r));
    if (bad.length) throw usageError(`--rows not in the analysed data (dropped for NA or out of range): ${bad.join(',')}`);
    for (const r of rows) {
      const i = frame.rows.indexOf(r);
      items.push({ id: `row_${r}`, x: Float64Array.from(data.columns, (c) => c[i]!), stratum: data.strata ? data.strata[i]! : 0 });
    }
  }
  return items.map((it) => ({
    id: it.id,
    lp_centered: coxPredictLp(fit, data, it.x, data.strata ? it.stratum : undefined),
    ...curveAt(coxSurvfit(fit, baseline, it.x, it.stratum), times),
  }));
}

export function runCox(table: CsvTable, opts: TaskOptions): TaskOutput {
  const terms = parseFormula(formulaFrom(opts));
  const extra = [opts['strata'] ?? '', opts['weights'] ?? ''];
  const frame = prepare(table, dataOptions(opts), { columns: [...formulaColumns(terms), ...extra], timefix: true });
  requireEvents(frame, 'cox');
  const ties = optString(opts, 'ties', 'efron')!;
  if (!['efron', 'breslow', 'exact', 'both'].includes(ties)) throw usageError(`--ties must be efron, breslow, exact or both, got '${ties}'`);
  const result = ties === 'both' ? { efron: coxOne(frame, terms, 'efron', opts), breslow: coxOne(frame, terms, 'breslow', opts) } : coxOne(frame, terms, ties as Ties, opts);
  return { na: frame.na, result };
}

function printOne(r: Record<string, unknown>): string {
  const c = r['coefficients'] as Record<string, unknown[]>;
  const t = r['tests'] as Record<string, { statistic: number; df: number; p: number }>;
  const conc = r['concordance'] as { harrell_c: number; se: number };
  const ll = r['loglik'] as { null: number; model: number };
  return [
    `Call: coxph(${r['formula']}, ties = "${r['ties']}")`,
    `  n= ${r['n']}, number of events= ${r['nevent']}`,
    '',
    formatTable({ '': c['term']!, coef: c['coef']!, 'exp(coef)': c['hr']!, 'se(coef)': c['se']!, z: c['z']!, 'Pr(>|z|)': c['p']!, 'lower .95': c['hr_lower']!, 'upper .95': c['hr_upper']! }, 5),
    '',
    `Concordance= ${fmt(conc.harrell_c, 3)}  (se = ${fmt(conc.se, 3)} )`,
    `Log-likelihood: null ${fmt(ll.null)}, model ${fmt(ll.model)}`,
    `Likelihood ratio test= ${fmt(t['likelihood_ratio']!.statistic, 4)}  on ${t['likelihood_ratio']!.df} df,   p=${fmt(t['likelihood_ratio']!.p, 3)}`,
    `Wald test            = ${fmt(t['wald']!.statistic, 4)}  on ${t['wald']!.df} df,   p=${fmt(t['wald']!.p, 3)}`,
    `Score (logrank) test = ${fmt(t['score_logrank']!.statistic, 4)}  on ${t['score_logrank']!.df} df,   p=${fmt(t['score_logrank']!.p, 3)}`,
    ...((r['warnings'] as string[] | undefined) ?? []).map((w) => `Warning: ${w}`),
  ].join('\n');
}

export const coxTask: StatsTask = {
  name: 'cox',
  summary: 'Cox proportional hazards (survival::coxph): HRs, tests, baseline hazard, predicted survival',
  usage: `  --formula='a + b + log(c) + factor(d)' | --covariates=a,b   right-hand side
  --strata=COL   --ties=efron|breslow|exact|both   --weights=COL [--robust=TRUE|FALSE]
  --times=t1,t2  (prediction times; default quartiles of event times)
  --rows=1,2,3   (CSV data rows to predict for) | --newdata=FILE.csv`,
  options: ['formula', 'covariates', 'strata', 'ties', 'times', 'rows', 'newdata', 'weights', 'robust'],
  run: runCox,
  print(out) {
    const r = out.result;
    return 'efron' in r && 'breslow' in r ? ['== efron ==', printOne(r['efron'] as Record<string, unknown>), '', '== breslow ==', printOne(r['breslow'] as Record<string, unknown>)].join('\n') : printOne(r);
  },
};
