import { invertAffine, multiplyAffines } from '../affine.js';
import { HccError } from '../../util/errors.js';
import {
  allocVoxels, makeVolume, voxelTypeOf, type Affine, type Vec3, type VoxelArray, type Volume,
} from '../volume.js';
import { splineCoefficients, zoomAxes, type SplineOrder } from './spline.js';

/**
 * Resampling in world coordinates, two ways:
 * - to a target spacing, exactly as nnU-Net v2 preprocesses (default_resampling.py): new shape
 *   round(spacing / target · shape), voxel edges aligned (skimage resize / scipy zoom grid_mode), cubic B-spline
 *   for images clipped to the input range, one-hot linear for labels, and the separate-z rule for anisotropic
 *   data (in-plane first, then nearest along the thick axis);
 * - onto another volume's grid (any affine: oblique, flipped, different field of view), sampling each output
 *   voxel centre's world position in the source; positions outside the source's voxel footprint get `fill`.
 * The returned affine is exact: it maps the new voxels to where they were sampled.
 */

export type ImageOrder = SplineOrder;
/** 'nearest', or nnU-Net's per-label linear: each label's one-hot mask resampled linearly, kept where ≥ 0.5. */
export type LabelMode = 'nearest' | 'linear';

export interface SpacingOptions {
  /**
   * nnU-Net's separate-z handling: 'auto' (default) applies it when the source or target spacing has a
   * max/min ratio above `anisotropyThreshold` and a single thickest axis; true/false force it (true needs a
   * unique thickest source axis).
   */
  separateZ?: 'auto' | boolean;
  anisotropyThreshold?: number;
}

/** Python's round(): halves go to the even neighbour, as nnU-Net's compute_new_shape does. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function shapeForSpacing(shape: Vec3, spacing: Vec3, target: Vec3): Vec3 {
  if (!target.every((t) => Number.isFinite(t) && t > 0)) {
    throw new HccError(`resample: target spacing ${target.join(' x ')} mm; expected three positive numbers`);
  }
  return shape.map((n, a) => Math.max(1, roundHalfEven((spacing[a]! / target[a]!) * n))) as Vec3;
}

function lowResAxis(spacing: Vec3): 0 | 1 | 2 | null {
  const max = Math.max(...spacing);
  const axes = [0, 1, 2].filter((a) => max / spacing[a]! === 1);
  return axes.length === 1 ? (axes[0] as 0 | 1 | 2) : null;
}

/** nnU-Net's `determine_do_sep_z_and_axis` with force_separate_z=None. */
export function separateZAxis(spacing: Vec3, target: Vec3, threshold = 3): 0 | 1 | 2 | null {
  const ratio = (s: Vec3) => Math.max(...s) / Math.min(...s);
  if (ratio(spacing) > threshold) return lowResAxis(spacing);
  if (ratio(target) > threshold) return lowResAxis(target);
  return null;
}

function chooseAxis(spacing: Vec3, target: Vec3, options: SpacingOptions): 0 | 1 | 2 | null {
  const mode = options.separateZ ?? 'auto';
  if (mode === false) return null;
  if (mode === 'auto') return separateZAxis(spacing, target, options.anisotropyThreshold ?? 3);
  const axis = lowResAxis(spacing);
  if (axis === null) throw new HccError(`separate-z resampling needs one thickest axis; spacing is ${spacing.join(' x ')} mm`);
  return axis;
}

/** The affine of a grid that splits each axis of `affine`'s grid from n into m voxels edge to edge. */
function zoomedAffine(affine: Affine, shape: Vec3, outShape: Vec3): Affine {
  const s = shape.map((n, a) => n / outShape[a]!);
  const map = [s[0]!, 0, 0, 0.5 * s[0]! - 0.5, 0, s[1]!, 0, 0.5 * s[1]! - 0.5, 0, 0, s[2]!, 0.5 * s[2]! - 0.5, 0, 0, 0, 1];
  return multiplyAffines(affine, map);
}

