import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';

/** Class weights N / (2 N_c) (pmn-design.md §5.4); a class absent from the data gets weight 1. */
export function classWeights(labels: ArrayLike<number>): [number, number] {
  const n = labels.length;
  const n1 = Array.from(labels).filter((y) => y === 1).length;
  const w = (nc: number) => (nc === 0 ? 1 : n / (2 * nc));
  return [w(n - n1), w(n1)];
}

export function weightedCrossEntropy(logits: Tensor, labels: number[], weights: [number, number]): Tensor {
  const target = torch.tensor(labels, { dtype: 'int64' });
  const weight = torch.tensor(weights, { dtype: logits.dtype });
  return torch.F.crossEntropy(logits, target, { weight });
}

/**
 * ProtoPNet's cluster and separation costs in the "(max_dist − d)·mask → max" form (a min over a multiplied
 * mask would be 0, pmn-design.md §6), class-weighted as MProtoNet. minDistance: [B, K]; prototypeClass[j] is
 * prototype j's class. Cluster: distance to the nearest own-class prototype; separation: to the nearest
 * other-class one (subtracted in the total loss).
 */
export function clusterSeparation(minDistance: Tensor, labels: number[], prototypeClass: number[], maxDist: number, weights: [number, number]): { cluster: Tensor; separation: Tensor } {
  const own = torch.tensor(labels.map((y) => prototypeClass.map((c) => (c === y ? 1 : 0))), { dtype: minDistance.dtype });
  const w = torch.tensor(labels.map((y) => weights[y]!), { dtype: minDistance.dtype });
  const closeness = minDistance.rsub(maxDist);
  const nearest = (mask: Tensor) => closeness.mul(mask).amax([1]).rsub(maxDist);
  const wsum = w.sum();
  return {
    cluster: nearest(own).mul(w).sum().div(wsum),
    separation: nearest(own.rsub(1)).mul(w).sum().div(wsum),
  };
}

/**
 * Breslow negative log partial likelihood, averaged over events: sort by time descending, logcumsumexp of the
 * risks, and for tied times the risk set is read at the last member of the tie group (everyone tied is at risk).
 * No events gives 0 (connected to the graph, never NaN).
 */
export function coxBreslowLoss(risk: Tensor, time: ArrayLike<number>, event: ArrayLike<number>): Tensor {
  const n = time.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[b]! - time[a]! || a - b);
  const events = order.map((i) => (event[i] ? 1 : 0));
  const nEvents = events.reduce((a: number, b) => a + b, 0);
  if (nEvents === 0) return risk.sum().mul(0);
  const last = new Array<number>(n);
  for (let k = n - 1; k >= 0; k--) last[k] = k + 1 < n && time[order[k + 1]!] === time[order[k]!] ? last[k + 1]! : k;
  const sorted = risk.indexSelect(0, torch.tensor(order));
  const lcse = sorted.logcumsumexp(0).indexSelect(0, torch.tensor(last));
  return sorted.sub(lcse).mul(torch.tensor(events, { dtype: 'float32' })).sum().div(-nEvents);
}

/** Optional diversity: Σ_{i<j same class} relu(threshold − ‖p_i − p_j‖²) keeps prototypes of a class apart. */
export function diversityLoss(prototypes: Tensor, prototypeClass: number[], threshold: number): Tensor {
  const d = torch.cdist(prototypes, prototypes).square();
  const same = prototypeClass.map((ci, i) => prototypeClass.map((cj, j) => (ci === cj && i < j ? 1 : 0)));
  return d.rsub(threshold).relu().mul(torch.tensor(same, { dtype: 'float32' })).sum();
}

/** L1 on the last layer's off-class weights and on the Cox head (the last-layer stage's sparsity term). */
export function lastLayerL1(classWeight: Tensor, coxWeight: Tensor, prototypeClass: number[]): Tensor {
  const off = torch.tensor([0, 1].map((c) => prototypeClass.map((pc) => (pc === c ? 0 : 1))), { dtype: 'float32' });
  return classWeight.mul(off).abs().sum().add(coxWeight.abs().sum());
}
