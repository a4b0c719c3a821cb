import type { Rng } from '../../util/rng.js';

/**
 * Numeric building blocks of the CT phantom: separable Gaussian filtering, smooth random fields and band-limited
 * functions on the sphere. Everything works on flat Float32Arrays in the Volume layout (x fastest) so that a
 * 512×512×200 clinical grid stays within a few hundred MB and a few seconds.
 */

/**
 * Blurs `data` (shape [nx, ny, nz], x fastest) in place with a Gaussian of the given SD per axis, in voxels.
 */
export function gaussianBlur3d(data: Float32Array, shape: readonly [number, number, number], sigma: readonly [number, number, number]): void {
  const plane = shape[0] * shape[1];
  const out = new Float32Array(data.length);
  sweepBlur3d(data, shape, sigma, () => {}, (k, values) => out.set(values, k * plane));
  data.set(out);
}

/**
 * The separable Gaussian blur (SD per axis in voxels) as one sweep through the volume, slice by slice, so that
 * each slice is touched while it is in cache: `prepare(k, slice)` may first modify slice k in place (the scanner
 * adds its noise there), then the slice is blurred along x and y in place, and as soon as the slices it needs
 * are ready, the z-blurred slice k goes to `emit(k, values)` (a buffer reused for the next slice). Every pass
 * runs its inner loop along contiguous x rows (whole rows are weighted and added), and values are stored as
 * Float32 between passes. Afterwards `data` holds the in-plane blur only.
 */
export function sweepBlur3d(
  data: Float32Array,
  shape: readonly [number, number, number],
  sigma: readonly [number, number, number],
  prepare: (k: number, slice: Float32Array) => void,
  emit: (k: number, values: Float32Array) => void,
): void {
  const [nx, ny, nz] = shape;
  const plane = nx * ny;
  const kx = gaussianKernel(sigma[0]), ky = gaussianKernel(sigma[1]), kz = gaussianKernel(sigma[2]);
  const tmp = new Float32Array(plane);
  const slab = new Float32Array(plane);
  const rz = (kz.length - 1) >> 1;
  const zBase = new Int32Array(kz.length);
  const emitZ = (k: number) => {
    if (kz.length === 1) return emit(k, data.subarray(k * plane, (k + 1) * plane));
    for (let s = 0; s < kz.length; s++) zBase[s] = Math.min(nz - 1, Math.max(0, k + s - rz)) * plane;
    weightedRows(data, zBase, kz, slab, 0, plane);
    emit(k, slab);
  };
  for (let k = 0; k < nz; k++) {
    const slice = data.subarray(k * plane, (k + 1) * plane);
    prepare(k, slice);
    if (kx.length > 1) {
      for (let j = 0; j < ny; j++) convolveClamped(slice, j * nx, nx, kx, tmp, j * nx);
      if (ky.length > 1) blurRows(tmp, slice, nx, ny, ky);
      else slice.set(tmp);
    } else if (ky.length > 1) {
      tmp.set(slice);
      blurRows(tmp, slice, nx, ny, ky);
    }
    if (k >= rz) emitZ(k - rz);
  }
  for (let k = Math.max(0, nz - rz); k < nz; k++) emitZ(k);
}

/** out[row r] = Σ_s kernel[s] · src[row clamp(r + s − radius)], for `rows` rows of `width` values. */
function blurRows(src: Float32Array, out: Float32Array, width: number, rows: number, kernel: Float32Array): void {
  const taps = kernel.length;
  const radius = (taps - 1) >> 1;
  const base = new Int32Array(taps);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < taps; s++) {
      const rr = r + s - radius;
      base[s] = (rr < 0 ? 0 : rr >= rows ? rows - 1 : rr) * width;
    }
    weightedRows(src, base, kernel, out, r * width, width);
  }
}

/** out[o + i] = Σ_s kernel[s] · src[base[s] + i] for i < width: one output row from whole input rows. */
function weightedRows(src: Float32Array, base: Int32Array, kernel: Float32Array, out: Float32Array, o: number, width: number): void {
  const taps = kernel.length;
  if (taps === 3) {
    const w0 = kernel[0]!, w1 = kernel[1]!, w2 = kernel[2]!;
    const b0 = base[0]!, b1 = base[1]!, b2 = base[2]!;
    for (let i = 0; i < width; i++) out[o + i] = w0 * src[b0 + i]! + w1 * src[b1 + i]! + w2 * src[b2 + i]!;
  } else if (taps === 5) {
    const w0 = kernel[0]!, w1 = kernel[1]!, w2 = kernel[2]!, w3 = kernel[3]!, w4 = kernel[4]!;
    const b0 = base[0]!, b1 = base[1]!, b2 = base[2]!, b3 = base[3]!, b4 = base[4]!;
    for (let i = 0; i < width; i++) out[o + i] = w0 * src[b0 + i]! + w1 * src[b1 + i]! + w2 * src[b2 + i]! + w3 * src[b3 + i]! + w4 * src[b4 + i]!;
  } else {
    for (let i = 0; i < width; i++) {
      let acc = 0;
      for (let s = 0; s < taps; s++) acc += kernel[s]! * src[base[s]! + i]!;
      out[o + i] = acc;
    }
  }
}

