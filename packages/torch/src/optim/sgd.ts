import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * torch.optim.SGD, update for update (nnU-Net trains with momentum 0.99, nesterov, weight decay 3e-5):
 *   d = g + wd·p;  b = d (first step) or μ·b + (1 − dampening)·d;  d = d + μ·b (nesterov) or b;  p −= lr·d
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    const defaults: SGDOptions = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options };
    if (!(defaults.lr >= 0)) throw new Error(`SGD: invalid learning rate ${defaults.lr}`);
    if (defaults.momentum < 0) throw new Error(`SGD: invalid momentum ${defaults.momentum}`);
    if (defaults.weightDecay < 0) throw new Error(`SGD: invalid weight_decay ${defaults.weightDecay}`);
    if (defaults.nesterov && (defaults.momentum <= 0 || defaults.dampening !== 0)) {
      throw new Error('SGD: nesterov momentum requires a momentum and zero dampening');
    }
    super(params, defaults, {
      keys: { lr: 'lr', momentum: 'momentum', dampening: 'dampening', weightDecay: 'weight_decay', nesterov: 'nesterov', maximize: 'maximize' },
      pythonExtras: { foreach: null, differentiable: false },
    });
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<SGDOptions>, state: ParamState): void {
    let d = group.maximize ? grad.neg() : grad;
    if (group.weightDecay !== 0) d = d.add(p, group.weightDecay);
    if (group.momentum !== 0) {
      let buf = state.momentum_buffer as Tensor | null | undefined;
      if (!buf) buf = this.setState(state, 'momentum_buffer', d.clone());
      else buf.mul_(group.momentum).add_(d, 1 - group.dampening);
      d = group.nesterov ? d.add(buf, group.momentum) : buf;
    } else {
      state.momentum_buffer = null; // PyTorch records the absent buffer as None
    }
    p.add_(d, -group.lr);
  }
}
