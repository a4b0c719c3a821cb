import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('same seed and keys give the same stream; different keys differ', () => {
  const a = Rng.stream(42, 'patient', 7);
  const b = Rng.stream(42, 'patient', 7);
  const c = Rng.stream(42, 'patient', 8);
  const xa = Array.from({ length: 5 }, () => a.nextUint32());
  const xb = Array.from({ length: 5 }, () => b.nextUint32());
  const xc = Array.from({ length: 5 }, () => c.nextUint32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test('fillUint32 gives the numbers nextUint32 would, and the stream continues after them', () => {
  const a = Rng.stream(42, 'noise');
  const b = Rng.stream(42, 'noise');
  const filled = new Uint32Array(1000);
  a.fillUint32(filled);
  assert.deepEqual([...filled], Array.from({ length: 1000 }, () => b.nextUint32()));
  assert.equal(a.nextUint32(), b.nextUint32());
});

test('uniform and normal have the right first two moments', () => {
  const r = Rng.stream(1);
  const n = 200_000;
  let su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u; su2 += u * u;
    const z = r.normal();
    sn += z; sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  assert.ok(Math.abs(su2 / n - su * su / n / n - 1 / 12) < 0.002);
  assert.ok(Math.abs(sn / n) < 0.01);
  assert.ok(Math.abs(sn2 / n - 1) < 0.015);
});

test('int is unbiased across its range and rejects bad n', () => {
  const r = Rng.stream(3);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[r.int(3)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
  assert.throws(() => r.int(0), /n must be an integer/);
});
