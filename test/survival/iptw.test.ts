import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runTask } from '../../src/survival/tasks/index.js';
import { fixture } from '../helpers.js';

function close(a: number, e: number, rel: number, what: string): void {
  assert.ok(Math.abs(a - e) <= rel * Math.abs(e) + 1e-12, `${what}: got ${a}, R gives ${e}`);
}

// glm stops at a relative deviance change of 1e-8, so weighted SMDs agree to ~1e-6 only.
// R: glm propensity, stabilised ATE weights, coxph(weights, robust), weighted survfit, SMDs (iptw.R).
test('IPTW: propensity, balance, weighted KM and weighted Cox with robust SE equal R', async () => {
  const ref = JSON.parse(readFileSync(fixture('survival', 'lung.iptw.json'), 'utf8'));
  const doc = await runTask('iptw', fixture('survival', 'lung.csv'), { treatment: 'sex', covariates: 'age,ph.ecog,wt.loss', times: '200,400' });
  const r = doc.result as any;
  ref.ps_coef.forEach((v: number, i: number) => close(r.propensity_model.coef[i], v, 1e-7, `propensity coef ${i}`));
  close(r.weighted_cox.hr[0], ref.hr, 1e-7, 'HR');
  close(r.weighted_cox.robust_se[0], ref.robust_se, 1e-7, 'robust se');
  ref.smd_before.forEach((v: number, i: number) => close(r.balance.smd_before[i], v, 1e-9, `SMD before ${i}`));
  ref.smd_after.forEach((v: number, i: number) => close(r.balance.smd_after[i], v, 1e-5, `SMD after ${i}`));
  [0, 1].forEach((a) => ref.km_at[a].forEach((v: number, k: number) => close(r.weighted_km[a].at_times.surv[k], v, 1e-7, `weighted KM arm ${a}`)));
  assert.ok(Math.max(...r.balance.smd_after.map(Math.abs)) < 0.05, 'weighting balances the covariates');
});

test('IPTW: ATT weights with the propensity truncated at its 5th/95th percentiles equal R', async () => {
  const ref = JSON.parse(readFileSync(fixture('survival', 'lung.iptw.json'), 'utf8')).att_trim;
  const doc = await runTask('iptw', fixture('survival', 'lung.csv'), { treatment: 'sex', covariates: 'age,ph.ecog', estimand: 'ATT', trim: '0.05,0.95' });
  const r = doc.result as any;
  ref.bounds.forEach((v: number, i: number) => close(r.trim_bounds[i], v, 1e-6, `trim bound ${i}`));
  close(r.weighted_cox.hr[0], ref.hr, 1e-6, 'HR');
  close(r.weighted_cox.robust_se[0], ref.robust_se, 1e-6, 'robust se');
  ref.weight_sum.forEach((v: number, i: number) => close(r.weights_summary.sum[i], v, 1e-6, `weight sum ${i}`));
});
