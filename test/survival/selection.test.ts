import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectCoxVariables } from '../../src/survival/selection.js';
import { readCsv } from '../../src/util/csv.js';
import { shared } from '../helpers.js';

const COVARIATES = ['age', 'sex', 'ph.ecog', 'ph.karno', 'wt.loss', 'meal.cal'];

function lungComplete() {
  const t = readCsv(shared('oracle', 'data', 'lung.csv'));
  const col = (n: string) => t.columns.indexOf(n);
  const rows = t.rows.filter((r) => ['time', 'status', ...COVARIATES].every((c) => r[col(c)] !== null));
  const num = (c: string) => Float64Array.from(rows, (r) => Number(r[col(c)]));
  return {
    time: num('time'),
    event: Float64Array.from(rows, (r) => (Number(r[col('status')]) === 2 ? 1 : 0)),
    candidates: COVARIATES.map((name) => ({ name, values: num(name) })),
  };
}

test('backward AIC without a screen reproduces R step(coxph) on lung', () => {
  // R: step(coxph(Surv(time, status) ~ age + sex + ph.ecog + ph.karno + wt.loss + meal.cal), direction = "backward")
  // on the 170 complete cases keeps sex, ph.ecog, ph.karno, wt.loss with AIC 1029.97.
  const input = lungComplete();
  assert.equal(input.time.length, 170);
  const r = selectCoxVariables(input, { screenP: 1 });
  assert.deepEqual(r.selected, ['sex', 'ph.ecog', 'ph.karno', 'wt.loss']);
  assert.ok(Math.abs(r.fit.loglik.aic - 1029.97) < 0.005, `AIC ${r.fit.loglik.aic}`);
  for (let i = 1; i < r.steps.length; i++) assert.ok(r.steps[i]!.aic < r.steps[i - 1]!.aic);
});

test('the univariable screen and forced terms are honoured', () => {
  const input = lungComplete();
  const r = selectCoxVariables(input, { screenP: 0.05, force: ['age'] });
  const kept = r.screen.filter((s) => s.kept).map((s) => s.name);
  assert.ok(kept.includes('age'));
  for (const s of r.screen) if (s.name !== 'age') assert.equal(s.kept, s.p < 0.05);
  assert.ok(r.selected.includes('age'));
  assert.throws(() => selectCoxVariables(input, { force: ['nope'] }), /forced term 'nope'/);
});
