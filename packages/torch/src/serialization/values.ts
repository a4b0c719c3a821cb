/**
 * The plain values that Python pickles become in TypeScript, before any native tensor exists. Dicts with only
 * string keys become plain objects; dicts with other keys (an optimizer's `state` is keyed by int) become Maps.
 * Tuples become arrays. Python ints become numbers, or bigints beyond 2^53.
 */

/** Element types that can be stored; half precision is widened to float32 when read. */
export type StoredDType = 'float64' | 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';

export type StoredData = Float64Array | Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor as held in a file: contiguous (C-order) data, its dtype and shape. Bool data is 0/1 bytes. */
export class StoredTensor {
  constructor(
    readonly dtype: StoredDType,
    readonly shape: number[],
    readonly data: StoredData,
    readonly requiresGrad = false,
    /** The dtype in the file when it was converted on reading (float16, bfloat16, int16, int8). */
    readonly sourceDtype?: string,
    /** The device the storage was saved from ('cpu', 'cuda:0'); informative, data is always on the host. */
    readonly device = 'cpu',
  ) {
    const numel = shape.reduce((a, b) => a * b, 1);
    if (data.length !== numel) {
      throw new Error(`StoredTensor: ${data.length} elements for shape [${shape.join(', ')}] (expected ${numel})`);
    }
  }

  get numel(): number {
    return this.data.length;
  }
}

/** `torch.device`, kept as data. */
export class TorchDevice {
  constructor(readonly type: string, readonly index: number | null = null) {}
  toString(): string {
    return this.index === null ? this.type : `${this.type}:${this.index}`;
  }
}

/** A numpy ndarray (nnU-Net stores a few: patch sizes, spacings). Object arrays keep their Python items. */
export class NdArray {
  constructor(
    /** numpy's type string without byte order: 'f8', 'i8', 'b1', 'O'... */
    readonly dtype: string,
    readonly shape: number[],
    readonly data: Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | PyValue[],
  ) {}
}

/** A reference to a Python class or function that the reader does not model (kept by name). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a Python class the reader does not model: its constructor arguments and pickled state. */
export class PyObject {
  state: PyValue = null;
  constructor(readonly cls: PyGlobal, readonly args: PyValue[]) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | StoredTensor
  | TorchDevice
  | NdArray
  | PyGlobal
  | PyObject
  | PyValue[]
  | Map<PyValue, PyValue>
  | { [key: string]: PyValue };

export function isPlainDict(value: unknown): value is { [key: string]: PyValue } {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
