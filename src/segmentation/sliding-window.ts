import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { StepClock } from './clock.js';
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
  /** Collects time per step under `${stepPrefix}.tile_copy`, `.network`, `.accumulate`, `.average`. */
  clock?: StepClock;
  stepPrefix?: string;
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
 * Tiles per network call (without `exact`). libtorch 1.13 hands a 3-D convolution to oneDNN only when the batch is
 * larger than 1 or N·C·D·H exceeds 20480 (`ConvParams::use_mkldnn`); a single 16-channel 40x32x40 tile sits
 * exactly at that limit, so batch 1 ran most layers through the generic vol2col + GEMM path at 13-19 GFLOP/CPU-s
 * against 35-57 with oneDNN (BENCHMARKS.md). Each tile's result does not depend on its batch neighbours
 * (InstanceNorm is per sample); `exact` keeps batch 1, as nnU-Net's predictor runs.
 */
export const TILE_BATCH = 4;

/**
 * Logits for a whole preprocessed image, C order [numClasses, z, y, x] on the unpadded shape. `net` maps an
 * input [1, C, pz, py, px] to logits [1, K, pz, py, px] (deep supervision off).
 */
export function slidingWindowLogits(
  net: (x: Tensor) => Tensor, input: Float32Array[], shape: ZYX, patch: ZYX, numClasses: number, options: SlidingWindowOptions = {},
): Float32Array {
  return torch.tidy(() => slidingWindowTensor(net, input, shape, patch, numClasses, options).toArray() as Float32Array);
}

/**
 * As slidingWindowLogits, as a float32 tensor [numClasses, z, y, x]. Tiles are cut from one input tensor and
 * (without `exact`) accumulated in place in libtorch: `logits += pred·gauss` is done in float64 and rounded to
 * float32 per tile, which is exactly what the former per-voxel JavaScript loop computed, so results are unchanged.
 */
export function slidingWindowTensor(
  net: (x: Tensor) => Tensor, input: Float32Array[], shape: ZYX, patch: ZYX, numClasses: number, options: SlidingWindowOptions = {},
): Tensor {
  const padded = padToPatch(input, shape, patch);
  const [Z, Y, X] = padded.shape;
  const [pz, py, px] = patch;
  const gauss = gaussianImportance(patch);
  const steps = padded.shape.map((s, a) => computeSteps(s, patch[a]!, options.step ?? 0.5));
  const exact = options.exact ?? false;
  const flips = options.mirrorAxes ? mirrorSets(options.mirrorAxes.map((a) => a + 2)) : [];
  const total = steps[0]!.length * steps[1]!.length * steps[2]!.length;
  const clock = options.clock ?? new StepClock();
  const step = (name: string) => `${options.stepPrefix ?? 'sliding_window'}.${name}`;
  return torch.tidy(() => {
    const image = torch.stack(padded.channels.map((c) => torch.fromBlob(c, [Z, Y, X])), 0);
    const gaussT = torch.fromArray(gauss, [pz, py, px]);
    const gauss64 = gaussT.to('float64');
    // exact: nnU-Net's float16 buffers, emulated in JavaScript arrays; otherwise float32 tensors.
    const logitsJs = exact ? new Float32Array(numClasses * Z * Y * X) : null;
    const weightsJs = exact ? new Float32Array(Z * Y * X) : null;
    const logits = exact ? null : torch.zeros([numClasses, Z, Y, X]);
    const weights = exact ? null : torch.zeros([Z, Y, X]);
    const pv = pz * py * px;
    let done = 0;
    const starts: ZYX[] = [];
    for (const sz of steps[0]!) for (const sy of steps[1]!) for (const sx of steps[2]!) starts.push([sz, sy, sx]);
    const window = (t: Tensor, [sz, sy, sx]: ZYX) => t.narrow(-3, sz, pz).narrow(-2, sy, py).narrow(-1, sx, px);
    const batch = exact ? 1 : TILE_BATCH;
    for (let b0 = 0; b0 < starts.length; b0 += batch) {
      const group = starts.slice(b0, b0 + batch);
      torch.tidy(() => {
        const x = clock.time(step('tile_copy'), () => {
          const tiles = group.map((start) => window(image, start));
          // A lone tile goes in twice: batch 1 would fall back to libtorch's slow convolution (see TILE_BATCH).
          if (!exact && tiles.length === 1) tiles.push(tiles[0]!);
          return torch.stack(tiles, 0);
        });
        const pred = clock.time(step('network'), () => torch.noGrad(() => {
          let out = net(x);
          if (flips.length) {
            for (const dims of flips) out = out.add(net(x.flip(dims)).flip(dims));
            out = out.div(flips.length + 1);
          }
          return out;
        }));
        clock.time(step('accumulate'), () => group.forEach((start, b) => {
          const [sz, sy, sx] = start;
          if (!exact) {
            const region = window(logits!, start);
            region.copy_(region.to('float64').add(pred.select(0, b).to('float64').mul(gauss64)));
            window(weights!, start).add_(gaussT);
            return;
          }
          const p = pred.select(0, b).contiguous().toArray() as Float32Array;
          for (let k = 0; k < numClasses; k++) {
            const base = k * Z * Y * X;
            for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
              const row = base + ((sz + z) * Y + sy + y) * X + sx;
              const prow = k * pv + (z * py + y) * px;
              const grow = (z * py + y) * px;
              for (let i = 0; i < px; i++) logitsJs![row + i] = toHalf(Math.fround(logitsJs![row + i]! + Math.fround(p[prow + i]! * gauss[grow + i]!)));
            }
          }
          for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
            const row = ((sz + z) * Y + sy + y) * X + sx;
            const grow = (z * py + y) * px;
            for (let i = 0; i < px; i++) weightsJs![row + i] = toHalf(weightsJs![row + i]! + gauss[grow + i]!);
          }
        }));
      });
      done += group.length;
      options.onTile?.(done, total);
    }
    return clock.time(step('average'), () => {
      const [nz, ny, nx] = shape;
      const [bz, by, bx] = padded.before;
      const crop = (t: Tensor) => t.narrow(-3, bz, nz).narrow(-2, by, ny).narrow(-1, bx, nx);
      if (!exact) return crop(logits!.div_(weights!)).contiguous();
      // float16 division of float16 buffers, as nnU-Net's `predicted_logits /= n_predictions`.
      const out = new Float32Array(numClasses * nz * ny * nx);
      let p = 0;
      for (let k = 0; k < numClasses; k++) for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) {
        const row = ((z + bz) * Y + y + by) * X + bx;
        const lrow = k * Z * Y * X + row;
        for (let i = 0; i < nx; i++, p++) out[p] = toHalf(Math.fround(logitsJs![lrow + i]! / weightsJs![row + i]!));
      }
      return torch.fromArray(out, [numClasses, nz, ny, nx]);
    });
  });
}
