import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readCsv, parseCsv } from '../../src/util/csv.js';
import { prepare, parseFormula } from '../../src/survival/data.js';
import { coxBasehaz, coxDataFromFrame, fitCox, type Ties } from '../../src/survival/cox.js';
import { concordanceFit } from '../../src/survival/concordance.js';
import { kaplanMeier } from '../../src/survival/km.js';
import { survdiff } from '../../src/survival/logrank.js';
import { runTask } from '../../src/survival/tasks/index.js';
import { fixture, shared } from '../helpers.js';

function close(a: number, e: number, rel: number, what: string): void {
  assert.ok(Math.abs(a - e) <= rel * Math.abs(e) + 1e-13, `${what}: got ${a}, R gives ${e}`);
}
function closeAll(a: ArrayLike<number>, e: number[], rel: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, i) => close(a[i]!, v, rel, `${what}[${i}]`));
}

// R: coxph(Surv(time, status) ~ age + sex + ph.ecog, weights = w) on lung with non-integer weights (weighted_cox.R).
test('weighted Cox: coefficients, naive and robust (sandwich) variance, robust score test and baseline equal R', () => {
  const ref = JSON.parse(readFileSync(fixture('survival', 'lung.cox.weighted.json'), 'utf8')) as Record<string, Record<string, number[] & number[][]>>;
  const table = readCsv(fixture('survival', 'lung_w.csv'));
  const terms = parseFormula('age + sex + ph.ecog');
  const frame = prepare(table, {}, { columns: ['age', 'sex', 'ph.ecog', 'w'] });
  const { data } = coxDataFromFrame(frame, terms, undefined, 'w');
  for (const ties of ['efron', 'breslow'] as Ties[]) {
    const r = ref[ties]!;
    const fit = fitCox(data, { ties });
    assert.equal(fit.robust, true);
    closeAll(fit.coef, r['coef']!, 1e-7, `${ties} coef`);
    closeAll(fit.naiveSe!, r['naive_se']!, 1e-7, `${ties} naive se`);
    closeAll(fit.se, r['robust_se']!, 1e-7, `${ties} robust se`);
    fit.vcov.forEach((row, i) => closeAll(row, r['vcov']![i]!, 1e-7, `${ties} vcov`));
    closeAll(fit.z, r['z']!, 1e-7, `${ties} z`);
    closeAll(fit.p, r['p']!, 1e-6, `${ties} p`);
    closeAll(fit.hrLower, r['hr_lower']!, 1e-7, `${ties} HR lower`);
    closeAll([fit.loglik.null, fit.loglik.model], r['loglik']!, 1e-10, `${ties} loglik`);
    close(fit.tests.wald.statistic, r['wald'] as unknown as number, 1e-7, `${ties} robust Wald`);
    close(fit.tests.robust_score!.statistic, r['robust_score'] as unknown as number, 1e-7, `${ties} robust score`);
    close(fit.tests.score_logrank.statistic, r['score'] as unknown as number, 1e-7, `${ties} score`);
    closeAll([fit.concordance.harrell_c, fit.concordance.se], r['concordance']!, 1e-7, `${ties} concordance`);
    closeAll(coxBasehaz(fit, data, false).hazard, r['basehaz']!, 1e-7, `${ties} basehaz`);
  }
});

function lungFrame(rows?: number[], timeScale = 1) {
  const t = readCsv(shared('oracle', 'data', 'lung.csv'));
  const ti = t.columns.indexOf('time');
  const picked = (rows ?? t.rows.map((_, i) => i)).map((i) => t.rows[i]!.map((c, j) => (j === ti && c !== null ? String(Number(c) * timeScale) : c)));
  return prepare({ ...t, rows: picked }, {}, { columns: ['age', 'sex', 'ph.ecog'] });
}

test('row order does not change the Cox fit, Kaplan-Meier, log-rank or concordance', () => {
  const n = readCsv(shared('oracle', 'data', 'lung.csv')).rows.length;
  const perm = Array.from({ length: n }, (_, i) => (i * 97) % n);
  const a = lungFrame();
  const b = lungFrame(perm);
  const terms = parseFormula('age + sex + ph.ecog');
  const fa = fitCox(coxDataFromFrame(a, terms).data);
  const fb = fitCox(coxDataFromFrame(b, terms).data);
  closeAll(fb.coef, fa.coef, 1e-9, 'coef');
  closeAll(fb.se, fa.se, 1e-9, 'se');
  close(fb.loglik.model, fa.loglik.model, 1e-12, 'loglik');
  close(fb.concordance.se, fa.concordance.se, 1e-12, 'C se');
  closeAll(kaplanMeier(b.time, b.event).surv, kaplanMeier(a.time, a.event).surv, 1e-14, 'KM');
  const sex = (f: typeof a) => Int32Array.from(f.index, (i) => (f.table.rows[i]![f.table.columns.indexOf('sex')] === '2' ? 1 : 0));
  close(survdiff(b.time, b.event, sex(b), 2).chisq, survdiff(a.time, a.event, sex(a), 2).chisq, 1e-12, 'log-rank');
});

