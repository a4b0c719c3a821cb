// Scopes, counters, dispose semantics and the GC backstop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as torch from '../src/index.js';
import { keep, memory, tidy, trainLoop } from '../src/index.js';

test('tidy disposes temporaries, returns survivors to the enclosing scope, and respects keep()', () => {
  const base = memory().live;
  let pinned: torch.Tensor | undefined;
  const kept = tidy(() => {
    const a = torch.ones([4]);
    const b = a.mul(2);
    pinned = keep(b.add(1));
    return { b, n: 3 };
  });
  assert.equal(pinned!.isDisposed, false);
  // b survived, the kept tensor survived, a and the intermediates are gone
  assert.equal(memory().live, base + 2);
  assert.deepEqual(kept.b.tolist(), [2, 2, 2, 2]);
  const inner = tidy(() => {
    const outerT = torch.zeros([2]);
    const innerT = tidy(() => outerT.add(1));
    assert.equal(innerT.isDisposed, false);
    return innerT.mul(3);
  });
  assert.deepEqual(inner.tolist(), [3, 3]);
  kept.b.dispose();
  inner.dispose();
  assert.equal(memory().live, base + 1);
  pinned!.dispose();
  assert.equal(memory().live, base);
});

test('tidy disposes everything when fn throws, and rejects async functions', () => {
  const base = memory().live;
  assert.throws(() => tidy(() => { torch.ones([3]).add(1); throw new Error('boom'); }), /boom/);
  assert.equal(memory().live, base);
  assert.throws(() => tidy((async () => torch.ones([1])) as never), /must be synchronous/);
});

test('a disposed tensor gives a clear JS error, never a crash', () => tidy(() => {
  const t = torch.ones([2]);
  t.dispose();
  t.dispose(); // idempotent
  assert.equal(t.isDisposed, true);
  assert.throws(() => t.add(1), /add: argument 'input' is a Tensor used after dispose\(\)/);
  assert.throws(() => torch.add(torch.ones([2]), t), /argument 'other' is a Tensor used after dispose/);
  assert.throws(() => t.shape, /shape: Tensor used after dispose\(\)/);
  assert.throws(() => t.toArray(), /Tensor used after dispose/);
  assert.equal(String(t), 'Tensor(disposed)');
}));

test('a training loop keeps the live-tensor count flat', async () => {
  const w = torch.randn([4, 1, 3, 3, 3]).requiresGrad_().keep();
  const x = torch.randn([1, 1, 6, 6, 6]).keep();
  const base = memory().live;
  const losses: number[] = [];
  await trainLoop(20, () => {
    const loss = torch.F.conv3d(x, w, null, 1, 1).pow(2).mean();
    loss.backward();
    torch.noGrad(() => { w.sub_(w.grad!.mul(0.01)); });
    w.grad = null;
    return loss.item();
  }, { onStep: (_, l) => { losses.push(l); } });
  assert.equal(memory().live, base);
  assert.ok(losses[19] < losses[0], 'loss decreases');
  w.dispose();
  x.dispose();
});

test('the GC finalizer frees forgotten tensors once the event loop turns', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const before = memory();
  for (let i = 0; i < 200; i++) torch.ones([1024]); // not in a scope, never disposed
  assert.equal(memory().live, before.live + 200);
  for (let round = 0; round < 10 && memory().live > before.live; round++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const after = memory();
  assert.ok(after.live <= before.live, `live ${after.live} > ${before.live}`);
  assert.ok(after.finalized >= before.finalized + 200);
  assert.ok(after.externalBytes <= before.externalBytes);
});
