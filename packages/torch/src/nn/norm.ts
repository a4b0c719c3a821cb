import type { Tensor } from '../tensor.js';
import { ones, zeros } from '../gen/ops.js';
import { batchNorm, groupNorm, instanceNorm, layerNorm } from '../functional.js';
import { Module, pyFloat } from './module.js';

interface TensorOptions {
  dtype?: 'float32' | 'float64';
  device?: string;
}

export interface NormOptions extends TensorOptions {
  eps?: number;
  /** Running-average factor; `null` means a cumulative average (BatchNorm only), as in PyTorch. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * PyTorch's `_NormBase`: optional affine weight (ones) and bias (zeros), and, when tracking running
 * statistics, the buffers running_mean (zeros), running_var (ones) and num_batches_tracked (int64 0).
 */
abstract class NormBase extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(readonly numFeatures: number, options: NormOptions, defaults: { affine: boolean; trackRunningStats: boolean }) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? defaults.affine;
    this.trackRunningStats = options.trackRunningStats ?? defaults.trackRunningStats;
    const t = { dtype: options.dtype ?? 'float32', device: options.device ?? 'cpu' } as const;
    this.registerParameter('weight', this.affine ? ones([numFeatures], t) : null);
    this.registerParameter('bias', this.affine ? zeros([numFeatures], t) : null);
    this.registerBuffer('running_mean', this.trackRunningStats ? zeros([numFeatures], t) : null);
    this.registerBuffer('running_var', this.trackRunningStats ? ones([numFeatures], t) : null);
    this.registerBuffer('num_batches_tracked', this.trackRunningStats ? zeros([], { dtype: 'int64', device: t.device }) : null);
  }

  get weight(): Tensor | null {
    return this.param('weight');
  }

  get bias(): Tensor | null {
    return this.param('bias');
  }

  get runningMean(): Tensor | null {
    return this.buffer('running_mean');
  }

  get runningVar(): Tensor | null {
    return this.buffer('running_var');
  }

  get numBatchesTracked(): Tensor | null {
    return this.buffer('num_batches_tracked');
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, affine=${this.affine ? 'True' : 'False'}, track_running_stats=${this.trackRunningStats ? 'True' : 'False'}`;
  }

  protected checkInput(input: Tensor, rank: number, layout: string): void {
    if (input.shape.length !== rank) throw new Error(`${this.typeName}: expected a ${rank}D input ${layout}, got shape [${input.shape.join(', ')}]`);
    if (input.shape[1] !== this.numFeatures) {
      throw new Error(`${this.typeName}: input has ${input.shape[1]} channels, expected num_features = ${this.numFeatures}`);
    }
  }
}

/** Normalises each sample's channels over D, H, W (nnU-Net's default norm; affine=False by default, as PyTorch). */
export class InstanceNorm3d extends NormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options, { affine: false, trackRunningStats: false });
  }

  forward(input: Tensor): Tensor {
    this.checkInput(input, 5, '[N, C, D, H, W]');
    return instanceNorm(input, this.runningMean, this.runningVar, this.weight, this.bias,
      this.training || !this.trackRunningStats, this.momentum ?? 0.1, this.eps);
  }
}

/** Batch statistics in training (updating the running averages and num_batches_tracked), running ones in eval. */
export class BatchNorm3d extends NormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options, { affine: true, trackRunningStats: true });
  }

  forward(input: Tensor): Tensor {
    this.checkInput(input, 5, '[N, C, D, H, W]');
    let factor = this.momentum ?? 0;
    const counter = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && counter) {
      counter.add_(1);
      if (this.momentum === null) factor = 1 / Number(counter.item());
    }
    const useBatchStats = this.training || (this.runningMean === null && this.runningVar === null);
    const passStats = !this.training || this.trackRunningStats;
    return batchNorm(input, passStats ? this.runningMean : null, passStats ? this.runningVar : null,
      this.weight, this.bias, useBatchStats, factor, this.eps);
  }
}

/** Normalises over groups of channels and all spatial positions, per sample. */
export class GroupNorm extends Module {
  readonly eps: number;
  readonly affine: boolean;

  constructor(readonly numGroups: number, readonly numChannels: number, options: TensorOptions & { eps?: number; affine?: boolean } = {}) {
    super();
    if (numChannels % numGroups) throw new Error(`GroupNorm: num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`);
    this.eps = options.eps ?? 1e-5;
    this.affine = options.affine ?? true;
    const t = { dtype: options.dtype ?? 'float32', device: options.device ?? 'cpu' } as const;
    this.registerParameter('weight', this.affine ? ones([numChannels], t) : null);
    this.registerParameter('bias', this.affine ? zeros([numChannels], t) : null);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${this.affine ? 'True' : 'False'}`;
  }

  forward(input: Tensor): Tensor {
    if (input.shape.length < 2 || input.shape[1] !== this.numChannels) {
      throw new Error(`GroupNorm: expected input [N, ${this.numChannels}, *], got shape [${input.shape.join(', ')}]`);
    }
    return groupNorm(input, this.numGroups, this.param('weight'), this.param('bias'), this.eps);
  }
}

/** Normalises over the trailing `normalizedShape` dimensions. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | number[], options: TensorOptions & { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const t = { dtype: options.dtype ?? 'float32', device: options.device ?? 'cpu' } as const;
    this.registerParameter('weight', this.elementwiseAffine ? ones(this.normalizedShape, t) : null);
    this.registerParameter('bias', this.elementwiseAffine && options.bias !== false ? zeros(this.normalizedShape, t) : null);
  }

  override extraRepr(): string {
    return `(${this.normalizedShape.join(', ')}${this.normalizedShape.length === 1 ? ',' : ''}), eps=${pyFloat(this.eps)}, elementwise_affine=${this.elementwiseAffine ? 'True' : 'False'}`;
  }

  forward(input: Tensor): Tensor {
    const tail = input.shape.slice(input.shape.length - this.normalizedShape.length);
    if (tail.length !== this.normalizedShape.length || tail.some((n, i) => n !== this.normalizedShape[i])) {
      throw new Error(`LayerNorm: input shape [${input.shape.join(', ')}] does not end with normalized_shape [${this.normalizedShape.join(', ')}]`);
    }
    return layerNorm(input, this.normalizedShape, this.param('weight'), this.param('bias'), this.eps);
  }
}
