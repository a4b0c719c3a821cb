import { ellipsoidSdf } from './field.js';

/** 3-D points and directions in the patient frame: x to the patient's right, y anterior, z superior (mm). */
export type P3 = [number, number, number];

export function add(a: readonly number[], b: readonly number[], s = 1): P3 {
  return [a[0]! + s * b[0]!, a[1]! + s * b[1]!, a[2]! + s * b[2]!];
}

export function norm(a: readonly number[]): number {
  return Math.hypot(a[0]!, a[1]!, a[2]!);
}

export function unit(a: readonly number[]): P3 {
  const n = norm(a) || 1;
  return [a[0]! / n, a[1]! / n, a[2]! / n];
}

/** A rotated ellipsoid: the basic organ primitive (kidney, spleen, stomach, heart, liver lobes). */
export class Ellipsoid {
  /** Rows of the world-to-local rotation. */
  private readonly rot: number[];

  constructor(readonly centre: P3, readonly radii: P3, yawDeg = 0, pitchDeg = 0, rollDeg = 0) {
    // Local = Rx(roll)·Ry(pitch)·Rz(yaw) applied to (p − c), transposed to map world to local.
    const [cz, sz] = [Math.cos((yawDeg * Math.PI) / 180), Math.sin((yawDeg * Math.PI) / 180)];
    const [cy, sy] = [Math.cos((pitchDeg * Math.PI) / 180), Math.sin((pitchDeg * Math.PI) / 180)];
    const [cx, sx] = [Math.cos((rollDeg * Math.PI) / 180), Math.sin((rollDeg * Math.PI) / 180)];
    const rz = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
    const ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
    const rx = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
    const m = mul3(rx, mul3(ry, rz));
    this.rot = [m[0]!, m[3]!, m[6]!, m[1]!, m[4]!, m[7]!, m[2]!, m[5]!, m[8]!];
  }

  /** One coordinate (0, 1 or 2) of the point in the ellipsoid's own frame (centre at 0, axes along its radii). */
  coord(axis: 0 | 1 | 2, x: number, y: number, z: number): number {
    const r = this.rot, o = 3 * axis;
    return r[o]! * (x - this.centre[0]) + r[o + 1]! * (y - this.centre[1]) + r[o + 2]! * (z - this.centre[2]);
  }

  /** Approximate signed distance (mm) with the radii scaled by (sx, sy, sz) and inflated by `offset` mm. */
  sdf(x: number, y: number, z: number, offset = 0, sx = 1, sy = 1, sz = 1): number {
    const dx = x - this.centre[0], dy = y - this.centre[1], dz = z - this.centre[2];
    const r = this.rot;
    return ellipsoidSdf(
      r[0]! * dx + r[1]! * dy + r[2]! * dz, r[3]! * dx + r[4]! * dy + r[5]! * dz, r[6]! * dx + r[7]! * dy + r[8]! * dz,
      this.radii[0] * sx + offset, this.radii[1] * sy + offset, this.radii[2] * sz + offset,
    );
  }

  /**
   * An x interval (mm) that holds every point of the line (y, z) inside the ellipsoid (where sdf < 0): inside
   * means Σ (local_i / radius_i)² < 1, a quadratic in x; the roots are widened by 1 µm against rounding.
   */
  rowSpan(y: number, z: number): [number, number] {
    const r = this.rot;
    const dy = y - this.centre[1], dz = z - this.centre[2];
    let A = 0, B = 0, C = 0;
    for (let a = 0; a < 3; a++) {
      const inv = 1 / (this.radii[a] * this.radii[a]);
      const alpha = r[3 * a + 1]! * dy + r[3 * a + 2]! * dz, beta = r[3 * a]!;
      A += beta * beta * inv;
      B += alpha * beta * inv;
      C += alpha * alpha * inv;
    }
    // A line that just misses keeps a 2 µm interval: rounding must not drop a grazing chord.
    const root = Math.sqrt(Math.max(0, B * B - A * (C - 1)));
    return [this.centre[0] + (-B - root) / A - 1e-3, this.centre[0] + (-B + root) / A + 1e-3];
  }

  /** The world axis-aligned bounding box of the ellipsoid inflated by `margin` mm. */
  box(margin = 0): { lo: P3; hi: P3 } {
    // rot's rows are the local axes in world coordinates; the half-extent along world axis i is
    // √Σ_j (axis_j[i]·r_j)².
    const r = this.rot;
    const half = [0, 1, 2].map((i) => Math.sqrt([0, 1, 2].reduce((acc, j) => acc + (r[3 * j + i]! * (this.radii[j]! + margin)) ** 2, 0)));
    return { lo: add(this.centre, half, -1), hi: add(this.centre, half) };
  }
}

function mul3(a: number[], b: number[]): number[] {
  const out = new Array<number>(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[3 * i + j] = a[3 * i]! * b[j]! + a[3 * i + 1]! * b[3 + j]! + a[3 * i + 2]! * b[6 + j]!;
  return out;
}

/** A smooth Catmull-Rom curve through control points, sampled with `perSpan` segments per span. */
export function spline(control: readonly P3[], perSpan: number): P3[] {
  const out: P3[] = [];
  for (let s = 0; s < control.length - 1; s++) {
    const p0 = control[Math.max(0, s - 1)]!, p1 = control[s]!, p2 = control[s + 1]!, p3 = control[Math.min(control.length - 1, s + 2)]!;
    for (let t = 0; t < perSpan; t++) {
      const u = t / perSpan, u2 = u * u, u3 = u2 * u;
      out.push([0, 1, 2].map((d) =>
        0.5 * (2 * p1[d]! + (-p0[d]! + p2[d]!) * u + (2 * p0[d]! - 5 * p1[d]! + 4 * p2[d]! - p3[d]!) * u2 + (-p0[d]! + 3 * p1[d]! - 3 * p2[d]! + p3[d]!) * u3),
      ) as P3);
    }
  }
  out.push([...control[control.length - 1]!] as P3);
  return out;
}
