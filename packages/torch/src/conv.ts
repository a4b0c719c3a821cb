// F.conv3d, with the weight gradient of stride-1 CPU convolutions computed as a forward convolution
// (native/conv.cc says why; BENCHMARKS.md, "conv3d weight gradient", has the measurements).
import { isGradEnabled } from './autograd.js';
import * as ops from './gen/ops.js';
import { native as N } from './native.js';
import { track } from './scope.js';
import type { Tensor } from './tensor.js';

let weightGradAsConv = true;

/**
 * Turns the CPU weight-gradient path of `conv3d` on (the default) or off. Off, every conv3d is ATen's own, as in
 * PyTorch; the two agree to float rounding (the sums run in another order).
 */
export function setConv3dWeightGradAsConv(enabled: boolean): void {
  weightGradAsConv = enabled;
}

export function conv3dWeightGradAsConv(): boolean {
  return weightGradAsConv;
}

const allOnes = (v: number | number[]): boolean => (Array.isArray(v) ? v.every((x) => x === 1) : v === 1);

// Measured with Debian's libtorch 1.13 / oneDNN 2.6 on AVX2: 2-3.3x faster for 3x3x3 kernels from 8 input channels
// up; 0.6-0.9x with 2-4 input channels, for 1x1x1 kernels and for strided convolutions, which stay ATen's.
const MIN_INPUT_CHANNELS = 8;

function takesWeightGradAsConv(input: Tensor, weight: Tensor, stride: number | number[], dilation: number | number[], groups: number): boolean {
  return weightGradAsConv && weight.requiresGrad && isGradEnabled() && groups === 1 && allOnes(stride) && allOnes(dilation) &&
    input.device === 'cpu' && weight.device === 'cpu' && (input.dtype === 'float32' || input.dtype === 'float64') &&
    input.ndim === 5 && weight.ndim === 5 && weight.shape[1]! >= MIN_INPUT_CHANNELS &&
    weight.shape[2]! * weight.shape[3]! * weight.shape[4]! > 1;
}

/** torch.nn.functional.conv3d (PyTorch's arguments and results). */
export function conv3d(input: Tensor, weight: Tensor, bias: Tensor | null = null, stride: number | number[] = 1, padding: number | number[] = 0,
  dilation: number | number[] = 1, groups = 1): Tensor {
  if (takesWeightGradAsConv(input, weight, stride, dilation, groups)) return track(N.conv3dWgradAsConv(input, weight, bias, padding) as Tensor);
  return ops.conv3d(input, weight, bias, stride, padding, dilation, groups);
}
