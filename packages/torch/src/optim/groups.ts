import type { Tensor } from '../tensor.js';
import { type AnyModule } from '../nn/module.js';
import { BatchNorm3d, GroupNorm, InstanceNorm3d, LayerNorm } from '../nn/norm.js';

export interface DecayGroups {
  decay: { params: Tensor[]; weightDecay: number; names: string[] };
  noDecay: { params: Tensor[]; weightDecay: 0; names: string[] };
}

/**
 * Splits a model's parameters into a weight-decay group and a no-decay group, the usual recipe for AdamW:
 * biases, every parameter of a normalisation layer, any other parameter with at most one dimension (scales,
 * gains), and names matching `exclude` (exact names, or RegExps such as /pos_embed/) get no decay.
 * Pass `[groups.decay, groups.noDecay]` to the optimizer; `names` says what went where.
 */
export function splitWeightDecay(model: AnyModule, weightDecay: number, exclude: Array<string | RegExp> = []): DecayGroups {
  const normParams = new Set<Tensor>();
  for (const m of model.modules()) {
    if (m instanceof InstanceNorm3d || m instanceof BatchNorm3d || m instanceof GroupNorm || m instanceof LayerNorm) {
      for (const p of m.parameters(false)) normParams.add(p);
    }
  }
  const groups: DecayGroups = { decay: { params: [], weightDecay, names: [] }, noDecay: { params: [], weightDecay: 0, names: [] } };
  for (const [name, p] of model.namedParameters()) {
    const excluded = exclude.some((e) => (typeof e === 'string' ? e === name : e.test(name)));
    const target = excluded || normParams.has(p) || name.endsWith('bias') || p.shape.length <= 1 ? groups.noDecay : groups.decay;
    target.params.push(p);
    target.names.push(name);
  }
  return groups;
}
