import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';

/**
 * nnU-Net's DC_and_CE_loss(weight_ce=1, weight_dice=1) with MemoryEfficientSoftDiceLoss(smooth=1e-5,
 * do_bg=False) on softmax, wrapped for deep supervision. The Dice term is negative, as nnU-Net's.
 */

/** logits [B, K, ...], target int64 [B, ...] of class indices. */
export function softDice(logits: Tensor, target: Tensor, batchDice: boolean, smooth = 1e-5): Tensor {
  const K = logits.shape[1]!;
  const probs = logits.softmax(1).narrow(1, 1, K - 1);
  const onehot = torch.oneHot(target, K).permute([0, 4, 1, 2, 3]).narrow(1, 1, K - 1).to('float32');
  const axes = batchDice ? [0, 2, 3, 4] : [2, 3, 4];
  const intersect = probs.mul(onehot).sum(axes);
  const sumPred = probs.sum(axes);
  const sumGt = onehot.sum(axes);
  const dc = intersect.mul(2).add(smooth).div(sumGt.add(sumPred).add(smooth).clampMin(1e-8));
  return dc.mean().neg();
}

export function dcAndCe(logits: Tensor, target: Tensor, batchDice: boolean): Tensor {
  return torch.F.crossEntropy(logits, target).add(softDice(logits, target, batchDice));
}

/** nnU-Net's deep-supervision weights: 1/2^i, the lowest resolution 0, normalised to sum 1. */
export function deepSupervisionWeights(n: number): number[] {
  const w = Array.from({ length: n }, (_, i) => 1 / 2 ** i);
  if (n > 1) w[n - 1] = 0;
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/** Targets for each output scale: nearest-neighbour downsampling of the label patch to the output's size. */
export function deepSupervisionTargets(target: Tensor, outputs: Tensor[]): Tensor[] {
  const t = target.unsqueeze(1).to('float32');
  return outputs.map((o) => {
    const size = o.shape.slice(2);
    if (size.every((n, i) => n === target.shape[i + 1])) return target;
    return torch.F.interpolate(t, { size, mode: 'nearest' }).squeeze(1).to('int64');
  });
}

export function deepSupervisionLoss(outputs: Tensor[], target: Tensor, batchDice: boolean): Tensor {
  const w = deepSupervisionWeights(outputs.length);
  const targets = deepSupervisionTargets(target, outputs);
  let total: Tensor | null = null;
  outputs.forEach((o, i) => {
    if (w[i] === 0) return;
    const l = dcAndCe(o, targets[i]!, batchDice).mul(w[i]!);
    total = total ? total.add(l) : l;
  });
  return total!;
}
