import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fitLogistic, predictLogistic } from '../../src/survival/logistic.js';
import { readCsv } from '../../src/util/csv.js';
import { fixture, shared } from '../helpers.js';

function lung() {
  const t = readCsv(shared('oracle', 'data', 'lung.csv'));
  const col = (n: string) => t.columns.indexOf(n);
  const rows = t.rows.filter((r) => ['status', 'age', 'sex', 'ph.ecog'].every((c) => r[col(c)] !== null));
  return {
    x: rows.map((r) => [Number(r[col('age')]), Number(r[col('sex')]), Number(r[col('ph.ecog')])]),
    y: rows.map((r) => (Number(r[col('status')]) === 2 ? 1 : 0)),
  };
}

const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('matches R glm(binomial) on lung: coefficients, SE, p, deviance, AIC, fitted values', () => {
  const ref = JSON.parse(readFileSync(fixture('survival', 'logistic.lung.json'), 'utf8'));
  const { x, y } = lung();
  assert.equal(y.length, ref.n);
  const fit = fitLogistic(x, y, { epsilon: 1e-12 });
  assert.ok(fit.converged);
  fit.coefficients.forEach((b, j) => close(b, ref.coefficients[j], 1e-7));
  fit.se!.forEach((s, j) => close(s, ref.se[j], 1e-6));
  fit.p!.forEach((p, j) => close(p, ref.p[j], 1e-6));
  close(fit.deviance, ref.deviance, 1e-9);
  close(fit.nullDeviance, ref.null_deviance, 1e-9);
  close(fit.aic, ref.aic, 1e-9);
  Array.from(predictLogistic(fit, x.slice(0, 5))).forEach((p, i) => close(p, ref.fitted_first5[i], 1e-7));
});

test('ridge fit satisfies its penalised score equations on the standardised scale and shrinks slopes', () => {
  const { x, y } = lung();
  const free = fitLogistic(x, y);
  const ridged = fitLogistic(x, y, { ridge: 20 });
  for (let j = 1; j < 4; j++) assert.ok(Math.abs(ridged.coefficients[j]!) < Math.abs(free.coefficients[j]!));
  // Stationarity: X'(y - mu) = lambda * b_std for each slope, with b_std = b * sd.
  const mu = predictLogistic(ridged, x);
  for (let j = 0; j < 3; j++) {
    const mean = x.reduce((s, r) => s + r[j]!, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, r) => s + (r[j]! - mean) ** 2, 0) / x.length);
    let score = 0;
    x.forEach((r, i) => (score += ((r[j]! - mean) / sd) * (y[i]! - mu[i]!)));
    close(score, 20 * ridged.coefficients[j + 1]! * sd, 1e-6);
  }
});

test('clear errors for one-class outcomes and non-finite covariates', () => {
  assert.throws(() => fitLogistic([[1], [2]], [1, 1]), /both classes are needed/);
  assert.throws(() => fitLogistic([[1], [NaN]], [0, 1], { names: ['afp'] }), /covariate 'afp' in row 2/);
});
