import type { Affine, Vec3 } from './volume.js';

/**
 * 4x4 voxel-to-world maths. Affines are row-major arrays of 16 numbers with a last row of [0, 0, 0, 1], as in
 * `Volume.affine`; a point is (i, j, k) in voxel indices or (x, y, z) in RAS+ millimetres.
 */

export function identityAffine(): Affine {
  return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
}

export function multiplyAffines(a: Affine, b: Affine): Affine {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** The 3x3 linear part as a row-major array of 9. */
export function linearPart(a: Affine): number[] {
  return [a[0]!, a[1]!, a[2]!, a[4]!, a[5]!, a[6]!, a[8]!, a[9]!, a[10]!];
}

export function det3(m: number[]): number {
  return (
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!)
  );
}

/** Inverse of a row-major 3x3 matrix; throws on a singular one. */
export function invert3(m: number[]): number[] {
  const d = det3(m);
  if (!Number.isFinite(d) || d === 0) throw new RangeError('invert3: the matrix is singular');
  const [a, b, c, e, f, g, h, i, j] = m as [number, number, number, number, number, number, number, number, number];
  return [
    (f * j - g * i) / d, (c * i - b * j) / d, (b * g - c * f) / d,
    (g * h - e * j) / d, (a * j - c * h) / d, (c * e - a * g) / d,
    (e * i - f * h) / d, (b * h - a * i) / d, (a * f - b * e) / d,
  ];
}

export function invertAffine(a: Affine): Affine {
  const inv = invert3(linearPart(a));
  const t = [a[3]!, a[7]!, a[11]!];
  const out = identityAffine();
  for (let r = 0; r < 3; r++) {
    out[r * 4] = inv[r * 3]!;
    out[r * 4 + 1] = inv[r * 3 + 1]!;
    out[r * 4 + 2] = inv[r * 3 + 2]!;
    out[r * 4 + 3] = -(inv[r * 3]! * t[0]! + inv[r * 3 + 1]! * t[1]! + inv[r * 3 + 2]! * t[2]!);
  }
  return out;
}

export function applyAffine(a: Affine, p: Vec3): Vec3 {
  return [
    a[0]! * p[0] + a[1]! * p[1] + a[2]! * p[2] + a[3]!,
    a[4]! * p[0] + a[5]! * p[1] + a[6]! * p[2] + a[7]!,
    a[8]! * p[0] + a[9]! * p[1] + a[10]! * p[2] + a[11]!,
  ];
}

export function voxelToWorld(affine: Affine, ijk: Vec3): Vec3 {
  return applyAffine(affine, ijk);
}

export function worldToVoxel(affine: Affine, xyz: Vec3): Vec3 {
  return applyAffine(invertAffine(affine), xyz);
}

/** Voxel size along i, j, k: the column norms of the 3x3 part (nibabel's `voxel_sizes`). */
export function spacingFromAffine(a: Affine): Vec3 {
  const col = (c: number) => Math.hypot(a[c]!, a[4 + c]!, a[8 + c]!);
  return [col(0), col(1), col(2)];
}

/** An axis-aligned affine: diag(spacing) with voxel (0,0,0) at `origin`. */
export function affineFromSpacing(spacing: Vec3, origin: Vec3 = [0, 0, 0]): Affine {
  return [spacing[0], 0, 0, origin[0], 0, spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2], 0, 0, 0, 1];
}

/** Voxel volume in mm³ (|det| of the 3x3 part; correct for oblique and sheared grids too). */
export function voxelVolumeMm3(a: Affine): number {
  return Math.abs(det3(linearPart(a)));
}

/**
 * DICOM patient space (LPS+) and NIfTI world space (RAS+) differ by negating x and y. The same matrix converts
 * in both directions.
 */
const FLIP_XY: Affine = [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

export function lpsToRasAffine(lpsAffine: Affine): Affine {
  return multiplyAffines(FLIP_XY, lpsAffine);
}

export const rasToLpsAffine = lpsToRasAffine;

export function lpsToRasPoint(p: Vec3): Vec3 {
  return [-p[0], -p[1], p[2]];
}

export const rasToLpsPoint = lpsToRasPoint;

/**
 * The nearest orthogonal matrix to a 3x3 one (the orthogonal factor of its polar decomposition, which is what
 * nibabel gets from an SVD as P·Qᵀ). Newton's iteration X ← (X + X⁻ᵀ)/2 converges quadratically for any
 * non-singular start.
 */
export function nearestOrthogonal(m: number[]): number[] {
  let x = m.slice();
  for (let it = 0; it < 100; it++) {
    const inv = invert3(x);
    const next = x.map((v, idx) => 0.5 * (v + inv[(idx % 3) * 3 + Math.floor(idx / 3)]!));
    let delta = 0;
    for (let i = 0; i < 9; i++) delta = Math.max(delta, Math.abs(next[i]! - x[i]!));
    x = next;
    if (delta < 1e-15) break;
  }
  return x;
}

export function affinesClose(a: Affine, b: Affine, tol = 1e-6): boolean {
  for (let i = 0; i < 16; i++) if (!(Math.abs(a[i]! - b[i]!) <= tol)) return false;
  return true;
}
