// torch.nn.functional. Positional parameters follow PyTorch; where PyTorch code normally passes keywords
// (interpolate, gridSample, losses), those come as a trailing options object with camelCase keys.
import * as ops from './gen/ops.js';
import type { Tensor } from './tensor.js';
import type { Reduction } from './types.js';

export {
  conv1d, conv2d, convTranspose1d, convTranspose2d, convTranspose3d,
  maxPool1d, maxPool2d, maxPool3d, maxPool3dWithIndices, avgPool1d, avgPool2d, avgPool3d,
  adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d, adaptiveMaxPool3d,
  relu, leakyRelu, gelu, silu, softplus, sigmoid, tanh, elu, hardtanh, mish, logsigmoid, softmax, logSoftmax,
  linear, oneHot, cosineSimilarity, pad,
} from './gen/ops.js';
export { conv3d } from './conv.js';

const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function reduction(r: Reduction | undefined, fn: string): number {
  const v = REDUCTION[r ?? 'mean'];
  if (v === undefined) throw new TypeError(`${fn}: reduction must be 'none', 'mean' or 'sum', got ${JSON.stringify(r)}`);
  return v;
}

export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  return ops.dropout(input, p, training);
}

/** Drops whole channels (F.dropout1d/2d/3d). */
export function dropout3d(input: Tensor, p = 0.5, training = true): Tensor {
  return ops.featureDropout(input, p, training);
}

export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null = null,
  bias: Tensor | null = null, training = false, momentum = 0.1, eps = 1e-5): Tensor {
  return ops.batchNorm(input, weight, bias, runningMean, runningVar, training, momentum, eps);
}

export function instanceNorm(input: Tensor, runningMean: Tensor | null = null, runningVar: Tensor | null = null, weight: Tensor | null = null,
  bias: Tensor | null = null, useInputStats = true, momentum = 0.1, eps = 1e-5): Tensor {
  return ops.instanceNorm(input, weight, bias, runningMean, runningVar, useInputStats, momentum, eps);
}

export function groupNorm(input: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return ops.groupNorm(input, numGroups, weight, bias, eps);
}

export function layerNorm(input: Tensor, normalizedShape: number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return ops.layerNorm(input, normalizedShape, weight, bias, eps);
}

export interface InterpolateOptions {
  size?: number | number[];
  scaleFactor?: number | number[];
  mode?: 'nearest' | 'linear' | 'bilinear' | 'trilinear';
  alignCorners?: boolean;
}

/** F.interpolate for 3-D (N,C,L), 4-D and 5-D (N,C,D,H,W) inputs; modes nearest, linear, bilinear, trilinear. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const spatial = input.ndim - 2;
  const mode = options.mode ?? 'nearest';
  if (spatial < 1 || spatial > 3) throw new Error(`interpolate: expected a 3-D, 4-D or 5-D input, got shape [${input.shape.join(', ')}]`);
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new TypeError('interpolate: give exactly one of size and scaleFactor');
  }
  const expand = (v: number | number[] | undefined): number[] | null => v === undefined ? null
    : Array.isArray(v) ? v : new Array<number>(spatial).fill(v);
  const size = expand(options.size);
  const scale = options.size === undefined ? expand(options.scaleFactor) : null;
  if (mode === 'nearest') {
    if (options.alignCorners !== undefined) throw new TypeError("interpolate: alignCorners only applies to linear modes, not 'nearest'");
    return [ops.upsampleNearest1d, ops.upsampleNearest2d, ops.upsampleNearest3d][spatial - 1](input, size, scale);
  }
  const expected = ['linear', 'bilinear', 'trilinear'][spatial - 1];
  if (mode !== expected) throw new Error(`interpolate: mode '${mode}' needs a ${['3', '4', '5'][['linear', 'bilinear', 'trilinear'].indexOf(mode)]}-D input; got ${input.ndim}-D`);
  const align = options.alignCorners ?? false;
  return [ops.upsampleLinear1d, ops.upsampleBilinear2d, ops.upsampleTrilinear3d][spatial - 1](input, size, align, scale);
}

export interface GridSampleOptions {
  mode?: 'bilinear' | 'nearest' | 'bicubic';
  paddingMode?: 'zeros' | 'border' | 'reflection';
  alignCorners?: boolean;
}

/** F.grid_sample (4-D and 5-D; 'bilinear' on 5-D inputs is trilinear, as in PyTorch). */
export function gridSample(input: Tensor, grid: Tensor, options: GridSampleOptions = {}): Tensor {
  const mode = ['bilinear', 'nearest', 'bicubic'].indexOf(options.mode ?? 'bilinear');
  const padding = ['zeros', 'border', 'reflection'].indexOf(options.paddingMode ?? 'zeros');
  if (mode < 0) throw new TypeError(`gridSample: unknown mode ${JSON.stringify(options.mode)}`);
  if (padding < 0) throw new TypeError(`gridSample: unknown paddingMode ${JSON.stringify(options.paddingMode)}`);
  return ops.gridSampler(input, grid, mode, padding, options.alignCorners ?? false);
}

