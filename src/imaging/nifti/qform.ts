import { det3, linearPart, nearestOrthogonal } from '../affine.js';
import type { Affine, Vec3 } from '../volume.js';

/**
 * NIfTI's qform: a rotation stored as the quaternion (b, c, d) with a = sqrt(1 - b² - c² - d²) ≥ 0, voxel sizes
 * in pixdim[1..3], a handedness flag qfac in pixdim[0], and an offset. Both directions follow nibabel
 * (`Nifti1Header.get_qform` / `set_qform`, `quaternions.fillpositive` / `quat2mat`), so a qform we write is read
 * by nibabel as the matrix we meant, and a qform nibabel wrote is read by us as nibabel reads it.
 */
export interface Qform {
  b: number;
  c: number;
  d: number;
  qfac: 1 | -1;
  pixdim: Vec3;
  offset: Vec3;
}

const FLOAT32_EPS = 2 ** -23;
const FLOAT64_EPS = 2 ** -52;

/**
 * Rotation matrix (row-major 3x3) from (b, c, d), computed in double precision as nibabel does (it even uses
 * long double). `float32Header`: the fields came from a NIfTI-1 header, so 1 - |bcd|² may be slightly negative
 * from float32 rounding; down to -3 float32 epsilons that means a = 0, as in nibabel.
 */
export function quaternionToMatrix(b: number, c: number, d: number, float32Header: boolean): number[] {
  const w2 = 1 - (b * b + c * c + d * d);
  let a: number;
  if (w2 < 0) {
    const threshold = -3 * (float32Header ? FLOAT32_EPS : FLOAT64_EPS);
    if (w2 < threshold) throw new RangeError(`quaternion (b, c, d) = (${b}, ${c}, ${d}) has norm above 1`);
    a = 0;
  } else {
    a = Math.sqrt(w2);
  }
  const n = a * a + b * b + c * c + d * d;
  if (n < FLOAT64_EPS) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 2 / n;
  const X = b * s, Y = c * s, Z = d * s;
  const wX = a * X, wY = a * Y, wZ = a * Z;
  const xX = b * X, xY = b * Y, xZ = b * Z;
  const yY = c * Y, yZ = c * Z, zZ = d * Z;
  return [
    1 - (yY + zZ), xY - wZ, xZ + wY,
    xY + wZ, 1 - (xX + zZ), yZ - wX,
    xZ - wY, yZ + wX, 1 - (xX + yY),
  ];
}

/** The qform as a voxel-to-world affine: R · diag(pixdim with qfac on the last) plus the offset. */
export function qformToAffine(q: Qform, float32Header: boolean): Affine {
  const r = quaternionToMatrix(q.b, q.c, q.d, float32Header);
  const scale = [q.pixdim[0], q.pixdim[1], q.pixdim[2] * q.qfac];
  const out: Affine = [0, 0, 0, q.offset[0], 0, 0, 0, q.offset[1], 0, 0, 0, q.offset[2], 0, 0, 0, 1];
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) out[row * 4 + col] = r[row * 3 + col]! * scale[col]!;
  return out;
}

/** Quaternion (a, b, c, d) with a ≥ 0 of a proper rotation matrix (Shepperd's method). */
export function matrixToQuaternion(m: number[]): [number, number, number, number] {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m as [number, number, number, number, number, number, number, number, number];
  const trace = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    q = [0.25 / s, (m21 - m12) * s, (m02 - m20) * s, (m10 - m01) * s];
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22);
    q = [(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22);
    q = [(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11);
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s];
  }
  return q[0] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : q;
}

/**
 * nibabel's `set_qform`: voxel sizes are the column norms, a left-handed matrix gets qfac -1 with its last
 * column negated, and shear is dropped by taking the nearest orthogonal matrix. So for a sheared affine the
 * qform is only the closest rigid approximation; the sform keeps the exact matrix.
 */
export function affineToQform(affine: Affine): Qform {
  const m = linearPart(affine);
  const pixdim: Vec3 = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const norm = Math.hypot(m[c]!, m[3 + c]!, m[6 + c]!);
    pixdim[c] = norm;
    for (let r = 0; r < 3; r++) m[r * 3 + c] = norm === 0 ? (r === c ? 1 : 0) : m[r * 3 + c]! / norm;
  }
  let qfac: 1 | -1 = 1;
  if (det3(m) <= 0) {
    qfac = -1;
    for (let r = 0; r < 3; r++) m[r * 3 + 2] = -m[r * 3 + 2]!;
  }
  const [, b, c, d] = matrixToQuaternion(nearestOrthogonal(m));
  return { b, c, d, qfac, pixdim, offset: [affine[3]!, affine[7]!, affine[11]!] };
}
