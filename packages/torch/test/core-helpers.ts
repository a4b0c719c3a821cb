import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromBuffer, type DType, type Tensor } from '../src/index.js';
import { fixturePath } from './fixture-path.js';

interface RefIndex {
  torch_version: string;
  tensors: Record<string, { dtype: string; shape: number[]; offset: number }>;
  cases: Record<string, Record<string, unknown>>;
}

const DTYPES: Record<string, DType> = { float64: 'float64', float32: 'float32', int64: 'int64', int32: 'int32', uint8: 'uint8', bool: 'bool' };
const SIZES: Record<string, number> = { float64: 8, float32: 4, int64: 8, int32: 4, uint8: 1, bool: 1 };

/** Reference tensors written by test/fixtures/core/make_fixtures.py (python3-torch), as raw bytes + JSON. */
export class Reference {
  readonly index: RefIndex;
  private readonly bytes: Buffer;

  constructor() {
    this.index = JSON.parse(readFileSync(fixturePath('core', 'torch_ref.json'), 'utf8')) as RefIndex;
    this.bytes = readFileSync(fixturePath('core', 'torch_ref.bin'));
  }

  has(name: string): boolean {
    return name in this.index.tensors;
  }

  tensor(name: string): Tensor {
    const meta = this.index.tensors[name];
    assert.ok(meta, `fixture tensor ${name} missing`);
    const n = meta.shape.reduce((a, b) => a * b, 1) * SIZES[meta.dtype];
    return fromBuffer(new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + meta.offset, n), DTYPES[meta.dtype], meta.shape);
  }
}

/** max |a - b| / max(|b|max, tiny): one relative number per tensor, shape and dtype checked. */
export function relErr(actual: Tensor, expected: Tensor): number {
  assert.deepEqual(actual.shape, expected.shape, 'shape');
  const a = actual.toArray();
  const e = expected.toArray();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    diff = Math.max(diff, Math.abs(Number(a[i]) - Number(e[i])));
    scale = Math.max(scale, Math.abs(Number(e[i])));
  }
  return diff / Math.max(scale, 1e-300);
}

export function assertClose(actual: Tensor, expected: Tensor, tol: number, what: string): void {
  const err = relErr(actual, expected);
  assert.ok(err <= tol, `${what}: relative error ${err} > ${tol}`);
}
