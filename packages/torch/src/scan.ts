// The Mamba (S6) selective scan: a C++ custom autograd op (native/scan.cc) and the plain op-by-op reference it
// is tested and benchmarked against.
import * as ops from './gen/ops.js';
import { native as N } from './native.js';
import { track } from './scope.js';
import type { Tensor } from './tensor.js';

export interface SelectiveScanOptions {
  /** Skip connection D: [channels]. */
  D?: Tensor | null;
  /** Gate z: [batch, length, channels]; out = y ⊙ silu(z). */
  z?: Tensor | null;
  /** Added to delta before the softplus: [channels] (Mamba's dt_proj.bias). */
  deltaBias?: Tensor | null;
  /** [batch, length], nonzero/true = valid token. Masked tokens get Δ = 0: they neither write to nor decay the state. */
  mask?: Tensor | null;
  /** Apply softplus (threshold 20) to delta + deltaBias; default true. */
  deltaSoftplus?: boolean;
}

/**
 * Selective scan in token-major layout: u, delta: [B, L, D]; A: [D, N] (negative, A = -exp(A_log));
 * B, C: [B, L, N]. Returns [B, L, D]. float32/float64, differentiable in all tensor inputs but the mask.
 * The fused kernel is CPU-only; on a CUDA tensor the same recurrence runs as ordinary ops on the device
 * (selectiveScanReference), which is exact but launches a few kernels per token.
 */
export function selectiveScan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, options: SelectiveScanOptions = {}): Tensor {
  if (u.device !== 'cpu') return selectiveScanReference(u, delta, A, B, C, options);
  return track(N.selectiveScan(u, delta, A, B, C, options.D, options.z, options.deltaBias, options.mask,
    options.deltaSoftplus ?? true) as Tensor);
}

/** The same recurrence written with ordinary differentiable ops, one time step at a time (slow; for checks). */
export function selectiveScanReference(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, options: SelectiveScanOptions = {}): Tensor {
  const [b, l, d] = u.shape;
  const n = A.shape[1];
  let dt = options.deltaBias ? delta.add(options.deltaBias) : delta;
  if (options.deltaSoftplus ?? true) dt = ops.softplus(dt, 1, 20);
  if (options.mask) dt = dt.mul(options.mask.to(u.dtype).unsqueeze(-1));
  let h = ops.zeros([b, d, n], { dtype: u.dtype, device: u.device });
  const ys: Tensor[] = [];
  for (let t = 0; t < l; t++) {
    const dtT = dt.select(1, t);
    const decay = dtT.unsqueeze(-1).mul(A).exp();
    const input = dtT.mul(u.select(1, t)).unsqueeze(-1).mul(B.select(1, t).unsqueeze(1));
    h = decay.mul(h).add(input);
    ys.push(h.mul(C.select(1, t).unsqueeze(1)).sum([-1]));
  }
  let y = ops.stack(ys, 1);
  if (options.D) y = y.add(u.mul(options.D));
  if (options.z) y = y.mul(ops.silu(options.z));
  return y;
}

/**
 * Mamba's causal depthwise conv1d over tokens, optionally followed by SiLU (causal_conv1d_fn(x, weight, bias,
 * activation='silu') in token-major layout): x [batch, length, channels], weight [channels, kernel] (or Conv1d's
 * [channels, 1, kernel]), bias [channels]; out[b,t,c] = act(bias[c] + Σ_k weight[c,k]·x[b, t−(kernel−1)+k, c]),
 * zero before the first token. On the CPU a C++ autograd op (one pass forward and one backward); elsewhere the
 * equivalent left-padded grouped conv1d. float32/float64.
 */
export function causalConv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: { activation?: 'silu' | null } = {}): Tensor {
  const w = weight.ndim === 3 ? weight.reshape([weight.shape[0]!, weight.shape[2]!]) : weight;
  const silu = options.activation === undefined || options.activation === 'silu';
  if (x.device === 'cpu') return track(N.causalConv1d(x, w, bias, silu) as Tensor);
  const [channels, kernel] = w.shape as [number, number];
  const padded = ops.constantPadNd(x.transpose(1, 2), [kernel - 1, 0]);
  const out = ops.conv1d(padded, w.unsqueeze(1), bias, 1, 0, 1, channels).transpose(1, 2);
  return silu ? ops.silu(out) : out;
}
