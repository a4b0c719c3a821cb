import type { Rng } from '../../util/rng.js';
import { type Anatomy, cavitySdf } from './anatomy.js';
import { len2, PlaneWaves, smoothMin } from './field.js';
import { Ellipsoid, type P3 } from './shapes.js';

/**
 * The liver: a smooth union of lobes (right lobe, tapering left lateral lobe, caudate lobe, inferior right
 * tip), each varied in size and position, deformed by a random low-frequency displacement and carved where it
 * meets the spine, aorta, right kidney and stomach, then clipped to the abdominal cavity. Cirrhosis (0-1)
 * shrinks the right lobe, enlarges the caudate and left lobes and makes the surface nodular, as on CT.
 * The implicit function is negative inside, in roughly millimetres; it is sampled once on a coarse lattice and
 * interpolated per voxel, which keeps the surface smooth and the cost independent of the image grid.
 */
export interface LiverShape {
  /** Signed distance-like function of the bare liver (without tumours), mm. */
  f: (x: number, y: number, z: number) => number;
  /** The same before carving (lobes and displacement only), for callers that add tumours first. */
  lobes: (x: number, y: number, z: number) => number;
  lo: P3;
  hi: P3;
  rightLobe: Ellipsoid;
  leftLobe: Ellipsoid;
}

export function drawLiver(rng: Rng, an: Anatomy, cirrhosis: number): LiverShape {
  const xWall = an.a - an.fatLat - an.muscle;
  const yAnt = an.bAnt - an.fatAnt - an.muscle;
  const yPost = -(an.bPost - an.fatPost - an.muscle - 10);
  const shrink = 1 - 0.12 * cirrhosis;
  const grow = 1 + 0.2 * cirrhosis;
  const rr: P3 = [rng.uniformIn(62, 82) * shrink, Math.min(rng.uniformIn(75, 95), (yAnt - yPost) / 2) * shrink, rng.uniformIn(72, 88) * shrink];
  const right = new Ellipsoid([xWall - rr[0] + rng.uniformIn(4, 14), (yAnt + yPost) / 2 + rng.uniformIn(-8, 8), rng.uniformIn(-8, 8)], rr, rng.uniformIn(-12, 12), rng.uniformIn(-8, 8));
  const rl: P3 = [rng.uniformIn(55, 80) * grow, rng.uniformIn(26, 38) * grow, rng.uniformIn(34, 48) * grow];
  const left = new Ellipsoid([-25 - rng.uniformIn(0, 25), yAnt - rl[1] + rng.uniformIn(0, 8), right.centre[2] + rng.uniformIn(12, 35)], rl, rng.uniformIn(-10, 15), 0, rng.uniformIn(-10, 10));
  const caudate = new Ellipsoid([an.ivc.x - 14, an.ivc.y + 16, right.centre[2] + 10], [20 * grow, 17 * grow, 34 * grow]);
  const tipScale = rng.uniformIn(0.5, 1.1);
  const tip = new Ellipsoid([right.centre[0] + 10, right.centre[1] + 10, right.centre[2] - rr[2] * 0.65], [32 * tipScale, 48 * tipScale, 42 * tipScale]);
  const medial = new Ellipsoid([(right.centre[0] + left.centre[0]) / 2 + 10, (right.centre[1] + left.centre[1]) / 2 + 8, right.centre[2] + 15], [45, 45, 50]);
  const warp = new PlaneWaves(rng, 5, 1 / 170, 1 / 70);
  const warpAmp = rng.uniformIn(5, 10);
  const nodules = new PlaneWaves(rng, 7, 1 / 22, 1 / 10);
  const nodAmp = 1.6 * cirrhosis;
  const kidney = an.kidneys[0]!;
  const leftMinX = left.centre[0] - rl[0];

  const lobes = (x: number, y: number, z: number): number => {
    // The left lateral segment tapers towards its tip: thinner and shorter the further left.
    const taper = 0.35 + 0.65 * Math.min(1, Math.max(0, (x - leftMinX) / (1.4 * rl[0])));
    const dLeft = left.sdf(x, y, z, 0, 1, taper, taper);
    let d = smoothMin(right.sdf(x, y, z), dLeft, 30);
    d = smoothMin(d, medial.sdf(x, y, z), 25);
    d = smoothMin(d, caudate.sdf(x, y, z), 15);
    d = smoothMin(d, tip.sdf(x, y, z), 25);
    return d + warpAmp * warp.at(x, y, z) + nodAmp * nodules.at(x, y, z);
  };
  const f = (x: number, y: number, z: number) => carveHard(an, carveSoft(an, kidney, lobes(x, y, z), x, y, z), x, y, z);
  const lo: P3 = [Math.min(left.centre[0] - rl[0], right.centre[0] - rr[0]) - 25, yPost - 5, tip.centre[2] - tip.radii[2] - 25];
  const hi: P3 = [xWall + 5, yAnt + 5, Math.max(right.centre[2] + rr[2], left.centre[2] + rl[2]) + 20];
  return { f, lobes, lo, hi, rightLobe: right, leftLobe: left };
}