const inPlane = (axis: 0 | 1 | 2) => [0, 1, 2].filter((a) => a !== axis) as Array<0 | 1 | 2>;

function sliceRange(data: ArrayLike<number>, shape: readonly number[], axis: number): Array<[number, number]> {
  const [nx, ny, nz] = shape as [number, number, number];
  const ranges = Array.from({ length: shape[axis]! }, () => [Infinity, -Infinity] as [number, number]);
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    const r = ranges[axis === 0 ? i : axis === 1 ? j : k]!;
    const v = data[p]!;
    if (v < r[0]) r[0] = v;
    if (v > r[1]) r[1] = v;
  }
  return ranges;
}

function clipSlices(data: Float64Array, shape: readonly number[], axis: number, ranges: Array<[number, number]>): void {
  const [nx, ny, nz] = shape as [number, number, number];
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    const [lo, hi] = ranges[axis === 0 ? i : axis === 1 ? j : k]!;
    const v = data[p]!;
    data[p] = v < lo ? lo : v > hi ? hi : v;
  }
}

/**
 * Zooms `data` to `outShape` as nnU-Net's resample_data_or_seg does for one channel (clipping per resize call:
 * the whole volume, or each in-plane slice when resampling with separate z).
 */
function nnunetZoom(data: ArrayLike<number>, shape: Vec3, outShape: Vec3, order: ImageOrder, axis: 0 | 1 | 2 | null, clip: boolean): Float64Array {
  if (axis === null) {
    const out = zoomAxes(data, shape, outShape, order);
    if (clip) {
      const [lo, hi] = globalRange(data);
      for (let i = 0; i < out.length; i++) out[i] = out[i]! < lo ? lo : out[i]! > hi ? hi : out[i]!;
    }
    return out;
  }
  const planeShape = [...outShape];
  planeShape[axis] = shape[axis];
  const plane = zoomAxes(data, shape, planeShape, order, inPlane(axis));
  if (clip) clipSlices(plane, planeShape, axis, sliceRange(data, shape, axis));
  return zoomAxes(plane, planeShape, outShape, 0, [axis]);
}

function globalRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * nnU-Net's `resample_data_or_seg_to_shape` for one image channel: `data` on a grid of `shape` with `spacing`
 * resampled to `outShape`, whose spacing is `target` (which decides separate z). Float32 out. Also what nnU-Net
 * does to each logit channel on export (order 1, back to the original shape).
 */
export function resampleDataToShape(
  data: ArrayLike<number>, shape: Vec3, outShape: Vec3, spacing: Vec3, target: Vec3, order: ImageOrder = 3, options: SpacingOptions = {},
): Float32Array {
  return Float32Array.from(nnunetZoom(data, shape, outShape, order, chooseAxis(spacing, target, options), true));
}

/** An image resampled to `target` spacing (mm, along i, j, k); cubic by default, float32 out, as nnU-Net. */
export function resampleImageToSpacing(volume: Volume, target: Vec3, order: ImageOrder = 3, options: SpacingOptions = {}): Volume<Float32Array> {
  const outShape = shapeForSpacing(volume.shape, volume.spacing, target);
  const out = resampleDataToShape(volume.data, volume.shape, outShape, volume.spacing, target, order, options);
  return makeVolume(outShape, zoomedAffine(volume.affine, volume.shape, outShape), out, structuredClone(volume.meta));
}

function labelValues(data: VoxelArray): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < data.length; i++) seen.add(data[i]!);
  return [...seen].sort((a, b) => a - b);
}

