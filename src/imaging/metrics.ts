import { HccError } from '../util/errors.js';
import { boundingBox, type Box } from './ops/crop.js';
import { distanceTransform } from './ops/distance.js';
import { sameGrid, type Vec3, type Volume } from './volume.js';

/**
 * Segmentation metrics as the medical-imaging community computes them (MONAI's compute_dice /
 * compute_hausdorff_distance(percentile=95) / compute_average_surface_distance(symmetric) /
 * compute_surface_dice, which follow Nikolov et al. 2021 for the normalised surface Dice):
 * - the surface of a mask is its voxels with a face neighbour outside the mask (or outside the image), i.e. the
 *   mask minus its 6-connected erosion;
 * - distances are exact Euclidean in mm between voxel centres (anisotropic spacing respected), from each surface
 *   voxel of one mask to the nearest surface voxel of the other;
 * - HD95 is the larger of the two directed 95th percentiles (linear interpolation, as numpy.percentile);
 *   ASSD is the mean of both directed distance sets pooled; NSD is the fraction of both surfaces' voxels within
 *   the tolerance of the other surface.
 * Empty masks: both empty gives Dice 1, distances 0 and NSD 1; exactly one empty gives Dice 0, distances
 * Infinity and NSD 0 (MONAI returns NaN/inf there; a number keeps tables and JSON well defined).
 */
export interface SegmentationMetrics {
  dice: number;
  hd95: number;
  /** The maximum (100th percentile) symmetric Hausdorff distance. */
  hd: number;
  assd: number;
  /** Normalised surface Dice at `toleranceMm`. */
  nsd: number;
  toleranceMm: number;
  /** Voxel counts, for pooling Dice over cases. */
  predVoxels: number;
  refVoxels: number;
  overlapVoxels: number;
}

function overlap(pred: ArrayLike<number>, ref: ArrayLike<number>): { a: number; b: number; both: number } {
  let a = 0, b = 0, both = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] ? 1 : 0, r = ref[i] ? 1 : 0;
    a += p;
    b += r;
    both += p & r;
  }
  return { a, b, both };
}

export function dice(pred: ArrayLike<number>, ref: ArrayLike<number>): number {
  const { a, b, both } = overlap(pred, ref);
  return a + b === 0 ? 1 : (2 * both) / (a + b);
}

/** 1 on mask voxels that have a face neighbour outside the mask or the image. */
export function surfaceVoxels(mask: ArrayLike<number>, shape: Vec3): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(nx * ny * nz);
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    if (!mask[p]) continue;
    out[p] =
      i === 0 || i === nx - 1 || j === 0 || j === ny - 1 || k === 0 || k === nz - 1 ||
      !mask[p - 1] || !mask[p + 1] || !mask[p - nx] || !mask[p + nx] || !mask[p - nx * ny] || !mask[p + nx * ny]
        ? 1
        : 0;
  }
  return out;
}

function cropArray(data: ArrayLike<number>, shape: Vec3, box: Box): Uint8Array {
  const [nx, ny] = shape;
  const [ox, oy, oz] = box.end.map((e, a) => e - box.start[a]!) as Vec3;
  const out = new Uint8Array(ox * oy * oz);
  let q = 0;
  for (let k = 0; k < oz; k++) for (let j = 0; j < oy; j++) {
    const base = box.start[0] + nx * (box.start[1] + j + ny * (box.start[2] + k));
    for (let i = 0; i < ox; i++) out[q++] = data[base + i] ? 1 : 0;
  }
  return out;
}

/** Distances (mm) from every surface voxel of `from` to the nearest surface voxel of `to`. */
export function surfaceDistances(pred: ArrayLike<number>, ref: ArrayLike<number>, shape: Vec3, spacing: Vec3): { predToRef: Float64Array; refToPred: Float64Array } {
  const sp = surfaceVoxels(pred, shape);
  const sr = surfaceVoxels(ref, shape);
  const union = new Uint8Array(sp.length);
  for (let i = 0; i < union.length; i++) union[i] = sp[i]! | sr[i]!;
  const box = boundingBox(union, shape);
  if (!box) return { predToRef: new Float64Array(0), refToPred: new Float64Array(0) };
  const cropShape = box.end.map((e, a) => e - box.start[a]!) as Vec3;
  const cp = cropArray(sp, shape, box);
  const cr = cropArray(sr, shape, box);
  const directed = (from: Uint8Array, to: Uint8Array) => {
    const dist = distanceTransform(to, cropShape, spacing);
    const out: number[] = [];
    for (let i = 0; i < from.length; i++) if (from[i]) out.push(dist[i]!);
    return Float64Array.from(out);
  };
  return { predToRef: directed(cp, cr), refToPred: directed(cr, cp) };
}

/** numpy.percentile with the default linear interpolation. */
export function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** All metrics for two binary masks on one grid (non-zero = foreground). */
export function maskMetrics(pred: ArrayLike<number>, ref: ArrayLike<number>, shape: Vec3, spacing: Vec3, toleranceMm = 2): SegmentationMetrics {
  const { a, b, both } = overlap(pred, ref);
  const counts = { predVoxels: a, refVoxels: b, overlapVoxels: both, toleranceMm };
  if (a === 0 && b === 0) return { dice: 1, hd95: 0, hd: 0, assd: 0, nsd: 1, ...counts };
  if (a === 0 || b === 0) return { dice: 0, hd95: Infinity, hd: Infinity, assd: Infinity, nsd: 0, ...counts };
  const { predToRef, refToPred } = surfaceDistances(pred, ref, shape, spacing);
  let sum = 0, within = 0, max = 0;
  for (const d of [predToRef, refToPred]) {
    for (let i = 0; i < d.length; i++) {
      sum += d[i]!;
      if (d[i]! <= toleranceMm) within++;
      if (d[i]! > max) max = d[i]!;
    }
  }
  const total = predToRef.length + refToPred.length;
  return {
    dice: (2 * both) / (a + b),
    hd95: Math.max(percentile(predToRef, 95), percentile(refToPred, 95)),
    hd: max,
    assd: sum / total,
    nsd: within / total,
    ...counts,
  };
}

/** Metrics for one label of two label volumes, which must share a grid. */
export function labelMetrics(pred: Volume, ref: Volume, label: number, toleranceMm = 2): SegmentationMetrics {
  if (!sameGrid(pred, ref)) {
    throw new HccError(`metrics: prediction grid ${pred.shape.join('x')} differs from the reference grid ${ref.shape.join('x')} (or their affines differ); resample first`);
  }
  const n = pred.data.length;
  const p = new Uint8Array(n), r = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = pred.data[i] === label ? 1 : 0;
    r[i] = ref.data[i] === label ? 1 : 0;
  }
  return maskMetrics(p, r, ref.shape, ref.spacing, toleranceMm);
}
