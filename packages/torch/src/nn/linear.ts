import type { Tensor } from '../tensor.js';
import { empty } from '../gen/ops.js';
import { linear } from '../functional.js';
import { Module } from './module.js';
import { resetLinearLike } from './init.js';

/** y = x Wᵀ + b over the last dimension; weight [out, in]. */
export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; dtype?: 'float32' | 'float64'; device?: string } = {},
  ) {
    super();
    const tensorOptions = { dtype: options.dtype ?? 'float32', device: options.device ?? 'cpu' };
    const weight = this.registerParameter('weight', empty([outFeatures, inFeatures], tensorOptions)) as Tensor;
    const bias = this.registerParameter('bias', options.bias === false ? null : empty([outFeatures], tensorOptions));
    resetLinearLike(weight, bias);
  }

  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }

  get bias(): Tensor | null {
    return this.param('bias');
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }

  forward(input: Tensor): Tensor {
    const last = input.shape[input.shape.length - 1];
    if (last !== this.inFeatures) {
      throw new Error(`Linear: input's last dimension is ${last}, expected in_features = ${this.inFeatures} (shape [${input.shape.join(', ')}])`);
    }
    return linear(input, this.weight, this.bias);
  }
}

/** Returns its input (a placeholder where an architecture has an optional layer). */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}