/** nnU-Net's `resample_data_or_seg_to_shape(is_seg=True)` on a label array; keeps the array's type. */
export function resampleLabelsToShape(
  data: VoxelArray, shape: Vec3, outShape: Vec3, spacing: Vec3, target: Vec3, mode: LabelMode = 'linear', options: SpacingOptions = {},
): VoxelArray {
  const axis = chooseAxis(spacing, target, options);
  const n = outShape[0] * outShape[1] * outShape[2];
  const out = allocVoxels(voxelTypeOf(data), n);
  if (mode === 'nearest') {
    const z = nnunetZoom(data, shape, outShape, 0, axis, false);
    for (let i = 0; i < n; i++) out[i] = z[i]!;
    return out;
  }
  const planeShape = [...outShape] as Vec3;
  if (axis !== null) planeShape[axis] = shape[axis];
  const plane = allocVoxels(voxelTypeOf(data), planeShape[0] * planeShape[1] * planeShape[2]);
  const mask = new Uint8Array(data.length);
  for (const label of labelValues(data)) {
    for (let i = 0; i < mask.length; i++) mask[i] = data[i] === label ? 1 : 0;
    const z = zoomAxes(mask, shape, planeShape, 1, axis === null ? [0, 1, 2] : inPlane(axis));
    for (let i = 0; i < z.length; i++) if (z[i]! >= 0.5) plane[i] = label;
  }
  if (axis === null) out.set(plane);
  else out.set(zoomAxes(plane, planeShape, outShape, 0, [axis]));
  return out;
}

/** Labels resampled to `target` spacing; keeps the input's integer type. */
export function resampleLabelsToSpacing(volume: Volume, target: Vec3, mode: LabelMode = 'linear', options: SpacingOptions = {}): Volume {
  const outShape = shapeForSpacing(volume.shape, volume.spacing, target);
  const out = resampleLabelsToShape(volume.data, volume.shape, outShape, volume.spacing, target, mode, options);
  return makeVolume(outShape, zoomedAffine(volume.affine, volume.shape, outShape), out, structuredClone(volume.meta));
}

export interface Grid {
  shape: Vec3;
  affine: Affine;
}

export interface GridOptions {
  /** Value for output voxels whose centre falls outside the source's voxel footprint (default 0). */
  fill?: number;
}

/** Source voxel coordinates of each output voxel centre: one 3x4 map, applied incrementally. */
function gridMap(source: Grid, target: Grid): Affine {
  return multiplyAffines(invertAffine(source.affine), target.affine);
}

type Sampler = (x: number, y: number, z: number) => number;