/**
 * A normalised Gaussian kernel of SD `sigma` voxels, radius round(3σ) (at least 1); [1] when σ is too small to
 * matter. Rounding rather than ceiling drops taps below 0.1% of the peak and keeps sub-voxel blurs at 3 taps.
 */
export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0.2)) return new Float32Array([1]);
  const radius = Math.max(1, Math.round(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let t = -radius; t <= radius; t++) sum += k[t + radius] = Math.exp(-(t * t) / (2 * sigma * sigma));
  for (let t = 0; t < k.length; t++) k[t] = k[t]! / sum;
  return k;
}

/** 1-D convolution of src[start .. start + n) into out[o .. o + n), with edge values repeated (no dark rim at the border). */
function convolveClamped(src: Float32Array, start: number, n: number, kernel: Float32Array, out: Float32Array, o: number): void {
  const r = (kernel.length - 1) >> 1;
  for (let t = 0; t < Math.min(r, n); t++) convolveEdge(src, start, n, kernel, out, o, t);
  if (kernel.length === 3) {
    const w0 = kernel[0]!, w1 = kernel[1]!, w2 = kernel[2]!;
    for (let t = r, b = start; t < n - r; t++, b++) out[o + t] = w0 * src[b]! + w1 * src[b + 1]! + w2 * src[b + 2]!;
  } else if (kernel.length === 5) {
    const w0 = kernel[0]!, w1 = kernel[1]!, w2 = kernel[2]!, w3 = kernel[3]!, w4 = kernel[4]!;
    for (let t = r, b = start; t < n - r; t++, b++) {
      out[o + t] = w0 * src[b]! + w1 * src[b + 1]! + w2 * src[b + 2]! + w3 * src[b + 3]! + w4 * src[b + 4]!;
    }
  } else {
    for (let t = r; t < n - r; t++) {
      let acc = 0;
      for (let s = -r; s <= r; s++) acc += kernel[s + r]! * src[start + t + s]!;
      out[o + t] = acc;
    }
  }
  for (let t = Math.max(r, n - r); t < n; t++) convolveEdge(src, start, n, kernel, out, o, t);
}

/** One output value of convolveClamped near an end of the line, where the edge value is repeated. */
function convolveEdge(src: Float32Array, start: number, n: number, kernel: Float32Array, out: Float32Array, o: number, t: number): void {
  const r = (kernel.length - 1) >> 1;
  let acc = 0;
  for (let s = -r; s <= r; s++) acc += kernel[s + r]! * src[start + (t + s < 0 ? 0 : t + s >= n ? n - 1 : t + s)]!;
  out[o + t] = acc;
}

/** Scratch for addWhiteNoise, kept: a fresh 256 kB buffer per slice would be fresh pages to fault in each time. */
const noiseBits = new Uint32Array(65536);

/**
 * Adds `sd` × white noise to every element of `out`: the sum of two 16-bit uniforms from one 32-bit draw,
 * centred and scaled to unit variance (a triangular distribution). Scanner noise is blurred by the kernel
 * afterwards, which sums several such values per voxel and makes it Gaussian for practical purposes, at a
 * fraction of the cost of exact normals for 10⁸ voxels.
 */
export function addWhiteNoise(out: Float32Array, rng: Rng, sd: number): void {
  const scale = (sd * Math.sqrt(6)) / 65536;
  const bits = noiseBits;
  for (let start = 0; start < out.length; start += bits.length) {
    const n = Math.min(bits.length, out.length - start);
    rng.fillUint32(n === bits.length ? bits : bits.subarray(0, n));
    for (let i = 0, v = start; i < n; i++, v++) {
      const a = bits[i]!;
      out[v] = out[v]! + ((a & 0xffff) + (a >>> 16) - 65535) * scale;
    }
  }
}

/**
 * A smooth random scalar field of unit SD, as a coarse lattice of Gaussian values (spacing `cellMm`) read back
 * with trilinear interpolation at voxel centres. Used for organ texture and tumour mosaic; cheap enough to sample
 * per voxel without storing a full-resolution copy.
 */
export class LatticeField {
  private readonly values: Float32Array;
  private readonly dims: [number, number, number];

