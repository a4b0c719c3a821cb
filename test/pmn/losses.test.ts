import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '@hcc/torch';
import { clusterSeparation, coxBreslowLoss, classWeights, lastLayerL1 } from '../../src/pmn/losses.js';

torch.setNumThreads(1);

/** Breslow partial likelihood by its definition: for each event, everyone with T_j ≥ T_i is at risk. */
function bruteBreslow(r: number[], time: number[], event: number[]): number {
  let sum = 0;
  let events = 0;
  for (let i = 0; i < r.length; i++) {
    if (!event[i]) continue;
    events++;
    let s = 0;
    for (let j = 0; j < r.length; j++) if (time[j]! >= time[i]!) s += Math.exp(r[j]!);
    sum += r[i]! - Math.log(s);
  }
  return events ? -sum / events : 0;
}

test('Breslow Cox loss equals the brute-force partial likelihood on tied data, and its gradient too', () => {
  const r = [0.3, -1.2, 0.8, 0.1, 2.0, -0.4, 0.5, 0.0, -0.7, 1.1];
  const time = [5, 3, 5, 8, 1, 3, 5, 10, 8, 1];
  const event = [1, 1, 0, 1, 1, 0, 1, 0, 1, 1];
  const risk = torch.tensor(r, { dtype: 'float64' }).requiresGrad_();
  const loss = coxBreslowLoss(risk, time, event);
  assert.ok(Math.abs(loss.item() - bruteBreslow(r, time, event)) < 1e-12, `${loss.item()} vs ${bruteBreslow(r, time, event)}`);
  loss.backward();
  const grad = risk.grad!.tolist() as number[];
  for (let k = 0; k < r.length; k++) {
    const h = 1e-6;
    const up = [...r];
    const dn = [...r];
    up[k]! += h;
    dn[k]! -= h;
    const fd = (bruteBreslow(up, time, event) - bruteBreslow(dn, time, event)) / (2 * h);
    assert.ok(Math.abs(grad[k]! - fd) < 1e-7, `grad ${k}: ${grad[k]} vs ${fd}`);
  }
  // Invariant to a constant shift of the risks.
  const shifted = coxBreslowLoss(torch.tensor(r.map((v) => v + 3), { dtype: 'float64' }), time, event).item();
  assert.ok(Math.abs(shifted - loss.item()) < 1e-12);
});

test('Cox loss with no events is 0 (not NaN) and keeps a zero gradient', () => {
  const risk = torch.tensor([0.5, -0.5, 1.0]).requiresGrad_();
  const loss = coxBreslowLoss(risk, [1, 2, 3], [0, 0, 0]);
  assert.equal(loss.item(), 0);
  loss.backward();
  assert.deepEqual(risk.grad!.tolist(), [0, 0, 0]);
  assert.ok(coxBreslowLoss(torch.tensor([0.7]), [4], [1]).item() === 0, 'a single patient has nobody to rank against');
});

test('cluster and separation costs: nearest own-class and other-class distances, class-weighted', () => {
  // 2 samples, 4 prototypes (classes 0,0,1,1).
  const d = torch.tensor([[3, 5, 1, 9], [4, 2, 6, 7]]);
  const cls = [0, 0, 1, 1];
  const { cluster, separation } = clusterSeparation(d, [0, 1], cls, 64, [1, 3]);
  // sample 0 (class 0): own min 3, other min 1; sample 1 (class 1): own min 6, other min 2.
  assert.ok(Math.abs(cluster.item() - (1 * 3 + 3 * 6) / 4) < 1e-6);
  assert.ok(Math.abs(separation.item() - (1 * 1 + 3 * 2) / 4) < 1e-6);
  assert.notEqual(cluster.item(), 0);
});

test('class weights are N / (2 N_c); the L1 term covers only off-class weights and the Cox head', () => {
  assert.deepEqual(classWeights([0, 0, 0, 1]), [4 / 6, 2]);
  const w = torch.tensor([[1, 2, -3, 4], [5, -6, 7, 8]]);
  const v = torch.tensor([[0.5, -0.5, 0, 1]]);
  // class 0 row: off-class are prototypes 2,3 -> 3 + 4; class 1 row: prototypes 0,1 -> 5 + 6; cox: 2.
  assert.equal(lastLayerL1(w, v, [0, 0, 1, 1]).item(), 3 + 4 + 5 + 6 + 2);
});