function samplerFor(volume: Volume, order: ImageOrder): Sampler {
  const [nx, ny, nz] = volume.shape;
  const clamp = (v: number, n: number) => (v < 0 ? 0 : v > n - 1 ? n - 1 : v);
  const src = volume.data;
  if (order === 0) {
    return (x, y, z) => {
      const i = Math.min(Math.floor(clamp(x, nx) + 0.5), nx - 1);
      const j = Math.min(Math.floor(clamp(y, ny) + 0.5), ny - 1);
      const k = Math.min(Math.floor(clamp(z, nz) + 0.5), nz - 1);
      return src[i + nx * (j + ny * k)]!;
    };
  }
  if (order === 1) {
    return (x, y, z) => {
      x = clamp(x, nx); y = clamp(y, ny); z = clamp(z, nz);
      const i = Math.floor(x), j = Math.floor(y), k = Math.floor(z);
      const fx = x - i, fy = y - j, fz = z - k;
      const i1 = Math.min(i + 1, nx - 1) - i, j1 = (Math.min(j + 1, ny - 1) - j) * nx, k1 = (Math.min(k + 1, nz - 1) - k) * nx * ny;
      const p = i + nx * (j + ny * k);
      const c00 = src[p]! * (1 - fx) + src[p + i1]! * fx;
      const c10 = src[p + j1]! * (1 - fx) + src[p + j1 + i1]! * fx;
      const c01 = src[p + k1]! * (1 - fx) + src[p + k1 + i1]! * fx;
      const c11 = src[p + j1 + k1]! * (1 - fx) + src[p + j1 + k1 + i1]! * fx;
      return (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
    };
  }
  const { coef, shape: cs } = splineCoefficients(src, volume.shape);
  const [cx, cy] = cs as [number, number];
  const wx = new Float64Array(4), wy = new Float64Array(4), wz = new Float64Array(4);
  const weights = (t: number, w: Float64Array) => {
    const u = 1 - t, t2 = t * t, t3 = t2 * t;
    w[0] = (u * u * u) / 6;
    w[1] = (3 * t3 - 6 * t2 + 4) / 6;
    w[2] = (-3 * t3 + 3 * t2 + 3 * t + 1) / 6;
    w[3] = t3 / 6;
  };
  // Callers only sample inside the footprint [-0.5, n-0.5]; the spline is not clamped there (scipy isn't).
  const foot = (v: number, n: number) => (v < -0.5 ? -0.5 : v > n - 0.5 ? n - 0.5 : v);
  return (x, y, z) => {
    x = foot(x, nx); y = foot(y, ny); z = foot(z, nz);
    const i = Math.floor(x), j = Math.floor(y), k = Math.floor(z);
    weights(x - i, wx); weights(y - j, wy); weights(z - k, wz);
    // Source index m has its coefficient at m + 2; the four taps start at floor - 1, i.e. offset floor + 1.
    let sum = 0;
    for (let c = 0; c < 4; c++) {
      let plane = 0;
      for (let b = 0; b < 4; b++) {
        const row = i + 1 + cx * (j + 1 + b + cy * (k + 1 + c));
        plane += wy[b]! * (wx[0]! * coef[row]! + wx[1]! * coef[row + 1]! + wx[2]! * coef[row + 2]! + wx[3]! * coef[row + 3]!);
      }
      sum += wz[c]! * plane;
    }
    return sum;
  };
}

function sampleGrid(volume: Volume, target: Grid, sample: Sampler, fill: number, out: VoxelArray): void {
  const m = gridMap(volume, target);
  const [nx, ny, nz] = volume.shape;
  const [ox, oy, oz] = target.shape;
  let p = 0;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      let x = m[1]! * j + m[2]! * k + m[3]!;
      let y = m[5]! * j + m[6]! * k + m[7]!;
      let z = m[9]! * j + m[10]! * k + m[11]!;
      for (let i = 0; i < ox; i++, p++, x += m[0]!, y += m[4]!, z += m[8]!) {
        const inside = x >= -0.5 && x <= nx - 0.5 && y >= -0.5 && y <= ny - 0.5 && z >= -0.5 && z <= nz - 0.5;
        out[p] = inside ? sample(x, y, z) : fill;
      }
    }
  }
}

/** The image sampled on `target`'s grid (e.g. the portal-venous phase on the arterial grid); float32 out. */
export function resampleImageToGrid(volume: Volume, target: Grid, order: ImageOrder = 1, options: GridOptions = {}): Volume<Float32Array> {
  const out = new Float32Array(target.shape[0] * target.shape[1] * target.shape[2]);
  sampleGrid(volume, target, samplerFor(volume, order), options.fill ?? 0, out);
  return makeVolume(target.shape, target.affine, out, structuredClone(volume.meta));
}

/** Labels on `target`'s grid, nearest or per-label linear; keeps the input's type; outside is label 0. */
export function resampleLabelsToGrid(volume: Volume, target: Grid, mode: LabelMode = 'nearest'): Volume {
  const n = target.shape[0] * target.shape[1] * target.shape[2];
  const out = allocVoxels(voxelTypeOf(volume.data), n);
  if (mode === 'nearest') {
    sampleGrid(volume, target, samplerFor(volume, 0), 0, out);
  } else {
    const prob = new Float32Array(n);
    const mask = makeVolume(volume.shape, volume.affine, new Uint8Array(volume.data.length));
    for (const label of labelValues(volume.data)) {
      if (label === 0) continue;
      for (let i = 0; i < mask.data.length; i++) mask.data[i] = volume.data[i] === label ? 1 : 0;
      sampleGrid(mask, target, samplerFor(mask, 1), 0, prob);
      for (let i = 0; i < n; i++) if (prob[i]! >= 0.5) out[i] = label;
    }
  }
  return makeVolume(target.shape, target.affine, out, structuredClone(volume.meta));
}