/** Keeps the liver off the right kidney and stomach; a tumour bulge may push into them (see carveHard). */
export function carveSoft(an: Anatomy, kidney: Ellipsoid, d: number, x: number, y: number, z: number): number {
  d = -smoothMin(-d, kidney.sdf(x, y, z, 4), 10);
  return -smoothMin(-d, an.stomach.sdf(x, y, z, 4), 10);
}

/** Keeps the liver, tumours included, off the spine and aorta and inside the abdominal cavity. */
export function carveHard(an: Anatomy, d: number, x: number, y: number, z: number): number {
  d = -smoothMin(-d, len2(x, y - an.yv) - 34, 8);
  d = -smoothMin(-d, len2(x - an.aorta.x, y - an.aorta.y) - an.aorta.r - 5, 6);
  return Math.max(d, cavitySdf(an, x, y) + 2);
}

/**
 * The implicit function sampled on a lattice over a box (cell `cellMm`) and read back by trilinear
 * interpolation: one evaluation of the expensive function per lattice node instead of per voxel. Nodes are
 * first evaluated every fourth cell; inside a block whose eight corners all lie more than half a block diagonal
 * from the surface (same sign), the fine nodes are interpolated rather than evaluated: every fine node is then
 * within half a diagonal of a corner, so for a distance-like function its sign is kept. Near the surface every
 * node is exact.
 */
export class SampledField {
  private readonly values: Float32Array;
  private readonly dims: [number, number, number];
  /** Per node row (j, k): the first and the last i whose node is inside (< 0); first > last when none is. */
  private readonly insideFirst: Int32Array;
  private readonly insideLast: Int32Array;

  constructor(f: (x: number, y: number, z: number) => number, readonly lo: P3, readonly hi: P3, private readonly cell: number) {
    const B = 4;
    // Round the node counts up to whole blocks, so every fine node lies in a block with evaluated corners.
    this.dims = [0, 1, 2].map((a) => B * Math.max(1, Math.ceil((hi[a]! - lo[a]!) / cell / B)) + 1) as [number, number, number];
    const [nx, ny, nz] = this.dims;
    this.values = new Float32Array(nx * ny * nz);
    const at = (i: number, j: number, k: number) => i + nx * (j + ny * k);
    // Nodes on a block's faces are shared with its neighbours: `exact` marks nodes already evaluated, so that a
    // node is evaluated once, and a later interpolating block still overwrites it (the last block wins, as if
    // every block were filled independently).
    const exact = new Uint8Array(nx * ny * nz);
    const evalNode = (i: number, j: number, k: number) => {
      const v = at(i, j, k);
      if (exact[v] === 1) return;
      this.values[v] = f(lo[0] + i * cell, lo[1] + j * cell, lo[2] + k * cell);
      exact[v] = 1;
    };
    for (let k = 0; k < nz; k += B) for (let j = 0; j < ny; j += B) for (let i = 0; i < nx; i += B) evalNode(i, j, k);
    const far = 0.5 * B * cell * Math.sqrt(3);
    const c = new Float64Array(8);
    for (let K = 0; K < nz - 1; K += B) for (let J = 0; J < ny - 1; J += B) for (let I = 0; I < nx - 1; I += B) {
      let above = 0, below = 0;
      for (let n = 0; n < 8; n++) {
        c[n] = this.values[at(I + B * (n & 1), J + B * ((n >> 1) & 1), K + B * (n >> 2))]!;
        if (c[n]! > far) above++;
        else if (c[n]! < -far) below++;
      }
      const near = above < 8 && below < 8;
      for (let k = 0; k <= B; k++) for (let j = 0; j <= B; j++) for (let i = 0; i <= B; i++) {
        if (i % B === 0 && j % B === 0 && k % B === 0) continue;
        if (near) {
          evalNode(I + i, J + j, K + k);
          continue;
        }
        const u = i / B, v = j / B, w = k / B;
        const c0 = (c[0]! * (1 - u) + c[1]! * u) * (1 - v) + (c[2]! * (1 - u) + c[3]! * u) * v;
        const c1 = (c[4]! * (1 - u) + c[5]! * u) * (1 - v) + (c[6]! * (1 - u) + c[7]! * u) * v;
        const node = at(I + i, J + j, K + k);
        this.values[node] = c0 * (1 - w) + c1 * w;
        exact[node] = 0;
      }
    }
    this.insideFirst = new Int32Array(ny * nz).fill(nx);
    this.insideLast = new Int32Array(ny * nz).fill(-1);
    for (let row = 0; row < ny * nz; row++) {
      for (let i = 0; i < nx; i++) {
        if (this.values[i + nx * row]! < 0) {
          this.insideFirst[row] = Math.min(this.insideFirst[row]!, i);
          this.insideLast[row] = i;
        }
      }
    }
  }

