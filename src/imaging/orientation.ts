import { linearPart, multiplyAffines, nearestOrthogonal } from './affine.js';
import { HccError } from '../util/errors.js';
import { allocVoxels, makeVolume, voxelTypeOf, type Affine, type Vec3, type Volume } from './volume.js';

/**
 * Orientation codes as nibabel writes them: one letter per voxel axis naming the world direction that axis
 * increases towards. 'RAS' means i runs to the patient's Right, j Anterior, k Superior; a DICOM axial series
 * stored as the scanner wrote it usually reads 'LPS' or 'LPI'.
 */
export type AxisCode = 'R' | 'L' | 'A' | 'P' | 'S' | 'I';

/** For each voxel axis: the world axis (0 x, 1 y, 2 z) it follows most closely, and the sign. */
export type Orientation = Array<{ worldAxis: 0 | 1 | 2; sign: 1 | -1 }>;

const POSITIVE: AxisCode[] = ['R', 'A', 'S'];
const NEGATIVE: AxisCode[] = ['L', 'P', 'I'];

/**
 * nibabel's `io_orientation`: take the orthogonal part of the direction matrix (so shear and oblique tilts are
 * judged as a whole), then give each voxel axis in turn the world axis it moves along most, never reusing one.
 */
export function ioOrientation(affine: Affine): Orientation {
  const m = linearPart(affine);
  for (let c = 0; c < 3; c++) {
    const norm = Math.hypot(m[c]!, m[3 + c]!, m[6 + c]!);
    if (norm === 0) throw new HccError(`orientation: voxel axis ${c} has a zero direction in the affine`);
    for (let r = 0; r < 3; r++) m[r * 3 + c]! /= norm;
  }
  let r: number[];
  try {
    r = nearestOrthogonal(m);
  } catch {
    throw new HccError('orientation: the affine\'s direction matrix is singular (two voxel axes are parallel)');
  }
  const out: Orientation = [];
  for (let c = 0; c < 3; c++) {
    let best = 0;
    for (let row = 1; row < 3; row++) if (Math.abs(r[row * 3 + c]!) > Math.abs(r[best * 3 + c]!)) best = row;
    out.push({ worldAxis: best as 0 | 1 | 2, sign: r[best * 3 + c]! < 0 ? -1 : 1 });
    for (let cc = 0; cc < 3; cc++) r[best * 3 + cc] = 0;
  }
  return out;
}

/** nibabel's `aff2axcodes`, e.g. 'RAS', 'LPS', 'LAS'. */
export function axisCodes(affine: Affine): string {
  return ioOrientation(affine)
    .map(({ worldAxis, sign }) => (sign > 0 ? POSITIVE : NEGATIVE)[worldAxis])
    .join('');
}

function parseCodes(codes: string): Orientation {
  const letters = codes.toUpperCase().split('');
  const out: Orientation = letters.map((ch) => {
    const p = POSITIVE.indexOf(ch as AxisCode);
    const n = NEGATIVE.indexOf(ch as AxisCode);
    if (p < 0 && n < 0) throw new HccError(`orientation code '${codes}': '${ch}' is not one of R L A P S I`);
    return { worldAxis: (p >= 0 ? p : n) as 0 | 1 | 2, sign: p >= 0 ? 1 : -1 };
  });
  if (out.length !== 3 || new Set(out.map((o) => o.worldAxis)).size !== 3) {
    throw new HccError(`orientation code '${codes}': expected three letters covering x (R/L), y (A/P) and z (S/I)`);
  }
  return out;
}

/**
 * The volume with its voxel axes permuted and flipped so they follow `codes` (default 'RAS', nibabel's
 * `as_closest_canonical`). Pure index shuffling: voxel values and world positions are unchanged, only the
 * storage order and the affine change. Readers never do this implicitly; call it when a consumer needs it, and
 * call it again with the original codes (`axisCodes(original.affine)`) to go back.
 */
export function reorient<V extends Volume>(volume: V, codes = 'RAS'): V {
  const from = ioOrientation(volume.affine);
  const to = parseCodes(codes);
  const [nx, ny] = volume.shape;
  const inStride = [1, nx, nx * ny];
  // For output axis t: the input axis it reads and whether it runs backwards.
  const source: number[] = [];
  const flip: boolean[] = [];
  for (const target of to) {
    const a = from.findIndex((o) => o.worldAxis === target.worldAxis);
    source.push(a);
    flip.push(from[a]!.sign !== target.sign);
  }
  if (source.every((a, t) => a === t) && !flip.some(Boolean)) {
    return makeVolume(volume.shape, volume.affine, volume.data.slice(), structuredClone(volume.meta)) as V;
  }
  const outShape = source.map((a) => volume.shape[a]!) as Vec3;
  // Voxel map out -> in as a 4x4, so the new affine is old · map.
  const map = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  let base = 0;
  const step: number[] = [];
  for (let t = 0; t < 3; t++) {
    const a = source[t]!;
    const n = volume.shape[a]!;
    map[a * 4 + t] = flip[t] ? -1 : 1;
    if (flip[t]) {
      map[a * 4 + 3] = n - 1;
      base += (n - 1) * inStride[a]!;
    }
    step.push(flip[t] ? -inStride[a]! : inStride[a]!);
  }
  const src = volume.data;
  const out = allocVoxels(voxelTypeOf(src), src.length);
  const [ox, oy, oz] = outShape;
  const [s0, s1, s2] = step as Vec3;
  let o = 0;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      let p = base + j * s1 + k * s2;
      for (let i = 0; i < ox; i++, p += s0) out[o++] = src[p]!;
    }
  }
  return makeVolume(outShape, multiplyAffines(volume.affine, map), out, structuredClone(volume.meta)) as V;
}

export function reorientToCanonical<V extends Volume>(volume: V): V {
  return reorient(volume, 'RAS');
}
