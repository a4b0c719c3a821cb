import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import type { ArchitectureKwargs } from './plans.js';

const { nn } = torch;

/**
 * dynamic_network_architectures' PlainConvUNet with its module tree, so state-dict keys are the same as
 * nnU-Net's, duplicates included: each conv block also registers `all_modules` (conv, norm, nonlin) and the
 * decoder holds the encoder, so `decoder.encoder.*` repeats every encoder tensor (292 keys, 108 tensors for
 * 6 stages). Parameters are deduplicated by identity, so the optimizer sees each tensor once.
 */

class ConvDropoutNormReLU extends nn.Module {
  readonly conv: InstanceType<typeof nn.Conv3d>;
  readonly norm: InstanceType<typeof nn.InstanceNorm3d>;
  readonly nonlin: InstanceType<typeof nn.LeakyReLU>;
  constructor(cin: number, cout: number, kernel: number[], stride: number[], args: ArchitectureKwargs) {
    super();
    const padding = kernel.map((k) => (k - 1) >> 1) as [number, number, number];
    this.conv = this.registerModule('conv', new nn.Conv3d(cin, cout, kernel as [number, number, number], { stride: stride as [number, number, number], padding, bias: args.conv_bias }));
    this.norm = this.registerModule('norm', new nn.InstanceNorm3d(cout, { eps: args.norm_op_kwargs.eps, affine: args.norm_op_kwargs.affine }));
    this.nonlin = this.registerModule('nonlin', new nn.LeakyReLU(args.nonlin_kwargs.negative_slope ?? 0.01));
    this.registerModule('all_modules', new nn.Sequential(this.conv, this.norm, this.nonlin));
  }
  forward(x: Tensor): Tensor {
    return this.nonlin.forward(this.norm.forward(this.conv.forward(x)));
  }
}

class StackedConvBlocks extends nn.Module {
  readonly convs: InstanceType<typeof nn.Sequential>;
  constructor(n: number, cin: number, cout: number, kernel: number[], firstStride: number[], args: ArchitectureKwargs) {
    super();
    const blocks = Array.from({ length: n }, (_, i) => new ConvDropoutNormReLU(i === 0 ? cin : cout, cout, kernel, i === 0 ? firstStride : [1, 1, 1], args));
    this.convs = this.registerModule('convs', new nn.Sequential(...blocks));
  }
  forward(x: Tensor): Tensor {
    return this.convs.forward(x);
  }
}

class PlainConvEncoder extends nn.Module<[Tensor], Tensor[]> {
  readonly stages: InstanceType<typeof nn.Sequential>;
  constructor(inputChannels: number, args: ArchitectureKwargs) {
    super();
    const stages = [];
    let cin = inputChannels;
    for (let s = 0; s < args.n_stages; s++) {
      const f = args.features_per_stage[s]!;
      stages.push(new nn.Sequential(new StackedConvBlocks(args.n_conv_per_stage[s]!, cin, f, args.kernel_sizes[s]!, args.strides[s]!, args)));
      cin = f;
    }
    this.stages = this.registerModule('stages', new nn.Sequential(...stages));
  }
  forward(x: Tensor): Tensor[] {
    const skips: Tensor[] = [];
    for (const stage of this.stages.children()) {
      x = stage.forward(x) as Tensor;
      skips.push(x);
    }
    return skips;
  }
}

