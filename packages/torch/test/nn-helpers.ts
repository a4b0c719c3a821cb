import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Tensor } from '../src/tensor.js';
import { readTorch } from '../src/serialization/reader.js';
import { StoredTensor, type PyValue } from '../src/serialization/values.js';
import { fixturePath } from './fixture-path.js';

/** A committed fixture read with our own reader (tensors stay host data). */
export function readFixture(...parts: string[]): Record<string, PyValue> {
  return readTorch(readFileSync(fixturePath(...parts)), parts.join('/')) as Record<string, PyValue>;
}

/** Asserts a tensor equals a stored one elementwise within `tol` (absolute plus relative), shape included. */
export function assertClose(actual: Tensor, expected: PyValue, tol: number, what: string): void {
  assert.ok(expected instanceof StoredTensor, `${what}: expected value is a tensor`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const a = Array.from(actual.toArray() as ArrayLike<number | bigint>, Number);
  const e = Array.from(expected.data as ArrayLike<number | bigint>, Number);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(a[i] - e[i]) / (1 + Math.abs(e[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: element ${at} is ${a[at]}, expected ${e[at]} (error ${worst} > ${tol})`);
}
