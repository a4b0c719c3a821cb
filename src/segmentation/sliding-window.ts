import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import type { ZYX } from './plans.js';

/**
 * nnU-Net v2's sliding-window prediction (`sliding_window_prediction.py`, `nnUNetPredictor`): tile starts,
 * the Gaussian importance map, centred zero padding, mirroring TTA and logit accumulation. With `exact`, the
 * accumulation is done in float16 exactly as nnU-Net does on CPU, so the argmax matches voxel for voxel.
 */

/** Python's round(): halves to even (numpy's np.round does the same). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** IEEE half precision rounding (round to nearest even, subnormals, overflow to infinity). */
export function toHalf(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14;
  const ulp = 2 ** (e - 10);
  const r = roundHalfEven(a / ulp) * ulp;
  return r >= 65520 ? sign * Infinity : sign * r;
}

/** Tile starts along one axis: n = ceil((size - patch)/(patch·step)) + 1, starts round(i·(size - patch)/(n - 1)). */
export function computeSteps(size: number, patch: number, step = 0.5): number[] {
  if (size < patch) throw new RangeError(`computeSteps: image size ${size} is smaller than the patch ${patch}; pad first`);
  const target = patch * step;
  const n = Math.ceil((size - patch) / target) + 1;
  if (n === 1) return [0];
  const actual = (size - patch) / (n - 1);
  return Array.from({ length: n }, (_, i) => roundHalfEven(i * actual));
}

function gaussianKernel1d(size: number, sigma: number): Float64Array {
  // scipy.ndimage.gaussian_filter of a delta at size//2 (mode 'constant', truncate 4): the normalised kernel.
  const radius = Math.floor(4 * sigma + 0.5);
  const weights: number[] = [];
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const w = Math.exp((-0.5 / (sigma * sigma)) * x * x);
    weights.push(w);
    sum += w;
  }
  const out = new Float64Array(size);
  const c = Math.floor(size / 2);
  for (let i = 0; i < size; i++) {
    const d = i - c;
    if (Math.abs(d) <= radius) out[i] = weights[d + radius]! / sum;
  }
  return out;
}

/**
 * nnU-Net's compute_gaussian: sigma = patch·sigmaScale per axis, scaled to a peak of `valueScale`, rounded to
 * float16, zeros replaced by the smallest non-zero value. C order (z, y, x).
 */
export function gaussianImportance(patch: ZYX, sigmaScale = 1 / 8, valueScale = 10): Float32Array {
  const k = patch.map((p) => gaussianKernel1d(p, p * sigmaScale));
  const [pz, py, px] = patch;
  const raw = new Float64Array(pz * py * px);
  let max = 0;
  let i = 0;
  for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) for (let x = 0; x < px; x++, i++) {
    raw[i] = k[0]![z]! * k[1]![y]! * k[2]![x]!;
    if (raw[i]! > max) max = raw[i]!;
  }
  const out = new Float32Array(raw.length);
  let minNonZero = Infinity;
  for (let j = 0; j < raw.length; j++) {
    out[j] = toHalf((raw[j]! / max) * valueScale);
    if (out[j]! > 0 && out[j]! < minNonZero) minNonZero = out[j]!;
  }
  for (let j = 0; j < out.length; j++) if (out[j] === 0) out[j] = minNonZero;
  return out;
}

/** pad_nd_image: pad axes smaller than the patch, centred, the odd voxel on the high side, with 0. */
export function padToPatch(channels: Float32Array[], shape: ZYX, patch: ZYX): { channels: Float32Array[]; shape: ZYX; before: ZYX } {
  const before = shape.map((s, a) => Math.max(0, Math.floor((patch[a]! - s) / 2))) as ZYX;
  const padded = shape.map((s, a) => Math.max(s, patch[a]!)) as ZYX;
  if (padded.every((s, a) => s === shape[a])) return { channels, shape, before };
  const [, ny, nx] = shape;
  const [, py, px] = padded;
  const out = channels.map((src) => {
    const dst = new Float32Array(padded[0] * py * px);
    for (let z = 0; z < shape[0]; z++) for (let y = 0; y < ny; y++) {
      const s = (z * ny + y) * nx;
      dst.set(src.subarray(s, s + nx), ((z + before[0]) * py + y + before[1]) * px + before[2]);
    }
    return dst;
  });
  return { channels: out, shape: padded, before };
}

