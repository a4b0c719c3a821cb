import { multiplyAffines } from '../affine.js';
import { HccError } from '../../util/errors.js';
import { allocVoxels, makeVolume, voxelTypeOf, type Vec3, type Volume } from '../volume.js';

/** A voxel box: start inclusive, end exclusive, per axis (i, j, k). It may reach outside a volume. */
export interface Box {
  start: Vec3;
  end: Vec3;
}

/** The smallest box holding every voxel where `data` is non-zero (or `keep(value)` holds); null if none. */
export function boundingBox(data: ArrayLike<number>, shape: Vec3, keep: (v: number) => boolean = (v) => v !== 0): Box | null {
  const [nx, ny, nz] = shape;
  const start: Vec3 = [nx, ny, nz];
  const end: Vec3 = [0, 0, 0];
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    if (!keep(data[p]!)) continue;
    if (i < start[0]) start[0] = i;
    if (j < start[1]) start[1] = j;
    if (k < start[2]) start[2] = k;
    if (i >= end[0]) end[0] = i + 1;
    if (j >= end[1]) end[1] = j + 1;
    if (k >= end[2]) end[2] = k + 1;
  }
  return end[0] === 0 ? null : { start, end };
}

/** The box grown by `margin` voxels per axis; with `within`, clipped to that shape. */
export function expandBox(box: Box, margin: Vec3 | number, within?: Vec3): Box {
  const m = typeof margin === 'number' ? [margin, margin, margin] : margin;
  const start = box.start.map((s, a) => s - m[a]!) as Vec3;
  const end = box.end.map((e, a) => e + m[a]!) as Vec3;
  if (within) {
    for (let a = 0; a < 3; a++) {
      start[a] = Math.max(0, start[a]!);
      end[a] = Math.min(within[a]!, end[a]!);
    }
  }
  return { start, end };
}

/** Voxels per axis that cover at least `mm` millimetres (for margins given in mm). */
export function marginInVoxels(spacing: Vec3, mm: number): Vec3 {
  return spacing.map((s) => Math.ceil(mm / s - 1e-9)) as Vec3;
}

/**
 * The part of the volume inside `box`; parts of the box outside the volume are padded with `fill`. The affine
 * moves with the box, so every voxel keeps its world position. Undo a crop with
 * `cropOrPad(cropped, { start: -box.start, end: -box.start + originalShape })`, as nnU-Net pastes its
 * prediction back into the uncropped frame.
 */
export function cropOrPad<V extends Volume>(volume: V, box: Box, fill = 0): V {
  const outShape = box.end.map((e, a) => e - box.start[a]!) as Vec3;
  if (outShape.some((n) => !(n >= 1))) throw new HccError(`crop: empty box ${box.start.join(',')} .. ${box.end.join(',')}`);
  const [nx, ny, nz] = volume.shape;
  const [ox, oy, oz] = outShape;
  const [sx, sy, sz] = box.start;
  const out = allocVoxels(voxelTypeOf(volume.data), ox * oy * oz);
  if (fill !== 0) out.fill(fill);
  const i0 = Math.max(0, -sx), i1 = Math.min(ox, nx - sx);
  for (let k = 0; k < oz; k++) {
    const kk = k + sz;
    if (kk < 0 || kk >= nz) continue;
    for (let j = 0; j < oy; j++) {
      const jj = j + sy;
      if (jj < 0 || jj >= ny || i1 <= i0) continue;
      const src = sx + i0 + nx * (jj + ny * kk);
      out.set(volume.data.subarray(src, src + (i1 - i0)), i0 + ox * (j + oy * k));
    }
  }
  const shift = [1, 0, 0, sx, 0, 1, 0, sy, 0, 0, 1, sz, 0, 0, 0, 1];
  return makeVolume(outShape, multiplyAffines(volume.affine, shift), out, structuredClone(volume.meta)) as V;
}
