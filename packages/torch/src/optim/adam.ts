import type { Tensor } from '../tensor.js';
import { maximum, zeros } from '../gen/ops.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

function validate(name: string, o: AdamOptions): void {
  if (!(o.lr >= 0)) throw new Error(`${name}: invalid learning rate ${o.lr}`);
  if (!(o.eps >= 0)) throw new Error(`${name}: invalid epsilon ${o.eps}`);
  o.betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1)) throw new Error(`${name}: invalid beta parameter at index ${i}: ${b}`);
  });
  if (!(o.weightDecay >= 0)) throw new Error(`${name}: invalid weight_decay ${o.weightDecay}`);
}

/**
 * PyTorch's single-tensor Adam step (torch 1.13 `_single_tensor_adam`, non-capturable), operation for
 * operation so results agree to float32 rounding. `decoupled` selects AdamW's p ← p·(1 − lr·wd) instead of
 * Adam's L2 term g ← g + wd·p.
 */
function adamUpdate(p: Tensor, grad: Tensor, group: AdamOptions, state: ParamState, decoupled: boolean, keep: (key: string, t: Tensor) => Tensor): void {
  const [beta1, beta2] = group.betas;
  let g = group.maximize ? grad.neg() : grad;
  if (state.step === undefined) {
    state.step = 0;
    keep('exp_avg', zeros(p.shape, { dtype: p.dtype, device: p.device }));
    keep('exp_avg_sq', zeros(p.shape, { dtype: p.dtype, device: p.device }));
    if (group.amsgrad) keep('max_exp_avg_sq', zeros(p.shape, { dtype: p.dtype, device: p.device }));
  }
  const step = (state.step as number) + 1;
  state.step = step;
  if (decoupled) p.mul_(1 - group.lr * group.weightDecay);
  else if (group.weightDecay !== 0) g = g.add(p, group.weightDecay);
  const expAvg = state.exp_avg as Tensor;
  const expAvgSq = state.exp_avg_sq as Tensor;
  expAvg.mul_(beta1).add_(g, 1 - beta1);
  expAvgSq.mul_(beta2).addcmul_(g, g, 1 - beta2);
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  const stepSize = group.lr / biasCorrection1;
  const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
  let second = expAvgSq;
  if (group.amsgrad) {
    const maxSq = state.max_exp_avg_sq as Tensor;
    maxSq.copy_(maximum(maxSq, expAvgSq));
    second = maxSq;
  }
  const denom = second.sqrt().div(biasCorrection2Sqrt).add_(group.eps);
  p.addcdiv_(expAvg, denom, -stepSize);
}

/** torch.optim.Adam (weight decay as an L2 term added to the gradient). */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    const defaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...options };
    validate('Adam', defaults);
    super(params, defaults, {
      keys: { lr: 'lr', betas: 'betas', eps: 'eps', weightDecay: 'weight_decay', amsgrad: 'amsgrad', maximize: 'maximize' },
      pythonExtras: { foreach: null, capturable: false, differentiable: false, fused: false },
    });
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<AdamOptions>, state: ParamState): void {
    adamUpdate(p, grad, group, state, false, (k, t) => this.setState(state, k, t));
  }
}

/** torch.optim.AdamW (decoupled weight decay, default 0.01). */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    const defaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...options };
    validate('AdamW', defaults);
    super(params, defaults, {
      keys: { lr: 'lr', betas: 'betas', eps: 'eps', weightDecay: 'weight_decay', amsgrad: 'amsgrad', maximize: 'maximize' },
      pythonExtras: { foreach: null, capturable: false },
    });
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<AdamOptions>, state: ParamState): void {
    adamUpdate(p, grad, group, state, true, (k, t) => this.setState(state, k, t));
  }
}
