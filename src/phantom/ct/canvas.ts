import type { ScanGrid } from './site.js';
import { segmentDistance } from './field.js';

/**
 * The anatomy map being painted: one tissue class and one label per voxel, on a scan grid. Structures are
 * painted in anatomical order (later ones win), each only inside its own world-space bounding box, so the cost
 * of a structure is proportional to its size, not to the volume's.
 */
export class Canvas {
  readonly tissue: Uint8Array;
  readonly label: Uint8Array;
  /** One axial plane: 1 inside the abdominal/thoracic cavity (inside the muscle wall), set by paintBody. */
  readonly cavity: Uint8Array;
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** x (mm) of each voxel column: the same values as x(i). */
  readonly xs: Float64Array;

  /** `tissue`, when given, must be all zero (air) and of the grid's size. */
  constructor(readonly grid: ScanGrid, tissue?: Uint8Array) {
    [this.nx, this.ny, this.nz] = grid.shape;
    this.xs = Float64Array.from({ length: this.nx }, (_, i) => this.x(i));
    const n = this.nx * this.ny * this.nz;
    this.tissue = tissue ?? new Uint8Array(n);
    this.label = new Uint8Array(n);
    this.cavity = new Uint8Array(this.nx * this.ny);
  }

  /** Whether voxel index v lies inside the cavity (the body is the same on every slice). */
  inCavity(v: number): boolean {
    return this.cavity[v % (this.nx * this.ny)] === 1;
  }

  x(i: number): number {
    return this.grid.origin[0] + i * this.grid.spacing[0];
  }
  y(j: number): number {
    return this.grid.origin[1] + j * this.grid.spacing[1];
  }
  z(k: number): number {
    return this.grid.origin[2] + k * this.grid.spacing[2];
  }

  /** Voxel index ranges [lo, hi] covering the world box; empty (lo > hi) when it misses the grid. */
  range(axis: 0 | 1 | 2, loMm: number, hiMm: number): [number, number] {
    const o = this.grid.origin[axis];
    const s = this.grid.spacing[axis];
    const n = this.grid.shape[axis];
    return [Math.max(0, Math.ceil((loMm - o) / s)), Math.min(n - 1, Math.floor((hiMm - o) / s))];
  }

  /**
   * Calls `fn(v, i0, i1, y, z)` for every row of voxels whose centres lie in the world box [lo, hi]: the voxels
   * v, v + 1, … of columns i0…i1 at (y, z) mm; the caller loops along the row itself, with x = xs[i]. A loop in
   * the caller's own closure is compiled for that closure's body, where a per-voxel callback through a shared
   * loop would cost more than most bodies (and box every coordinate it passes).
   */
  forRows(lo: readonly number[], hi: readonly number[], fn: (v: number, i0: number, i1: number, y: number, z: number) => void): void {
    const [i0, i1] = this.range(0, lo[0]!, hi[0]!);
    const [j0, j1] = this.range(1, lo[1]!, hi[1]!);
    const [k0, k1] = this.range(2, lo[2]!, hi[2]!);
    if (i0 > i1) return;
    for (let k = k0; k <= k1; k++) {
      const z = this.z(k);
      for (let j = j0; j <= j1; j++) fn(i0 + this.nx * (j + this.ny * k), i0, i1, this.y(j), z);
    }
  }

  /**
   * forRows with each row narrowed to the voxels whose x lies in `span(y, z)`, an interval in mm (empty when its
   * first value exceeds its second): for shapes that can tell cheaply where a row can meet them.
   */
  forSpans(
    lo: readonly number[],
    hi: readonly number[],
    span: (y: number, z: number) => readonly [number, number],
    fn: (v: number, i0: number, i1: number, y: number, z: number) => void,
  ): void {
    this.forRows(lo, hi, (v, i0, i1, y, z) => {
      const [xa, xb] = span(y, z);
      const [a, b] = this.range(0, xa, xb);
      const from = Math.max(i0, a), to = Math.min(i1, b);
      if (from <= to) fn(v + from - i0, from, to, y, z);
    });
  }

  /**
   * Paints a tube (capsule) of radius r around segment a-b. `only`, when given, restricts painting to voxels
   * currently of that class (intrahepatic vessels stay inside the liver), and `cavity` to the body cavity.
   */
  paintTube(a: readonly number[], b: readonly number[], r: number, cls: number, only?: number, cavity = false): void {
    const lo = [0, 1, 2].map((d) => Math.min(a[d]!, b[d]!) - r);
    const hi = [0, 1, 2].map((d) => Math.max(a[d]!, b[d]!) + r);
    const [ax, ay, az] = a as [number, number, number], [bx, by, bz] = b as [number, number, number];
    this.forRows(lo, hi, (v0, i0, i1, y, z) => {
      for (let i = i0, v = v0; i <= i1; i++, v++) {
        if ((only !== undefined && this.tissue[v] !== only) || (cavity && !this.inCavity(v))) continue;
        if (segmentDistance(this.xs[i]!, y, z, ax, ay, az, bx, by, bz) < r) this.tissue[v] = cls;
      }
    });
  }
}