/** F.affine_grid: theta [N,2,3] with size [N,C,H,W], or [N,3,4] with [N,C,D,H,W]. */
export function affineGrid(theta: Tensor, size: number[], alignCorners = false): Tensor {
  return ops.affineGridGenerator(theta, size, alignCorners);
}

export interface LossOptions {
  reduction?: Reduction;
}
export interface WeightedLossOptions extends LossOptions {
  weight?: Tensor | null;
}
export interface CrossEntropyOptions extends WeightedLossOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
}

/** F.cross_entropy: class indices (int64) or class probabilities as target. */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return ops.crossEntropyLoss(input, target, options.weight ?? null, reduction(options.reduction, 'crossEntropy'),
    options.ignoreIndex ?? -100, options.labelSmoothing ?? 0);
}

export function nllLoss(input: Tensor, target: Tensor, options: WeightedLossOptions & { ignoreIndex?: number } = {}): Tensor {
  return ops.nllLossNd(input, target, options.weight ?? null, reduction(options.reduction, 'nllLoss'), options.ignoreIndex ?? -100);
}

export function binaryCrossEntropy(input: Tensor, target: Tensor, options: WeightedLossOptions = {}): Tensor {
  return ops.binaryCrossEntropy(input, target, options.weight ?? null, reduction(options.reduction, 'binaryCrossEntropy'));
}

export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor,
  options: WeightedLossOptions & { posWeight?: Tensor | null } = {}): Tensor {
  return ops.binaryCrossEntropyWithLogits(input, target, options.weight ?? null, options.posWeight ?? null,
    reduction(options.reduction, 'binaryCrossEntropyWithLogits'));
}

export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  return ops.mseLoss(input, target, reduction(options.reduction, 'mseLoss'));
}

export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  return ops.l1Loss(input, target, reduction(options.reduction, 'l1Loss'));
}

export function smoothL1Loss(input: Tensor, target: Tensor, options: LossOptions & { beta?: number } = {}): Tensor {
  return ops.smoothL1Loss(input, target, reduction(options.reduction, 'smoothL1Loss'), options.beta ?? 1);
}

export function huberLoss(input: Tensor, target: Tensor, options: LossOptions & { delta?: number } = {}): Tensor {
  return ops.huberLoss(input, target, reduction(options.reduction, 'huberLoss'), options.delta ?? 1);
}

export function klDiv(input: Tensor, target: Tensor, options: LossOptions & { logTarget?: boolean } = {}): Tensor {
  // PyTorch's default 'mean' averages over all elements; 'batchmean' is not offered here.
  return ops.klDiv(input, target, reduction(options.reduction, 'klDiv'), options.logTarget ?? false);
}