test('time units do not change coefficients, tests or concordance; a monotone transform of the score keeps C', () => {
  const terms = parseFormula('age + sex + ph.ecog');
  const days = fitCox(coxDataFromFrame(lungFrame(), terms).data);
  const months = fitCox(coxDataFromFrame(lungFrame(undefined, 1 / 30.4375), terms).data);
  closeAll(months.coef, days.coef, 1e-9, 'coef');
  close(months.tests.score_logrank.statistic, days.tests.score_logrank.statistic, 1e-9, 'score test');
  const f = lungFrame();
  const age = Float64Array.from(f.index, (i) => Number(f.table.rows[i]![f.table.columns.indexOf('age')]));
  const c1 = concordanceFit(f.time, f.event, age, { reverse: true, timewt: 'n/G2', ymax: 500 });
  const c2 = concordanceFit(f.time, f.event, age.map((x) => Math.exp(x / 10) + x ** 3), { reverse: true, timewt: 'n/G2', ymax: 500 });
  close(c2.c, c1.c, 1e-14, 'Uno C after a monotone transform');
  close(c2.se, c1.se, 1e-12, 'its se');
});

test('clear errors: missing column, bad status coding, negative time, no events, constant covariate', async () => {
  const csv = (text: string) => parseCsv(text, 'x.csv');
  assert.throws(() => prepare(csv('time,status\n1,1\n'), {}, { columns: ['age'] }), /column\(s\) not found: age/);
  assert.throws(() => prepare(csv('time,status\n1,3\n2,0\n'), {}, { columns: [] }), /status column 'status' must be coded 0\/1/);
  assert.throws(() => prepare(csv('time,status\n-1,1\n2,0\n'), {}, { columns: [] }), /time column 'time', data row 1: -1/);
  const noEvents = prepare(csv('time,status,x\n1,0,1\n2,0,2\n'), {}, { columns: ['x'] });
  assert.throws(() => fitCox(coxDataFromFrame(noEvents, parseFormula('x')).data), /no events/);
  const constant = prepare(csv('time,status,x\n1,1,5\n2,0,5\n3,1,5\n'), {}, { columns: ['x'] });
  assert.throws(() => coxDataFromFrame(constant, parseFormula('x')), /covariate 'x' is constant/);
  await assert.rejects(runTask('logrank', shared('oracle', 'data', 'lung.csv'), { group: 'nope' }), /column\(s\) not found: nope/);
});

test('collinear columns are dropped with NA and a warning, as coxph does', () => {
  const f = lungFrame();
  const terms = parseFormula('age + sex + ph.ecog');
  const { data } = coxDataFromFrame(f, terms);
  const twice = Float64Array.from(data.columns[0]!, (x, i) => 2 * x + data.columns[2]![i]!);
  const fit = fitCox({ ...data, columns: [...data.columns, twice], names: [...data.names, 'age2'] });
  assert.ok(Number.isNaN(fit.coef[3]!));
  assert.equal(fit.tests.wald.df, 3);
  assert.match(fit.warnings.join('\n'), /singular; variable 4 \(age2\)/);
  const ref = fitCox(data);
  closeAll(fit.coef.slice(0, 3), ref.coef, 1e-8, 'remaining coefficients');
});

test('separation gives R\'s warning and R\'s (large) coefficient; running out of iterations is reported', () => {
  // R: coxph(Surv(time, status) ~ x + z): x = 1 exactly for the 4 earliest times.
  const text = 'time,status,x,z\n1,1,1,0.3\n2,1,1,1.2\n3,0,1,0.5\n4,1,1,2.2\n5,1,0,0.1\n6,1,0,1.7\n7,0,0,0.9\n8,1,0,1.1\n9,1,0,0.4\n10,1,0,1.5\n';
  const f = prepare(parseCsv(text, 'sep.csv'), {}, { columns: ['x', 'z'] });
  const { data } = coxDataFromFrame(f, parseFormula('x + z'));
  const fit = fitCox(data);
  closeAll(fit.coef, [22.4882095, -0.8347231], 1e-6, 'coef');
  assert.equal(fit.loglik.iter, 19);
  assert.deepEqual(fit.warnings, ['Loglik converged before variable  1 ; coefficient may be infinite. ']);
  const short = fitCox(data, { maxIter: 3 });
  assert.equal(short.converged, false);
  closeAll(short.coef, [6.4451343, -0.8318823], 1e-6, 'coef after 3 iterations');
  assert.equal(short.warnings[0], 'Ran out of iterations and did not converge');
});

test('robust = TRUE without weights gives R\'s sandwich se, robust Wald and robust score tests', () => {
  // R: coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung, robust = TRUE)
  const { data } = coxDataFromFrame(lungFrame(), parseFormula('age + sex + ph.ecog'));
  const fit = fitCox(data, { robust: true });
  closeAll(fit.se, [0.00988139278009105, 0.16474842795208, 0.124158848613175], 1e-7, 'robust se');
  close(fit.tests.robust_score!.statistic, 27.4262958578737, 1e-7, 'robust score');
  close(fit.tests.wald.statistic, 23.8022914238079, 1e-7, 'robust Wald');
});
