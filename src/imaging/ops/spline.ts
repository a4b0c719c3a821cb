/**
 * Separable interpolation along one voxel axis, reproducing scipy.ndimage's arithmetic for mode='nearest'
 * (which is what nnU-Net's skimage `resize(mode='edge')` calls):
 * - order 0: value at floor(x + 0.5); order 1: linear; order 3: cubic B-spline with prefilter;
 * - orders 0 and 1 clamp a coordinate outside [0, n-1] to the edge;
 * - the cubic prefilter runs on the line padded with 12 copies of each edge value, with scipy's mirror-reflect
 *   initial conditions (scipy's `_prepad_for_spline_filter`, then `spline_filter(mode='nearest')`), and the
 *   spline is evaluated on that padded line without clamping, so just outside the edge it is not flat.
 *
 * Arrays are x-fastest; an axis is processed as [outer][n][inner] blocks so that y and z passes stream through
 * memory in rows rather than striding voxel by voxel.
 */

export type SplineOrder = 0 | 1 | 3;

/** scipy's pad width before prefiltering in 'nearest' mode. */
const PAD = 12;
const POLE = Math.sqrt(3) - 2;
/** The cubic prefilter's gain, (1 - z)(1 - 1/z). */
const GAIN = (1 - POLE) * (1 - 1 / POLE);
/** Inner columns per block: keeps a padded block of a long axis within a few MB. */
const CHUNK = 2048;