  constructor(
    private readonly originMm: readonly [number, number, number],
    extentMm: readonly [number, number, number],
    private readonly cellMm: number,
    rng: Rng,
  ) {
    this.dims = [0, 1, 2].map((a) => Math.max(2, Math.ceil(extentMm[a]! / cellMm) + 2)) as [number, number, number];
    this.values = new Float32Array(this.dims[0] * this.dims[1] * this.dims[2]);
    // Trilinear interpolation of white lattice values lowers the SD by (2/3)^(3/2) between nodes; rescale so that
    // the field's average SD is about 1.
    for (let v = 0; v < this.values.length; v++) this.values[v] = rng.normal() * 1.45;
  }

  /** The field at world point (x, y, z) mm; clamped outside the lattice. */
  at(x: number, y: number, z: number): number {
    const [dx, dy, dz] = this.dims;
    const fx = clampIndex((x - this.originMm[0]) / this.cellMm, dx);
    const fy = clampIndex((y - this.originMm[1]) / this.cellMm, dy);
    const fz = clampIndex((z - this.originMm[2]) / this.cellMm, dz);
    const i = Math.floor(fx), j = Math.floor(fy), k = Math.floor(fz);
    const u = fx - i, v = fy - j, w = fz - k;
    const base = i + dx * (j + dy * k);
    const sx = 1, sy = dx, sz = dx * dy;
    const a = this.values;
    const c00 = a[base]! * (1 - u) + a[base + sx]! * u;
    const c10 = a[base + sy]! * (1 - u) + a[base + sy + sx]! * u;
    const c01 = a[base + sz]! * (1 - u) + a[base + sz + sx]! * u;
    const c11 = a[base + sz + sy]! * (1 - u) + a[base + sz + sy + sx]! * u;
    return (c00 * (1 - v) + c10 * v) * (1 - w) + (c01 * (1 - v) + c11 * v) * w;
  }
}

function clampIndex(f: number, n: number): number {
  return f < 0 ? 0 : f > n - 1.000001 ? n - 1.000001 : f;
}

/**
 * A smooth random function on 3-D space (or on the unit sphere, when evaluated at unit vectors) with unit RMS:
 * a sum of plane waves with random directions, phases and wave numbers up to `maxFrequency` cycles per unit.
 * On the sphere, frequencies ≤ 6/(2π)·… give the low-order spherical-harmonic content §6.1 asks of tumour margins.
 */
export class PlaneWaves {
  private readonly dirs: Float64Array;
  private readonly phases: Float64Array;
  private readonly amp: number;

  constructor(rng: Rng, terms: number, minFrequency: number, maxFrequency: number) {
    this.dirs = new Float64Array(3 * terms);
    this.phases = new Float64Array(terms);
    for (let t = 0; t < terms; t++) {
      const d = randomUnitVector(rng);
      const f = 2 * Math.PI * rng.uniformIn(minFrequency, maxFrequency);
      this.dirs[3 * t] = d[0] * f;
      this.dirs[3 * t + 1] = d[1] * f;
      this.dirs[3 * t + 2] = d[2] * f;
      this.phases[t] = rng.uniformIn(0, 2 * Math.PI);
    }
    this.amp = Math.sqrt(2 / terms);
  }

  at(x: number, y: number, z: number): number {
    let s = 0;
    const d = this.dirs;
    for (let t = 0; t < this.phases.length; t++) s += Math.cos(d[3 * t]! * x + d[3 * t + 1]! * y + d[3 * t + 2]! * z + this.phases[t]!);
    return s * this.amp;
  }
}

export function randomUnitVector(rng: Rng): [number, number, number] {
  const z = rng.uniformIn(-1, 1);
  const phi = rng.uniformIn(0, 2 * Math.PI);
  const r = Math.sqrt(1 - z * z);
  return [r * Math.cos(phi), r * Math.sin(phi), z];
}

/** √(a² + b²): Math.hypot is several times slower, and these run per voxel. */
export function len2(a: number, b: number): number {
  return Math.sqrt(a * a + b * b);
}

/** √(a² + b² + c²). */
export function len3(a: number, b: number, c: number): number {
  return Math.sqrt(a * a + b * b + c * c);
}

/** Polynomial smooth minimum (Quilez): a union of implicit shapes with a fillet of size `k` mm. */
export function smoothMin(a: number, b: number, k: number): number {
  const h = Math.max(k - Math.abs(a - b), 0) / k;
  return Math.min(a, b) - (h * h * k) / 4;
}

/** Approximate signed distance (mm) to an axis-aligned ellipsoid centred at the origin (exact on the axes). */
export function ellipsoidSdf(x: number, y: number, z: number, rx: number, ry: number, rz: number): number {
  const k0 = Math.sqrt((x / rx) ** 2 + (y / ry) ** 2 + (z / rz) ** 2);
  if (k0 === 0) return -Math.min(rx, ry, rz);
  const k1 = Math.sqrt((x / (rx * rx)) ** 2 + (y / (ry * ry)) ** 2 + (z / (rz * rz)) ** 2);
  return (k0 * (k0 - 1)) / k1;
}

