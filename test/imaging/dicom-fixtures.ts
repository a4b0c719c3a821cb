/**
 * Shared by the DICOM tests: the real samples in ../shared/data and a comparison of a Volume against a
 * reference NIfTI that may store the same grid in another axis order (dcm2niix flips rows, we keep them).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Volume } from '../../src/imaging/volume.js';
import { shared } from '../helpers.js';

export const dicomData = (...parts: string[]): string => shared('data', 'dicom', ...parts);
export const refData = (...parts: string[]): string => shared('data', 'refs', ...parts);

interface RefImage {
  dim: [number, number, number];
  pixdim: [number, number, number];
  affine: number[];
  values: Float64Array;
}

/** Just enough NIfTI-1 for the reference files (int16 or uint16, sform, scl_slope/inter). */
export function readReferenceNifti(path: string): RefImage {
  let b = readFileSync(path);
  if (path.endsWith('.gz')) b = gunzipSync(b);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(v.getInt32(0, true), 348, `${path}: NIfTI-1 little endian expected`);
  const datatype = v.getInt16(70, true);
  assert.ok(datatype === 4 || datatype === 512, `${path}: int16 or uint16 expected, datatype ${datatype}`);
  const dim: [number, number, number] = [v.getInt16(42, true), v.getInt16(44, true), v.getInt16(46, true)];
  const pixdim: [number, number, number] = [v.getFloat32(80, true), v.getFloat32(84, true), v.getFloat32(88, true)];
  const offset = v.getFloat32(108, true);
  const slope = v.getFloat32(112, true) || 1;
  const inter = v.getFloat32(116, true) || 0;
  const affine: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) affine.push(v.getFloat32(280 + 16 * r + 4 * c, true));
  affine.push(0, 0, 0, 1);
  const n = dim[0] * dim[1] * dim[2];
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (datatype === 4 ? v.getInt16(offset + 2 * i, true) : v.getUint16(offset + 2 * i, true)) * slope + inter;
  return { dim, pixdim, affine, values };
}

function apply(a: number[], p: number[]): number[] {
  return [0, 1, 2].map((r) => a[4 * r] * p[0] + a[4 * r + 1] * p[1] + a[4 * r + 2] * p[2] + a[4 * r + 3]);
}

function invert(a: number[]): number[] {
  const m = [a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10]];
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  const i = [
    (m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
    (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
    (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det,
  ];
  const t = [a[3], a[7], a[11]];
  const ti = [0, 1, 2].map((r) => -(i[3 * r] * t[0] + i[3 * r + 1] * t[1] + i[3 * r + 2] * t[2]));
  return [i[0], i[1], i[2], ti[0], i[3], i[4], i[5], ti[1], i[6], i[7], i[8], ti[2], 0, 0, 0, 1];
}

/**
 * Asserts that `vol` holds exactly the reference's voxels on the same world grid. The two may store axes in
 * different orders or directions: the reference-to-our index map must be an integer permutation with flips,
 * the voxel centres it pairs must agree within `mmTolerance` (checked at the eight corners: the map is affine),
 * and every paired voxel must have the same value.
 */
export function assertSameAsReference(vol: Volume, refPath: string, mmTolerance = 1e-3): void {
  const ref = readReferenceNifti(refPath);
  const [nx, ny, nz] = ref.dim;
  assert.equal(vol.shape[0] * vol.shape[1] * vol.shape[2], nx * ny * nz, 'voxel count');
  const back = invert(vol.affine);
  const map = (p: number[]) => apply(back, apply(ref.affine, p)).map(Math.round);
  const origin = map([0, 0, 0]);
  const steps = [[1, 0, 0], [0, 1, 0], [0, 0, 1]].map((e) => map(e).map((v, a) => v - origin[a]));
  for (const step of steps) assert.equal(step.reduce((n, v) => n + Math.abs(v), 0), 1, `reference axes map to ours by permutation and flips (step ${step})`);
  let worstMm = 0;
  for (const corner of [0, 1, 2, 3, 4, 5, 6, 7].map((c) => [c & 1 ? nx - 1 : 0, c & 2 ? ny - 1 : 0, c & 4 ? nz - 1 : 0])) {
    const world = apply(ref.affine, corner);
    const ours = apply(vol.affine, map(corner));
    worstMm = Math.max(worstMm, Math.hypot(ours[0] - world[0], ours[1] - world[1], ours[2] - world[2]));
  }
  assert.ok(worstMm <= mmTolerance, `voxel centres differ by up to ${worstMm} mm from the reference`);
  const [sx, sy] = [vol.shape[0], vol.shape[0] * vol.shape[1]];
  const offset = (v: number[]) => v[0] + sx * v[1] + sy * v[2];
  const di = offset(steps[0]);
  const dj = offset(steps[1]);
  const dk = offset(steps[2]);
  let mismatches = 0;
  let firstMismatch = '';
  let r = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      let o = offset(origin) + j * dj + k * dk;
      for (let i = 0; i < nx; i++, r++, o += di) {
        if (vol.data[o] !== ref.values[r]) {
          if (mismatches === 0) firstMismatch = `reference voxel ${i},${j},${k}: ${ref.values[r]}, ours ${vol.data[o]}`;
          mismatches++;
        }
      }
    }
  assert.equal(mismatches, 0, `${mismatches} voxels differ; first: ${firstMismatch}`);
}

/**
 * For resampled outputs that match a reference only within interpolation error: pairs each reference voxel
 * with our nearest voxel centre (through the affine index map, walked incrementally) and reports the worst
 * distance between paired centres (mm) and the value differences.
 */
export function compareOnGrid(vol: Volume, ref: RefImage): { worstMm: number; meanAbs: number; fractionOver2: number } {
  const [nx, ny, nz] = ref.dim;
  const back = invert(vol.affine);
  // Index map reference (i, j, k) -> our continuous (u, v, w): origin plus one column per reference axis.
  const origin = apply(back, apply(ref.affine, [0, 0, 0]));
  const axis = [0, 1, 2].map((a) => apply(back, apply(ref.affine, [a === 0 ? 1 : 0, a === 1 ? 1 : 0, a === 2 ? 1 : 0])).map((v, c) => v - origin[c]));
  const [sx, sy] = [vol.shape[0], vol.shape[0] * vol.shape[1]];
  const worst = [0, 0, 0];
  let sum = 0;
  let over = 0;
  let r = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      const base = [0, 1, 2].map((c) => origin[c] + j * axis[1][c] + k * axis[2][c]);
      for (let i = 0; i < nx; i++, r++) {
        const u = base[0] + i * axis[0][0];
        const v = base[1] + i * axis[0][1];
        const w = base[2] + i * axis[0][2];
        const [iu, iv, iw] = [Math.round(u), Math.round(v), Math.round(w)];
        worst[0] = Math.max(worst[0], Math.abs(u - iu));
        worst[1] = Math.max(worst[1], Math.abs(v - iv));
        worst[2] = Math.max(worst[2], Math.abs(w - iw));
        const inside = iu >= 0 && iv >= 0 && iw >= 0 && iu < vol.shape[0] && iv < vol.shape[1] && iw < vol.shape[2];
        const d = inside ? Math.abs(vol.data[iu + sx * iv + sy * iw] - ref.values[r]) : Infinity;
        if (inside) sum += d;
        if (d > 2) over++;
      }
    }
  const worstMm = Math.hypot(worst[0] * vol.spacing[0], worst[1] * vol.spacing[1], worst[2] * vol.spacing[2]);
  return { worstMm, meanAbs: sum / r, fractionOver2: over / r };
}
