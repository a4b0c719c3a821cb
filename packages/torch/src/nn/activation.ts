import type { Tensor } from '../tensor.js';
import { dropout, dropout3d, gelu, leakyRelu, relu, silu } from '../functional.js';
import { Module, pyFloat } from './module.js';

export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return relu(input);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }

  forward(input: Tensor): Tensor {
    return leakyRelu(input, this.negativeSlope);
  }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }

  forward(input: Tensor): Tensor {
    return gelu(input, this.approximate);
  }
}

export class SiLU extends Module {
  forward(input: Tensor): Tensor {
    return silu(input);
  }
}

/** Zeroes elements with probability p in train mode (scaling the rest by 1/(1-p)); identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: probability must be between 0 and 1, got ${p}`);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }

  forward(input: Tensor): Tensor {
    return dropout(input, this.p, this.training);
  }
}

/** Zeroes whole channels of a [N, C, D, H, W] input with probability p in train mode (nnU-Net's dropout_op). */
export class Dropout3d extends Dropout {
  override forward(input: Tensor): Tensor {
    return dropout3d(input, this.p, this.training);
  }
}