class UNetDecoder extends nn.Module<[Tensor[]], Tensor[]> {
  readonly stages: InstanceType<typeof nn.ModuleList>;
  readonly transpconvs: InstanceType<typeof nn.ModuleList>;
  readonly seg_layers: InstanceType<typeof nn.ModuleList>;
  deepSupervision: boolean;
  constructor(encoder: PlainConvEncoder, numClasses: number, args: ArchitectureKwargs, deepSupervision: boolean) {
    super();
    this.deepSupervision = deepSupervision;
    this.registerModule('encoder', encoder);
    const n = args.n_stages;
    const stages = [];
    const transp = [];
    const seg = [];
    for (let s = 1; s < n; s++) {
      const below = args.features_per_stage[n - s]!;
      const skip = args.features_per_stage[n - s - 1]!;
      const stride = args.strides[n - s]! as [number, number, number];
      transp.push(new nn.ConvTranspose3d(below, skip, stride, { stride, bias: args.conv_bias }));
      stages.push(new StackedConvBlocks(args.n_conv_per_stage_decoder[s - 1]!, 2 * skip, skip, args.kernel_sizes[n - s - 1]!, [1, 1, 1], args));
      seg.push(new nn.Conv3d(skip, numClasses, 1, { bias: true }));
    }
    this.stages = this.registerModule('stages', new nn.ModuleList(stages));
    this.transpconvs = this.registerModule('transpconvs', new nn.ModuleList(transp));
    this.seg_layers = this.registerModule('seg_layers', new nn.ModuleList(seg));
  }
  forward(skips: Tensor[]): Tensor[] {
    let low = skips[skips.length - 1]!;
    const outputs: Tensor[] = [];
    const n = this.stages.length;
    for (let s = 0; s < n; s++) {
      const up = (this.transpconvs.at(s) as InstanceType<typeof nn.ConvTranspose3d>).forward(low);
      const x = (this.stages.at(s) as StackedConvBlocks).forward(torch.cat([up, skips[skips.length - s - 2]!], 1));
      if (this.deepSupervision) outputs.push((this.seg_layers.at(s) as InstanceType<typeof nn.Conv3d>).forward(x));
      else if (s === n - 1) outputs.push((this.seg_layers.at(n - 1) as InstanceType<typeof nn.Conv3d>).forward(x));
      low = x;
    }
    return outputs.reverse();
  }
}

export class PlainConvUNet extends nn.Module<[Tensor], Tensor[]> {
  readonly encoder: PlainConvEncoder;
  readonly decoder: UNetDecoder;
  constructor(readonly inputChannels: number, readonly numClasses: number, readonly args: ArchitectureKwargs, deepSupervision = true) {
    super();
    if (args.n_stages !== args.features_per_stage.length || args.n_stages !== args.strides.length || args.n_stages !== args.kernel_sizes.length) {
      throw new Error(`PlainConvUNet: n_stages ${args.n_stages} does not match features_per_stage/strides/kernel_sizes`);
    }
    this.encoder = this.registerModule('encoder', new PlainConvEncoder(inputChannels, args));
    this.decoder = this.registerModule('decoder', new UNetDecoder(this.encoder, numClasses, args, deepSupervision));
  }

  set deepSupervision(on: boolean) {
    this.decoder.deepSupervision = on;
  }

  /** Deep supervision on: logits at full, 1/2, 1/4, ... resolution; off: one element, the full-resolution head. */
  forward(x: Tensor): Tensor[] {
    return this.decoder.forward(this.encoder.forward(x));
  }

  /** nnU-Net's InitWeights_He(1e-2): kaiming_normal_(a=0.01) on conv and transposed-conv weights, zero biases. */
  initialize(): this {
    for (const m of this.modules()) {
      if (m instanceof nn.Conv3d || m instanceof nn.ConvTranspose3d) {
        nn.init.kaimingNormal_(m.weight, { a: 1e-2 });
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
    return this;
  }

  /** Multiply-accumulates ×2 of one forward pass without deep supervision on a patch (z, y, x). */
  flops(patch: number[]): number {
    const a = this.args;
    let total = 0;
    let size = [...patch];
    const sizes: number[][] = [];
    let cin = this.inputChannels;
    for (let s = 0; s < a.n_stages; s++) {
      const f = a.features_per_stage[s]!;
      size = size.map((n, d) => Math.ceil(n / a.strides[s]![d]!));
      sizes.push(size);
      const k = a.kernel_sizes[s]!.reduce((p, q) => p * q, 1);
      const vox = size.reduce((p, q) => p * q, 1);
      total += 2 * vox * k * (cin * f + (a.n_conv_per_stage[s]! - 1) * f * f);
      cin = f;
    }
    for (let s = a.n_stages - 2; s >= 0; s--) {
      const f = a.features_per_stage[s]!;
      const vox = sizes[s]!.reduce((p, q) => p * q, 1);
      const k = a.kernel_sizes[s]!.reduce((p, q) => p * q, 1);
      total += 2 * vox * a.features_per_stage[s + 1]! * f;
      total += 2 * vox * k * (2 * f * f + (a.n_conv_per_stage_decoder[s]! - 1) * f * f);
    }
    total += 2 * patch.reduce((p, q) => p * q, 1) * a.features_per_stage[0]! * this.numClasses;
    return total;
  }
}
