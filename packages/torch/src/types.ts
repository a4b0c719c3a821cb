/** Element types. float16/bfloat16/int16/int8 exist for loading checkpoints; compute in float32/float64. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' | 'float16' | 'bfloat16';

/** 'cpu', 'cuda' or 'cuda:N' (CUDA only when built against a CUDA libtorch). */
export type Device = 'cpu' | 'cuda' | `cuda:${number}` | (string & {});

/** Options of factory functions (zeros, randn, fromArray, ...), as torch's dtype=/device=/requires_grad=. */
export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export type Reduction = 'none' | 'mean' | 'sum';
