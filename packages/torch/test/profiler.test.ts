// profile(): the ops a step dispatched, forward and backward, under libtorch's names, with consistent times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';

test('profile lists forward and backward ops with counts, and self time never exceeds total time', () => {
  torch.tidy(() => {
    const w = torch.randn([4, 2, 3, 3, 3]).requiresGrad_();
    const x = torch.randn([1, 2, 6, 6, 6]);
    const { result, ops } = torch.profile(() => {
      const y = torch.F.conv3d(x, w, null, 1, 1).relu().sum();
      y.backward();
      return y.item();
    });
    assert.ok(Number.isFinite(result));
    const byName = new Map(ops.map((o) => [o.name, o]));
    assert.equal(byName.get('aten::conv3d')?.count, 1);
    assert.equal(byName.get('aten::relu')?.count, 1);
    assert.ok(byName.has('ConvolutionBackward0'), ops.map((o) => o.name).join(', '));
    for (const o of ops) assert.ok(o.selfUs >= 0 && o.selfUs <= o.totalUs + 1e-6, `${o.name}: self ${o.selfUs} total ${o.totalUs}`);
    for (let i = 1; i < ops.length; i++) assert.ok(ops[i - 1]!.selfUs >= ops[i]!.selfUs, 'sorted by self time');
  });
  // Off again: ops after profile() are not recorded (a second profile starts empty).
  assert.equal(torch.profile(() => 1).ops.length, 0);
});
