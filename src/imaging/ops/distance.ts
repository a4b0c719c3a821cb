import type { Vec3 } from '../volume.js';

/**
 * Exact Euclidean distance transform with anisotropic spacing (Felzenszwalb & Huttenlocher 2012: separable
 * lower envelopes of parabolas, one pass per axis on squared distances). For every voxel: the distance in mm to
 * the nearest voxel where `features` is non-zero; 0 on features, Infinity when there are none. This equals
 * scipy.ndimage.distance_transform_edt(features == 0, sampling=spacing).
 */
export function distanceTransform(features: ArrayLike<number>, shape: Vec3, spacing: Vec3): Float64Array {
  const [nx, ny, nz] = shape;
  const d = new Float64Array(nx * ny * nz);
  for (let i = 0; i < d.length; i++) d[i] = features[i] ? 0 : Infinity;
  const longest = Math.max(nx, ny, nz);
  const f = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const strides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const n = shape[axis]!;
    const stride = strides[axis]!;
    const s = spacing[axis]!;
    const s2 = s * s;
    // Every line along `axis`: start offsets over the other two axes.
    const [a, b] = [0, 1, 2].filter((x) => x !== axis) as [number, number];
    for (let q = 0; q < shape[b]!; q++) {
      for (let p = 0; p < shape[a]!; p++) {
        const base = p * strides[a]! + q * strides[b]!;
        for (let i = 0; i < n; i++) f[i] = d[base + i * stride]!;
        envelope(f, n, s2, v, z, out);
        for (let i = 0; i < n; i++) d[base + i * stride] = out[i]!;
      }
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]!);
  return d;
}

/**
 * 1D squared distance transform of sampled function f on a grid with squared spacing s2:
 * out[q] = min_p f[p] + s2 (q - p)². Infinite samples are skipped (they never lie on the envelope).
 */
function envelope(f: Float64Array, n: number, s2: number, v: Int32Array, z: Float64Array, out: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let sect: number;
    for (;;) {
      const r = v[k]!;
      sect = (fq - f[r]! + s2 * (q * q - r * r)) / (2 * s2 * (q - r));
      if (sect <= z[k]! && k > 0) k--;
      else break;
    }
    if (sect <= z[k]!) {
      // k === 0 and the new parabola dominates everywhere.
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    k++;
    v[k] = q;
    z[k] = sect;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (z[j + 1]! < q) j++;
    const r = v[j]!;
    out[q] = s2 * (q - r) * (q - r) + f[r]!;
  }
}
