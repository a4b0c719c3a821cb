import { connectedComponents } from '../imaging/ops/components.js';
import { distanceTransform } from '../imaging/ops/distance.js';
import { resampleLabelsToShape, shapeForSpacing } from '../imaging/ops/resample.js';
import type { Vec3 } from '../imaging/volume.js';
import type { Rng } from '../util/rng.js';
import { xyz, type ZYX } from './plans.js';
import type { PreprocessedCase } from './preprocess.js';

/**
 * nnU-Net's cascade input (3d_cascade_fullres): the previous stage's segmentation enters the next stage's network
 * as extra one-hot input channels, one per foreground label (`MoveSegAsOneHotToData`). Our previous stage is the
 * liver stage, so that is one binary channel. In training it is perturbed per patch as nnU-Net does
 * (`ApplyRandomBinaryOperatorTransform`, `RemoveRandomConnectedComponentFromOneHotEncodingTransform`), so the
 * network learns to correct it rather than copy it.
 */

/**
 * Where a grid lies on an input grid: voxel i along axis a (x, y, z) sits at input index
 * origin[a] + (i + 0.5)·crop[a]/shape[a] − 0.5, which is how the resampling (scipy's zoom with grid_mode) places
 * a crop of `crop` voxels resampled to `shape`.
 */
export interface ZoomGrid {
  origin: Vec3;
  crop: Vec3;
  shape: Vec3;
}

/** A previous stage's mask on its own grid, the grid given on the input grid of the stage that reads it. */
export interface PreviousStage {
  mask: Uint8Array;
  grid: ZoomGrid;
}

/** The grid a case was preprocessed onto, on its input grid shifted by `offset`. */
export function preprocessedGrid(pre: PreprocessedCase, offset: Vec3 = [0, 0, 0]): ZoomGrid {
  return { origin: pre.properties.bbox.start.map((s, a) => s + offset[a]!) as Vec3, crop: pre.properties.shapeAfterCropping, shape: xyz(pre.shape) };
}

/** The same mask seen from a crop of the input grid that starts at `start` (x, y, z). */
export function onCrop(previous: PreviousStage, start: Vec3): PreviousStage {
  return { mask: previous.mask, grid: { ...previous.grid, origin: previous.grid.origin.map((o, a) => o - start[a]!) as Vec3 } };
}

/** A mask on `from` read onto `to` by nearest neighbour (0 outside `from`); C order (x fastest) both ways. */
export function transferMask(mask: ArrayLike<number>, from: ZoomGrid, to: ZoomGrid): Uint8Array {
  const maps = [0, 1, 2].map((a) => Int32Array.from({ length: to.shape[a]! }, (_, j) => {
    const input = to.origin[a]! + ((j + 0.5) * to.crop[a]!) / to.shape[a]! - 0.5;
    const i = Math.round(((input - from.origin[a]! + 0.5) * from.shape[a]!) / from.crop[a]! - 0.5);
    return i >= 0 && i < from.shape[a]! ? i : -1;
  }));
  const [mx, my, mz] = maps as [Int32Array, Int32Array, Int32Array];
  const [fx, fy] = from.shape;
  const out = new Uint8Array(to.shape[0] * to.shape[1] * to.shape[2]);
  let p = 0;
  for (let k = 0; k < mz.length; k++) for (let j = 0; j < my.length; j++) for (let i = 0; i < mx.length; i++, p++) {
    if (mx[i]! >= 0 && my[j]! >= 0 && mz[k]! >= 0 && mask[mx[i]! + fx * (my[j]! + fy * mz[k]!)]) out[p] = 1;
  }
  return out;
}

/**
 * The reference liver as a liver stage at `lowSpacing` would see it: labels > 0 resampled to that spacing as
 * nnU-Net resamples segmentations (per label, linear, >= 0.5), on its grid. Read back onto a finer grid with
 * transferMask, it has the blocky outline of a stage-1 prediction.
 */
export function lowresReference(labels: ArrayLike<number>, shape: Vec3, spacing: Vec3, lowSpacing: Vec3): PreviousStage {
  const low = shapeForSpacing(shape, spacing, lowSpacing);
  const binary = Uint8Array.from(labels, (v) => (v > 0 ? 1 : 0));
  const mask = resampleLabelsToShape(binary, shape, low, spacing, lowSpacing, 'linear') as Uint8Array;
  return { mask, grid: { origin: [0, 0, 0], crop: shape, shape: low } };
}

/** Squared-distance test: voxels within `radius` (voxels) of a non-zero voxel of `mask` (skimage's ball). */
function dilate(mask: Uint8Array, shape: Vec3, radius: number): Uint8Array {
  const d = distanceTransform(mask, shape, [1, 1, 1]);
  return Uint8Array.from(d, (v) => (v <= radius ? 1 : 0));
}

const invert = (m: Uint8Array) => Uint8Array.from(m, (v) => 1 - v);

/**
 * batchgeneratorsv2's binary operators with a ball of `radius` voxels. Erosion is the complement's dilation, as
 * there, so voxels beyond the patch count as foreground and the patch border does not erode.
 */
const OPERATORS: Array<(m: Uint8Array, s: Vec3, r: number) => Uint8Array> = [
  (m, s, r) => dilate(m, s, r),
  (m, s, r) => invert(dilate(invert(m), s, r)),
  (m, s, r) => invert(dilate(invert(dilate(m, s, r)), s, r)),
  (m, s, r) => dilate(invert(dilate(invert(m), s, r)), s, r),
];

/**
 * nnU-Net's training perturbation of the cascade input, on one patch: with p 0.4 a random one of dilation,
 * erosion, closing and opening with a ball of radius uniform in [1, 8] voxels; then with p 0.2 one random
 * 26-connected component smaller than 15 % of the patch removed. Every draw comes from `rng`.
 */
export function perturbCascadeInput(mask: Uint8Array, patch: ZYX, rng: Rng): Uint8Array {
  const shape = xyz(patch);
  let m = mask;
  if (rng.bernoulli(0.4)) {
    const op = OPERATORS[rng.int(OPERATORS.length)]!;
    m = op(m, shape, rng.uniformIn(1, 8));
  }
  if (rng.bernoulli(0.2)) {
    const cc = connectedComponents(m, shape, 26);
    const small = cc.sizes.map((n, c) => (c > 0 && n < 0.15 * m.length ? c : 0)).filter((c) => c > 0);
    if (small.length) {
      const drop = small[rng.int(small.length)]!;
      m = Uint8Array.from(m, (v, i) => (cc.labels[i] === drop ? 0 : v));
    }
  }
  return m;
}
