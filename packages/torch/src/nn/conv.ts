import type { Tensor } from '../tensor.js';
import { empty } from '../gen/ops.js';
import { conv1d, conv3d, convTranspose3d, pad } from '../functional.js';
import { Module } from './module.js';
import { resetLinearLike } from './init.js';

/** An int or one int per spatial dimension, as PyTorch's `_single` / `_triple` accept. */
export type Size<N extends number> = number | (N extends 1 ? [number] : [number, number, number]);

export interface ConvOptions<N extends number> {
  stride?: Size<N>;
  /** Explicit padding, or 'same' / 'valid' as PyTorch accepts for stride-1 convolutions. */
  padding?: Size<N> | 'same' | 'valid';
  dilation?: Size<N>;
  groups?: number;
  bias?: boolean;
  /** How the border is padded: zeros (default), or by reflecting, replicating or wrapping the input. */
  paddingMode?: 'zeros' | 'reflect' | 'replicate' | 'circular';
  dtype?: 'float32' | 'float64';
  device?: string;
}

export interface ConvTransposeOptions<N extends number> extends Omit<ConvOptions<N>, 'padding' | 'paddingMode'> {
  padding?: Size<N>;
  outputPadding?: Size<N>;
}

function expand(value: number | number[], n: number, what: string): number[] {
  const out = typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
  if (out.length !== n || out.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error(`${what} must be a non-negative int or ${n} of them, got ${JSON.stringify(value)}`);
  }
  return out;
}

/**
 * The shared part of ConvNd and ConvTransposeNd (PyTorch's `_ConvNd`): weight [out, in/groups, *k] for
 * convolutions and [in, out/groups, *k] for transposed ones, default initialisation as PyTorch.
 */
abstract class ConvBase extends Module {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly paddingMode: NonNullable<ConvOptions<1>['paddingMode']>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    readonly dims: number,
    transposed: boolean,
    options: ConvOptions<1 | 3> & { padding?: number | number[] | 'same' | 'valid' },
    readonly groups = options.groups ?? 1,
  ) {
    super();
    const name = this.typeName;
    if (!Number.isInteger(inChannels) || !Number.isInteger(outChannels) || inChannels <= 0 || outChannels <= 0) {
      throw new Error(`${name}: in_channels and out_channels must be positive ints, got ${inChannels} and ${outChannels}`);
    }
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new Error(`${name}: in_channels (${inChannels}) and out_channels (${outChannels}) must be divisible by groups (${this.groups})`);
    }
    this.kernelSize = expand(kernelSize, dims, `${name} kernel_size`);
    this.stride = expand(options.stride ?? 1, dims, `${name} stride`);
    this.dilation = expand(options.dilation ?? 1, dims, `${name} dilation`);
    const padding = options.padding ?? 0;
    if (padding === 'valid') this.padding = new Array<number>(dims).fill(0);
    else if (padding === 'same') {
      if (this.stride.some((s) => s !== 1)) throw new Error(`${name}: padding='same' is not supported for strided convolutions`);
      this.padding = this.kernelSize.map((k, i) => {
        const total = this.dilation[i] * (k - 1);
        if (total % 2) throw new Error(`${name}: padding='same' needs an odd effective kernel size (kernel ${k}, dilation ${this.dilation[i]})`);
        return total / 2;
      });
    } else this.padding = expand(padding, dims, `${name} padding`);
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode)) {
      throw new Error(`${name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got '${this.paddingMode}'`);
    }
    const shape = transposed
      ? [inChannels, outChannels / this.groups, ...this.kernelSize]
      : [outChannels, inChannels / this.groups, ...this.kernelSize];
    const tensorOptions = { dtype: options.dtype ?? 'float32', device: options.device ?? 'cpu' };
    const weight = this.registerParameter('weight', empty(shape, tensorOptions)) as Tensor;
    const bias = this.registerParameter('bias', options.bias === false ? null : empty([outChannels], tensorOptions));
    resetLinearLike(weight, bias);
  }

  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }

  get bias(): Tensor | null {
    return this.param('bias');
  }

  /**
   * The input and the padding to give the convolution: for a non-zero padding mode the input is padded
   * explicitly (F.pad takes the last dimension first) and the convolution itself pads nothing, as in PyTorch.
   */
  protected padded(input: Tensor): { x: Tensor; padding: number[] } {
    if (this.paddingMode === 'zeros') return { x: input, padding: this.padding };
    const amounts = [...this.padding].reverse().flatMap((p) => [p, p]);
    return { x: pad(input, amounts, this.paddingMode), padding: this.padding.map(() => 0) };
  }

  override extraRepr(): string {
    const tuple = (v: number[]): string => `(${v.join(', ')}${v.length === 1 ? ',' : ''})`;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`;
    if (this.padding.some((p) => p !== 0)) s += `, padding=${tuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${tuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }

  protected checkInput(input: Tensor): void {
    const rank = this.dims + 2;
    if (input.shape.length !== rank) {
      throw new Error(`${this.typeName}: expected a ${rank}D input [N, C, ${this.dims === 3 ? 'D, H, W' : 'L'}], got shape [${input.shape.join(', ')}]`);
    }
  }
}

export class Conv3d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: Size<3>, options: ConvOptions<3> = {}) {
    super(inChannels, outChannels, kernelSize, 3, false, options);
  }

  forward(input: Tensor): Tensor {
    this.checkInput(input);
    const { x, padding } = this.padded(input);
    return conv3d(x, this.weight, this.bias, this.stride, padding, this.dilation, this.groups);
  }
}

export class Conv1d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: Size<1>, options: ConvOptions<1> = {}) {
    super(inChannels, outChannels, kernelSize, 1, false, options);
  }

  forward(input: Tensor): Tensor {
    this.checkInput(input);
    const { x, padding } = this.padded(input);
    return conv1d(x, this.weight, this.bias, this.stride, padding, this.dilation, this.groups);
  }
}

export class ConvTranspose3d extends ConvBase {
  readonly outputPadding: number[];

  constructor(inChannels: number, outChannels: number, kernelSize: Size<3>, options: ConvTransposeOptions<3> = {}) {
    super(inChannels, outChannels, kernelSize, 3, true, options);
    this.outputPadding = expand(options.outputPadding ?? 0, 3, 'ConvTranspose3d output_padding');
    this.outputPadding.forEach((p, i) => {
      if (p >= Math.max(this.stride[i], this.dilation[i])) {
        throw new Error(`ConvTranspose3d: output_padding (${p}) must be smaller than either stride or dilation`);
      }
    });
  }

  forward(input: Tensor): Tensor {
    this.checkInput(input);
    return convTranspose3d(input, this.weight, this.bias, this.stride, this.padding, this.outputPadding, this.groups, this.dilation);
  }
}
