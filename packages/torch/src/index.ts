// @hcc/torch: libtorch for Node.js. PyTorch names in camelCase, PyTorch argument order.
export type { Device, DType, Reduction, TensorOptions, TypedArray } from './types.js';
export { Tensor, isTensor, type NestedArray, type TensorCore, type ToOptions } from './tensor.js';
export type { TensorMethods } from './gen/methods.js';
export * from './gen/ops.js';
export { tensor, fromArray, fromBlob, fromBuffer } from './factory.js';
export { tidy, keep, dispose, scope, scopeDepth, type ExplicitScope } from './scope.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled, type GradOptions } from './autograd.js';
export * as autograd from './autograd.js';
export * as F from './functional.js';
export * as functional from './functional.js';
export * as jit from './jit.js';
export {
  setNumThreads, getNumThreads, threadsPerWorker, manualSeed, memory, resetPeak, cuda, buildInfo, allocator,
  type MemoryInfo, type BuildInfo, type AllocatorInfo,
} from './runtime.js';
export { trainLoop, yieldToEventLoop, type LoopOptions } from './train.js';
// nn, optim and serialization (torch-nn's part of issue 2)
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export {
  save, load, loadRaw, readTorch, writeTorch, toStored, fromStored, SerializationError,
  StoredTensor, TorchDevice, NdArray, PyGlobal, PyObject, type PyValue, type Saveable, type Loaded,
} from './serialization/index.js';
export { profile, type OpProfile } from './profiler.js';
export { conv3d, setConv3dWeightGradAsConv, conv3dWeightGradAsConv } from './conv.js';
export { selectiveScan, selectiveScanReference, causalConv1d, type SelectiveScanOptions } from './scan.js';