export interface SlidingWindowOptions {
  step?: number;
  /** Mirror TTA over these axes of the (z, y, x) patch (nnU-Net's inference_allowed_mirroring_axes); none by default. */
  mirrorAxes?: number[] | null;
  /** float16 accumulation bit for bit as nnU-Net on CPU (slower). */
  exact?: boolean;
  onTile?: (done: number, total: number) => void;
}

/** Every non-empty subset of the mirror axes, in nnU-Net's order: by size, then lexicographic. */
function mirrorSets(axes: number[]): number[][] {
  const out: number[][] = [];
  const rec = (start: number, cur: number[], size: number): void => {
    if (cur.length === size) {
      out.push([...cur]);
      return;
    }
    for (let i = start; i < axes.length; i++) rec(i + 1, [...cur, axes[i]!], size);
  };
  for (let size = 1; size <= axes.length; size++) rec(0, [], size);
  return out;
}

/**
 * Logits for a whole preprocessed image, C order [numClasses, z, y, x] on the unpadded shape. `net` maps an
 * input [1, C, pz, py, px] to logits [1, K, pz, py, px] (deep supervision off).
 */
export function slidingWindowLogits(
  net: (x: Tensor) => Tensor, input: Float32Array[], shape: ZYX, patch: ZYX, numClasses: number, options: SlidingWindowOptions = {},
): Float32Array {
  const padded = padToPatch(input, shape, patch);
  const [Z, Y, X] = padded.shape;
  const [pz, py, px] = patch;
  const pv = pz * py * px;
  const gauss = gaussianImportance(patch);
  const steps = padded.shape.map((s, a) => computeSteps(s, patch[a]!, options.step ?? 0.5));
  const logits = new Float32Array(numClasses * Z * Y * X);
  const weights = new Float32Array(Z * Y * X);
  const exact = options.exact ?? false;
  const flips = options.mirrorAxes ? mirrorSets(options.mirrorAxes.map((a) => a + 2)) : [];
  const nC = input.length;
  const tile = new Float32Array(nC * pv);
  const total = steps[0]!.length * steps[1]!.length * steps[2]!.length;
  let done = 0;
  for (const sz of steps[0]!) for (const sy of steps[1]!) for (const sx of steps[2]!) {
    for (let c = 0; c < nC; c++) {
      const src = padded.channels[c]!;
      for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
        const s = ((sz + z) * Y + sy + y) * X + sx;
        tile.set(src.subarray(s, s + px), c * pv + (z * py + y) * px);
      }
    }
    const pred = torch.tidy(() => torch.noGrad(() => {
      const x = torch.fromArray(tile, [1, nC, pz, py, px]);
      let out = net(x);
      if (flips.length) {
        for (const dims of flips) out = out.add(net(x.flip(dims)).flip(dims));
        out = out.div(flips.length + 1);
      }
      return out.contiguous().toArray() as Float32Array;
    }));
    for (let k = 0; k < numClasses; k++) {
      const base = k * Z * Y * X;
      for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
        const row = base + ((sz + z) * Y + sy + y) * X + sx;
        const prow = k * pv + (z * py + y) * px;
        const grow = (z * py + y) * px;
        if (exact) {
          for (let x = 0; x < px; x++) logits[row + x] = toHalf(Math.fround(logits[row + x]! + Math.fround(pred[prow + x]! * gauss[grow + x]!)));
        } else {
          for (let x = 0; x < px; x++) logits[row + x]! += pred[prow + x]! * gauss[grow + x]!;
        }
      }
    }
    for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
      const row = ((sz + z) * Y + sy + y) * X + sx;
      const grow = (z * py + y) * px;
      if (exact) for (let x = 0; x < px; x++) weights[row + x] = toHalf(weights[row + x]! + gauss[grow + x]!);
      else for (let x = 0; x < px; x++) weights[row + x]! += gauss[grow + x]!;
    }
    options.onTile?.(++done, total);
  }
  const [nz, ny, nx] = shape;
  const out = new Float32Array(numClasses * nz * ny * nx);
  const [bz, by, bx] = padded.before;
  let p = 0;
  for (let k = 0; k < numClasses; k++) for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) {
    const row = ((z + bz) * Y + y + by) * X + bx;
    const lrow = k * Z * Y * X + row;
    for (let x = 0; x < nx; x++, p++) {
      const v = logits[lrow + x]! / weights[row + x]!;
      out[p] = exact ? toHalf(Math.fround(v)) : v;
    }
  }
  return out;
}
