// The Tensor type: the native ObjectWrap class (one JS object per tensor) with the generated op methods and a
// few hand-written conveniences installed on its prototype.
import { inspect } from 'node:util';
import { installTensorMethods, type TensorMethods } from './gen/methods.js';
import { native as N } from './native.js';
import { track } from './scope.js';
import type { Device, DType, TypedArray } from './types.js';

export type NestedArray = number | boolean | NestedArray[];

export interface ToOptions {
  dtype?: DType;
  device?: Device;
  nonBlocking?: boolean;
  copy?: boolean;
}

/** Native accessors and methods (see native/tensor.cc) plus the hand-written ones below. */
export interface TensorCore {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: string;
  readonly ndim: number;
  readonly requiresGrad: boolean;
  /** The accumulated gradient (a new alias object each read, registered in the current scope), or null. */
  grad: Tensor | null;
  readonly isLeaf: boolean;
  readonly isDisposed: boolean;
  readonly isKept: boolean;
  /** Name of the autograd node that created this tensor (e.g. 'ConvolutionBackward0'), or null. */
  readonly gradFn: string | null;
  numel(): number;
  size(): number[];
  size(dim: number): number;
  stride(): number[];
  stride(dim: number): number;
  dim(): number;
  elementSize(): number;
  isContiguous(): boolean;
  /** The value of a one-element tensor as a number (bool gives 0/1, int64 beyond 2^53 loses precision). */
  item(): number;
  /** A copy of the data as the matching TypedArray (int64 -> BigInt64Array, bool -> Uint8Array, float16 -> Float32Array). */
  toArray(): TypedArray;
  /** Zero-copy view of a contiguous CPU tensor's memory; the view keeps the storage alive. */
  dataView(): TypedArray;
  /** A copy of the raw little-endian element bytes. */
  toBuffer(): Uint8Array;
  /** The data as nested JS arrays of numbers (like tensor.tolist()). */
  tolist(): NestedArray;
  dispose(): void;
  keep(): this;
  unkeep(): this;
  requiresGrad_(requiresGrad?: boolean): this;
  backward(gradient?: Tensor | null, retainGraph?: boolean, createGraph?: boolean): void;
  retainGrad(): this;
  /** to('float64'), to('cuda:0'), to('cpu', 'float32'), to({dtype, device, copy}). */
  to(target: DType | Device | ToOptions, dtype?: DType): Tensor;
  float(): Tensor;
  double(): Tensor;
  long(): Tensor;
  int(): Tensor;
  bool(): Tensor;
  byte(): Tensor;
  cpu(): Tensor;
  cuda(index?: number): Tensor;
  dataPtr(): bigint;
  storageOffset(): number;
  version(): number;
  toString(): string;
}

export interface Tensor extends TensorCore, TensorMethods {}

export interface TensorConstructor {
  readonly prototype: Tensor;
  new (never: never): Tensor;
}

/** The Tensor class (for `instanceof`); create tensors with tensor(), zeros(), fromArray() etc., not `new`. */
export const Tensor = N.Tensor as TensorConstructor;

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

const DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'float16', 'bfloat16',
  'float', 'double', 'long', 'int', 'half']);

function nest(flat: ArrayLike<number | bigint>, shape: number[], dtype: string): NestedArray {
  const conv = dtype === 'bool' ? (v: number | bigint) => v !== 0 : (v: number | bigint) => Number(v);
  if (shape.length === 0) return conv(flat[0]);
  const build = (offset: number, d: number): NestedArray[] => {
    const out: NestedArray[] = [];
    const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < shape[d]; i++) {
      out.push(d === shape.length - 1 ? conv(flat[offset + i]) : build(offset + i * inner, d + 1));
    }
    return out;
  };
  return build(0, 0);
}

function format(t: Tensor): string {
  if (t.isDisposed) return 'Tensor(disposed)';
  const meta = `shape=[${t.shape.join(', ')}], dtype=${t.dtype}${t.device === 'cpu' ? '' : `, device=${t.device}`}${t.requiresGrad ? ', requiresGrad' : ''}`;
  if (t.numel() > 64) return `Tensor(${meta})`;
  return `tensor(${JSON.stringify(t.tolist())}, ${meta})`;
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;
installTensorMethods(proto);

// `grad` reads return a fresh alias object; register it so tidy() disposes it like any other result.
const gradDescriptor = Object.getOwnPropertyDescriptor(proto, 'grad')!;
Object.defineProperty(proto, 'grad', {
  configurable: true,
  get(this: Tensor) {
    const g = gradDescriptor.get!.call(this) as Tensor | null;
    return g === null ? null : track(g);
  },
  set(this: Tensor, value: Tensor | null) {
    gradDescriptor.set!.call(this, value);
  },
});
Object.defineProperty(proto, 'gradFn', {
  configurable: true,
  get(this: Tensor) {
    return N.gradFnName(this) as string | null;
  },
});

proto.to = function (this: Tensor, target: DType | Device | ToOptions, dtype?: DType): Tensor {
  if (typeof target === 'object' && target !== null) {
    return track(N.to(this, target.dtype, target.device, target.nonBlocking, target.copy) as Tensor);
  }
  if (DTYPES.has(target)) return track(N.to(this, target, undefined) as Tensor);
  return track(N.to(this, dtype, target) as Tensor);
};
proto.float = function (this: Tensor) { return this.to('float32'); };
proto.double = function (this: Tensor) { return this.to('float64'); };
proto.long = function (this: Tensor) { return this.to('int64'); };
proto.int = function (this: Tensor) { return this.to('int32'); };
proto.bool = function (this: Tensor) { return this.to('bool'); };
proto.byte = function (this: Tensor) { return this.to('uint8'); };
proto.cpu = function (this: Tensor) { return this.to('cpu'); };
proto.cuda = function (this: Tensor, index?: number) { return this.to(index === undefined ? 'cuda' : `cuda:${index}`); };
proto.toBuffer = function (this: Tensor) { return N.toBuffer(this) as Uint8Array; };
proto.tolist = function (this: Tensor) { return nest(this.toArray(), this.shape, this.dtype); };
proto.toString = function (this: Tensor) { return format(this); };
proto[inspect.custom as unknown as string] = function (this: Tensor) { return format(this); };
