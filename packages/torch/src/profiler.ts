// libtorch's autograd profiler (CPU): which ops a piece of code dispatched, forward and backward, and their CPU
// time, under the names torch.autograd.profiler uses, for comparing a step op by op with python3-torch.
import { native as N } from './native.js';

export interface OpProfile {
  /** The ATen op or autograd node ('aten::conv3d', 'ConvolutionBackward0', ...). */
  name: string;
  count: number;
  /** CPU microseconds inside the op, without the ops it called. */
  selfUs: number;
  /** CPU microseconds including nested ops. */
  totalUs: number;
}

/**
 * Runs fn with the profiler on and returns its result with the ops sorted by self time. Only ops on the calling
 * thread are seen (autograd runs CPU backward there too); time spent by intra-op worker threads is counted in the
 * op that started them.
 */
export function profile<T>(fn: () => T): { result: T; ops: OpProfile[] } {
  N.profilerStart();
  let ops: OpProfile[];
  let result: T;
  try {
    result = fn();
  } finally {
    ops = N.profilerStop() as OpProfile[];
  }
  return { result, ops: ops.sort((a, b) => b.selfUs - a.selfUs) };
}