/** Taps along one axis: output sample s reads source rows index[s*taps + t] with weight[s*taps + t]. */
export interface AxisTaps {
  taps: number;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * Taps for sampling an axis of length n at `coords` (source voxel coordinates). For order 3 the indices address
 * the padded coefficient row (source index + PAD).
 */
export function axisTaps(coords: ArrayLike<number>, n: number, order: SplineOrder): AxisTaps {
  const taps = order === 3 ? 4 : order === 1 ? 2 : 1;
  const index = new Int32Array(coords.length * taps);
  const weight = new Float64Array(coords.length * taps);
  // The padded cubic line covers source indices -PAD..n-1+PAD; its four taps reach one below and two above.
  const [lo, hi] = order === 3 ? [1 - PAD, n - 3 + PAD] : [0, n - 1];
  for (let s = 0; s < coords.length; s++) {
    const x = Math.min(Math.max(coords[s]!, lo), hi);
    const o = s * taps;
    if (order === 0) {
      index[o] = Math.min(Math.floor(x + 0.5), n - 1);
      weight[o] = 1;
    } else if (order === 1) {
      const f = Math.floor(x);
      const t = x - f;
      index[o] = f;
      index[o + 1] = Math.min(f + 1, n - 1);
      weight[o] = 1 - t;
      weight[o + 1] = t;
    } else {
      const f = Math.floor(x);
      const t = x - f;
      const t2 = t * t, t3 = t2 * t;
      const u = 1 - t;
      for (let k = 0; k < 4; k++) index[o + k] = f - 1 + k + PAD;
      weight[o] = (u * u * u) / 6;
      weight[o + 1] = (3 * t3 - 6 * t2 + 4) / 6;
      weight[o + 2] = (-3 * t3 + 3 * t2 + 3 * t + 1) / 6;
      weight[o + 3] = t3 / 6;
    }
  }
  return { taps, index, weight };
}

/**
 * In-place cubic B-spline prefilter of `len` rows of width w (row r at block[r*w ...]), with scipy's 'reflect'
 * boundary initialisation (`_init_causal_reflect` / `_init_anticausal_reflect` in ni_splines.c).
 */
function prefilterRows(block: Float64Array, len: number, w: number): void {
  const z = POLE;
  for (let i = 0; i < len * w; i++) block[i]! *= GAIN;
  const zn = Math.pow(z, len);
  const first = new Float64Array(w);
  for (let x = 0; x < w; x++) first[x] = block[x]! + zn * block[(len - 1) * w + x]!;
  let zi = z;
  for (let i = 1; i < len && Math.abs(zi) > 1e-30; i++) {
    const a = i * w, b = (len - 1 - i) * w;
    for (let x = 0; x < w; x++) first[x]! += zi * (block[a + x]! + zn * block[b + x]!);
    zi *= z;
  }
  const scale = z / (1 - zn * zn);
  for (let x = 0; x < w; x++) block[x] = first[x]! * scale + block[x]!;
  for (let i = 1; i < len; i++) {
    const a = i * w, b = a - w;
    for (let x = 0; x < w; x++) block[a + x]! += z * block[b + x]!;
  }
  const last = (len - 1) * w;
  for (let x = 0; x < w; x++) block[last + x]! *= z / (z - 1);
  for (let i = len - 2; i >= 0; i--) {
    const a = i * w, b = a + w;
    for (let x = 0; x < w; x++) block[a + x] = z * (block[b + x]! - block[a + x]!);
  }
}

/**
 * Resamples `src` (shape [nx, ny, nz], x fastest) along `axis` at the given taps, producing `outN` samples on that
 * axis. Float64 in and out so successive axes lose nothing.
 */
export function interpolateAxis(
  src: ArrayLike<number>,
  shape: readonly number[],
  axis: 0 | 1 | 2,
  taps: AxisTaps,
  order: SplineOrder,
): Float64Array {
  const n = shape[axis]!;
  const outN = taps.index.length / taps.taps;
  const inner = axis === 0 ? 1 : axis === 1 ? shape[0]! : shape[0]! * shape[1]!;
  const outer = axis === 2 ? 1 : axis === 1 ? shape[2]! : shape[1]! * shape[2]!;
  const out = new Float64Array(outer * outN * inner);
  const rows = order === 3 ? n + 2 * PAD : n;
  const width = Math.min(inner, CHUNK);
  const block = new Float64Array(rows * width);
  const acc = new Float64Array(width);
  const { index, weight, taps: t } = taps;
  for (let o = 0; o < outer; o++) {
    const srcBase = o * n * inner;
    const outBase = o * outN * inner;
    for (let c0 = 0; c0 < inner; c0 += width) {
      const w = Math.min(width, inner - c0);
      const lead = order === 3 ? PAD : 0;
      for (let r = 0; r < n; r++) {
        const s = srcBase + r * inner + c0;
        const b = (r + lead) * w;
        for (let x = 0; x < w; x++) block[b + x] = src[s + x]!;
      }
      if (order === 3) {
        for (let r = 0; r < PAD; r++) {
          block.copyWithin(r * w, PAD * w, PAD * w + w);
          block.copyWithin((PAD + n + r) * w, (PAD + n - 1) * w, (PAD + n) * w);
        }
        prefilterRows(block, rows, w);
      }
      if (w === 1) {
        // Lines along x: one column, so plain scalar sums.
        for (let s = 0; s < outN; s++) {
          let v = 0;
          for (let k = s * t; k < s * t + t; k++) v += weight[k]! * block[index[k]!]!;
          out[outBase + s] = v;
        }
        continue;
      }
      for (let s = 0; s < outN; s++) {
        acc.fill(0, 0, w);
        for (let k = 0; k < t; k++) {
          const wt = weight[s * t + k]!;
          if (wt === 0) continue;
          const b = index[s * t + k]! * w;
          for (let x = 0; x < w; x++) acc[x]! += wt * block[b + x]!;
        }
        const d = outBase + s * inner + c0;
        for (let x = 0; x < w; x++) out[d + x] = acc[x]!;
      }
    }
  }
  return out;
}

/**
 * scipy.ndimage.zoom(input, out/in, order, mode='nearest', grid_mode=True) along the listed axes: output voxel s
 * samples source coordinate (s + 0.5) · n/outN - 0.5, so voxel edges (not centres) line up, as skimage's resize.
 */
export function zoomAxes(
  src: ArrayLike<number>,
  shape: readonly number[],
  outShape: readonly number[],
  order: SplineOrder,
  axes: ReadonlyArray<0 | 1 | 2> = [0, 1, 2],
): Float64Array {
  let data: ArrayLike<number> = src;
  const cur = [...shape];
  for (const axis of axes) {
    const n = cur[axis]!, m = outShape[axis]!;
    if (n === m) continue;
    const coords = Float64Array.from({ length: m }, (_, s) => ((s + 0.5) * n) / m - 0.5);
    data = interpolateAxis(data, cur, axis, axisTaps(coords, n, order), order);
    cur[axis] = m;
  }
  return data instanceof Float64Array && data !== src ? data : Float64Array.from(data);
}

/**
 * Cubic B-spline coefficients of a whole volume on the index range [-2, n+1] per axis (shape + 4): enough for
 * any point within the voxel footprint [-0.5, n-0.5]. Coefficient (i, j, k) of the source lies at
 * (i + 2, j + 2, k + 2).
 */
export function splineCoefficients(src: ArrayLike<number>, shape: readonly number[]): { coef: Float64Array; shape: number[] } {
  let data: ArrayLike<number> = src;
  const cur = [...shape];
  for (const axis of [0, 1, 2] as const) {
    const n = cur[axis]!;
    const rows = Int32Array.from({ length: n + 4 }, (_, r) => r - 2 + PAD);
    const taps: AxisTaps = { taps: 1, index: rows, weight: new Float64Array(n + 4).fill(1) };
    data = interpolateAxis(data, cur, axis, taps, 3);
    cur[axis] = n + 4;
  }
  return { coef: data as Float64Array, shape: cur };
}
