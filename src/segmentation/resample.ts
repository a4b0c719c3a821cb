import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { separateZAxis } from '../imaging/ops/resample.js';
import { axisTaps } from '../imaging/ops/spline.js';
import type { Vec3 } from '../imaging/volume.js';

/**
 * nnU-Net's export resampling of logits (`resample_data_or_seg_to_shape`, order 1, separate z where the spacing
 * says so, each channel clipped to its input range) in torch ops, bit for bit what imaging/ops/resample.ts's
 * `resampleDataToShape(..., 1)` computes in JavaScript loops: the taps come from the same `axisTaps`, and every
 * float64 product and sum is done in the same order (w0·a, then + w1·b), so only the loops move into libtorch.
 * Tensors are [K, z, y, x]; Volume axes (x, y, z) are dims 3, 2, 1. (The cubic preprocessing stays in
 * JavaScript: as whole-volume torch passes its prefilter recursion was memory-bound and 2x slower.)
 */

const dimOf = (axis: number) => 3 - axis;

function indexTensor(values: ArrayLike<number>): Tensor {
  return torch.fromArray(Int32Array.from(values), [values.length]).to('int64');
}

/** scipy.ndimage.zoom(order, mode 'nearest', grid_mode=True) along one Volume axis of a [K, z, y, x] tensor, float64 out. */
function zoomAxis(t: Tensor, axis: 0 | 1 | 2, m: number, order: 0 | 1): Tensor {
  const dim = dimOf(axis);
  const n = t.shape[dim]!;
  if (n === m) return t;
  const coords = Float64Array.from({ length: m }, (_, s) => ((s + 0.5) * n) / m - 0.5);
  const taps = axisTaps(coords, n, order);
  if (order === 0) return t.indexSelect(dim, indexTensor(taps.index));
  const rows = moveToFront(t, dim).to('float64');
  const k = taps.taps;
  const pick = (tap: number) => Array.from({ length: m }, (_, s) => s * k + tap);
  const column = [m, 1, 1];
  let out: Tensor | null = null;
  for (let tap = 0; tap < k; tap++) {
    const weight = torch.fromArray(Float64Array.from(pick(tap), (i) => taps.weight[i]!), column);
    const term = rows.indexSelect(0, indexTensor(pick(tap).map((i) => taps.index[i]!))).mul(weight);
    out = out ? out.add_(term) : term;
  }
  return moveBack(out!, t.shape, dim);
}

/**
 * [..., n (dim), ...] as [n, A, B] (A, B: the dims before and after), contiguous, so that every tap is one
 * contiguous slab. For the last dim this is a 2-D transpose, which libtorch copies in cache blocks; a general
 * permute of it took 8x longer.
 */
function moveToFront(t: Tensor, dim: number): Tensor {
  const n = t.shape[dim]!;
  const a = t.shape.slice(0, dim).reduce((p, q) => p * q, 1);
  const b = t.shape.slice(dim + 1).reduce((p, q) => p * q, 1);
  if (a === 1) return t.reshape([n, 1, b]);
  if (b === 1) return t.reshape([a, n]).t().contiguous().reshape([n, a, 1]);
  return t.reshape([a, n, b]).permute([1, 0, 2]).contiguous();
}

/** The inverse of moveToFront for a result [m, A, B]: back to `shape` with `m` at `dim`. */
function moveBack(rows: Tensor, shape: number[], dim: number): Tensor {
  const [m, a, b] = rows.shape as [number, number, number];
  const out = [...shape];
  out[dim] = m;
  if (a === 1) return rows.reshape(out);
  if (b === 1) return rows.reshape([m, a]).t().contiguous().reshape(out);
  return rows.permute([1, 0, 2]).contiguous().reshape(out);
}

/**
 * Channels [K, z, y, x] (float32) on a grid of `shape` (x, y, z) with `spacing` resampled to `outShape`, whose
 * spacing is `target`: float32 [K, z', y', x'], as `resampleDataToShape(channel, shape, outShape, spacing,
 * target, 1)` per channel.
 */
export function resampleChannels(data: Tensor, shape: Vec3, outShape: Vec3, spacing: Vec3, target: Vec3): Tensor {
  const axis = separateZAxis(spacing, target);
  const channels: Tensor[] = [];
  // One channel at a time: its float64 intermediates are the memory peak.
  for (let c = 0; c < data.shape[0]!; c++) {
    channels.push(torch.tidy(() => {
      // float32 until an axis is zoomed (zoomAxis widens it), so moving axes copies half the bytes
      const x = data.narrow(0, c, 1);
      const range = (dims: number[]) => [x.amin(dims, true).to('float64'), x.amax(dims, true).to('float64')] as const;
      if (axis === null) {
        let out = x;
        for (const a of [0, 1, 2] as const) out = zoomAxis(out, a, outShape[a]!, 1);
        const [lo, hi] = range([1, 2, 3]);
        return out.maximum(lo).minimum(hi).to('float32');
      }
      let plane = x;
      for (const a of [0, 1, 2] as const) if (a !== axis) plane = zoomAxis(plane, a, outShape[a]!, 1);
      // Clipped per slice along the thick axis to that input slice's range, then nearest along it.
      const [lo, hi] = range([1, 2, 3].filter((d) => d !== dimOf(axis)));
      return zoomAxis(plane.maximum(lo).minimum(hi), axis, outShape[axis]!, 0).to('float32');
    }));
  }
  const out = torch.cat(channels, 0);
  for (const c of channels) c.dispose();
  return out;
}
