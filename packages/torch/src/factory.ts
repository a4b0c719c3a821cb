// Creating tensors from JS data. Copying is the default; fromBlob() is the explicit zero-copy opt-in.
import { native as N } from './native.js';
import { track } from './scope.js';
import type { NestedArray, Tensor } from './tensor.js';
import type { DType, TensorOptions, TypedArray } from './types.js';

function typedDtype(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  throw new TypeError('tensor: unsupported TypedArray (use fromArray with an explicit dtype for Uint16Array half data)');
}

/** Copies a TypedArray into a new tensor of the given shape (default: 1-D); options.dtype converts. */
export function fromArray(data: TypedArray, shape?: number[], options?: TensorOptions): Tensor {
  return track(N.fromArray(data, shape ?? [data.length], options) as Tensor);
}

/**
 * Zero-copy: the tensor aliases the TypedArray's memory (writes show on both sides) and keeps it alive.
 * Writes from JS bypass autograd's version counter, and the buffer must not be transferred while aliased.
 */
export function fromBlob(data: TypedArray, shape?: number[]): Tensor {
  return track(N.fromBlob(data, shape ?? [data.length]) as Tensor);
}

/** Copies raw little-endian element bytes (as stored in checkpoint files) into a new tensor. */
export function fromBuffer(bytes: Uint8Array, dtype: DType, shape: number[]): Tensor {
  return track(N.fromBuffer(bytes, dtype, shape) as Tensor);
}

function flatten(data: NestedArray, shape: number[], out: (number | boolean)[], depth: number): void {
  if (!Array.isArray(data)) {
    if (depth !== shape.length) throw new TypeError('tensor: ragged nested array (every row must have the same length)');
    out.push(data);
    return;
  }
  if (depth === shape.length) shape.push(data.length);
  else if (shape[depth] !== data.length) throw new TypeError('tensor: ragged nested array (every row must have the same length)');
  for (const x of data) flatten(x, shape, out, depth + 1);
}

/**
 * torch.tensor(data): from a number, boolean, nested array or TypedArray (always copies). Like PyTorch, all
 * integers give int64, booleans give bool, anything else float32, unless options.dtype says otherwise.
 */
export function tensor(data: NestedArray | TypedArray, options?: TensorOptions): Tensor {
  if (ArrayBuffer.isView(data)) return fromArray(data as TypedArray, [(data as TypedArray).length], options);
  const shape: number[] = [];
  const flat: (number | boolean)[] = [];
  if (Array.isArray(data)) flatten(data, shape, flat, 0);
  else flat.push(data);
  for (const v of flat) {
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`tensor: expected numbers or booleans, got ${typeof v}`);
  }
  const inferred: DType = flat.length > 0 && flat.every((v) => typeof v === 'boolean') ? 'bool'
    : flat.length > 0 && flat.every((v) => typeof v === 'number' && Number.isInteger(v)) ? 'int64' : 'float32';
  const values = Float64Array.from(flat, (v) => Number(v));
  return fromArray(values, shape, { ...options, dtype: options?.dtype ?? inferred });
}