/** Distance (mm) from point p to the segment a-b. */
export function segmentDistance(
  px: number, py: number, pz: number,
  ax: number, ay: number, az: number,
  bx: number, by: number, bz: number,
): number {
  const ux = bx - ax, uy = by - ay, uz = bz - az;
  const len2 = ux * ux + uy * uy + uz * uz;
  let t = len2 > 0 ? ((px - ax) * ux + (py - ay) * uy + (pz - az) * uz) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const dx = px - ax - t * ux, dy = py - ay - t * uy, dz = pz - az - t * uz;
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/** Standard normal CDF Φ (Abramowitz-Stegun 7.1.26 on erf, |error| < 1.5e-7: ample for rendering maps). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - (((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t) * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** One phase's attenuation per tissue class (indexed by class), and the volume it is written to. */
export interface TexturedPhase {
  out: Float32Array;
  mean: Float32Array;
  texture: Float32Array;
}

/**
 * Writes two phases of a tissue map at once: out[v] = mean[t] + texture[t] × T(v) for tissue class t, where T is
 * one smooth random field of SD about `amplitude` (random lattice values every `cellMm`, trilinear between them)
 * shared by both phases, and 0 in air (class 0). T is computed with per-axis index and weight tables, so a full
 * clinical volume takes well under a second; it is rounded to Float32 as if it had been stored. The lattice is
 * anchored in world space, so a patient's texture does not depend on the grid.
 */
export function paintTexturedPhases(
  a: TexturedPhase,
  b: TexturedPhase,
  tissue: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  origin: readonly [number, number, number],
  cellMm: number,
  amplitude: number,
  rng: Rng,
): void {
  const tables = [0, 1, 2].map((axis) => {
    const n = shape[axis]!;
    const start = Math.floor(origin[axis]! / cellMm);
    const dim = Math.floor((origin[axis]! + (n - 1) * spacing[axis]!) / cellMm) - start + 2;
    const idx = new Int32Array(n);
    const w = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      const f = (origin[axis]! + t * spacing[axis]!) / cellMm - start;
      idx[t] = Math.min(dim - 2, Math.floor(f));
      w[t] = f - idx[t]!;
    }
    return { dim, idx, w };
  });
  const [tx, ty, tz] = tables as [typeof tables[0], typeof tables[0], typeof tables[0]];
  const lattice = new Float32Array(tx.dim * ty.dim * tz.dim);
  addWhiteNoise(lattice, rng, 1.45 * amplitude);
  const sy = tx.dim, sz = tx.dim * ty.dim;
  const [nx, ny, nz] = shape;
  const { out: outA, mean: meanA, texture: texA } = a;
  const { out: outB, mean: meanB, texture: texB } = b;
  const airA = meanA[0]! + texA[0]! * 0, airB = meanB[0]! + texB[0]! * 0;
  let v = 0;
  for (let k = 0; k < nz; k++) {
    const kz = tz.idx[k]! * sz, wz = tz.w[k]!;
    for (let j = 0; j < ny; j++) {
      const jy = ty.idx[j]! * sy, wy = ty.w[j]!;
      // The four lattice edges along x around the current cell, reloaded only when the cell changes.
      let cell = -1, a00 = 0, a10 = 0, a01 = 0, a11 = 0, d00 = 0, d10 = 0, d01 = 0, d11 = 0;
      for (let i = 0; i < nx; i++, v++) {
        const t = tissue[v]!;
        if (t === 0) {
          outA[v] = airA;
          outB[v] = airB;
          continue;
        }
        if (tx.idx[i] !== cell) {
          cell = tx.idx[i]!;
          const n = cell + jy + kz;
          a00 = lattice[n]!;
          d00 = lattice[n + 1]! - a00;
          a10 = lattice[n + sy]!;
          d10 = lattice[n + sy + 1]! - a10;
          a01 = lattice[n + sz]!;
          d01 = lattice[n + sz + 1]! - a01;
          a11 = lattice[n + sz + sy]!;
          d11 = lattice[n + sz + sy + 1]! - a11;
        }
        const wx = tx.w[i]!;
        const c00 = a00 + wx * d00, c10 = a10 + wx * d10, c01 = a01 + wx * d01, c11 = a11 + wx * d11;
        const c0 = c00 + wy * (c10 - c00), c1 = c01 + wy * (c11 - c01);
        const T = Math.fround(c0 + wz * (c1 - c0));
        outA[v] = meanA[t]! + texA[t]! * T;
        outB[v] = meanB[t]! + texB[t]! * T;
      }
    }
  }
}