  /**
   * An x interval (mm) outside which at(x, y, z) is not negative on the line (y, z): trilinear interpolation of
   * nodes ≥ 0 is ≥ 0 (in floating point too), so only the cells next to an inside node can be inside. Empty
   * (first > second) when the line has no inside cell.
   */
  insideSpan(y: number, z: number): [number, number] {
    const [nx, ny, nz] = this.dims;
    const fy = (y - this.lo[1]) / this.cell, fz = (z - this.lo[2]) / this.cell;
    if (fy < 0 || fz < 0 || fy > ny - 1 || fz > nz - 1) return [1, 0];
    const j = Math.min(ny - 2, Math.floor(fy)), k = Math.min(nz - 2, Math.floor(fz));
    let first = nx, last = -1;
    for (const row of [j + ny * k, j + 1 + ny * k, j + ny * (k + 1), j + 1 + ny * (k + 1)]) {
      first = Math.min(first, this.insideFirst[row]!);
      last = Math.max(last, this.insideLast[row]!);
    }
    if (first > last) return [1, 0];
    // A cell next to an inside node: [first − 1, last + 1] in node units, widened against rounding.
    return [this.lo[0] + (first - 1.001) * this.cell, this.lo[0] + (last + 1.001) * this.cell];
  }

  /** Interpolated value; outside the box it is positive (outside the shape). */
  at(x: number, y: number, z: number): number {
    const fx = (x - this.lo[0]) / this.cell, fy = (y - this.lo[1]) / this.cell, fz = (z - this.lo[2]) / this.cell;
    const [nx, ny, nz] = this.dims;
    if (fx < 0 || fy < 0 || fz < 0 || fx > nx - 1 || fy > ny - 1 || fz > nz - 1) return 100;
    const i = Math.min(nx - 2, Math.floor(fx)), j = Math.min(ny - 2, Math.floor(fy)), k = Math.min(nz - 2, Math.floor(fz));
    const u = fx - i, v = fy - j, w = fz - k;
    const b = i + nx * (j + ny * k), sy = nx, sz = nx * ny;
    const a = this.values;
    const c00 = a[b]! + u * (a[b + 1]! - a[b]!);
    const c10 = a[b + sy]! + u * (a[b + sy + 1]! - a[b + sy]!);
    const c01 = a[b + sz]! + u * (a[b + sz + 1]! - a[b + sz]!);
    const c11 = a[b + sz + sy]! + u * (a[b + sz + sy + 1]! - a[b + sz + sy]!);
    const c0 = c00 + v * (c10 - c00), c1 = c01 + v * (c11 - c01);
    return c0 + w * (c1 - c0);
  }

  /** Highest z (mm) at which the shape is present above (x, y), or −Infinity: a scan down the nearest column. */
  topAt(x: number, y: number): number {
    const [nx, ny, nz] = this.dims;
    const i = Math.round((x - this.lo[0]) / this.cell), j = Math.round((y - this.lo[1]) / this.cell);
    if (i < 0 || j < 0 || i >= nx || j >= ny) return -Infinity;
    for (let k = nz - 1; k >= 0; k--) {
      const a = this.values[i + nx * (j + ny * k)]!;
      if (a < 0) {
        // Interpolate the crossing between this node and the one above it.
        const b = k + 1 < nz ? this.values[i + nx * (j + ny * (k + 1))]! : a;
        return this.lo[2] + this.cell * (k + (b > a ? -a / (b - a) : 0));
      }
    }
    return -Infinity;
  }
}
