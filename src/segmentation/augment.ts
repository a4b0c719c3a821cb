import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import type { Rng } from '../util/rng.js';

/**
 * nnU-Net's training augmentations (batchgeneratorsv2, `get_training_transforms`) on one sample:
 * data [1, C, z, y, x] float32, seg [1, 1, z, y, x] float32. Probabilities and ranges are nnU-Net's; every draw
 * comes from `rng` (noise from torch's generator, which the trainer seeds per step), so a step is reproducible.
 * Departures: the rotation acts in the patch's normalised coordinates, and the patch is not first cropped
 * larger, so rotated corners are zero-filled (label: background).
 */

export interface AugmentOptions {
  /** Mirror axes of the (z, y, x) patch; nnU-Net mirrors all three. */
  mirrorAxes?: number[];
  /** Turn everything but mirroring off (the tiny test configurations). */
  spatial?: boolean;
  intensity?: boolean;
}

function rotationScaleTheta(rng: Rng): number[] | null {
  const rotate = rng.bernoulli(0.2);
  const scale = rng.bernoulli(0.2);
  if (!rotate && !scale) return null;
  const a = (d: number) => (rotate ? rng.uniformIn(-d, d) : 0);
  const [ax, ay, az] = [a(Math.PI / 6), a(Math.PI / 6), a(Math.PI / 6)];
  const s = scale ? rng.uniformIn(0.7, 1.4) : 1;
  const rx = [1, 0, 0, 0, Math.cos(ax), -Math.sin(ax), 0, Math.sin(ax), Math.cos(ax)];
  const ry = [Math.cos(ay), 0, Math.sin(ay), 0, 1, 0, -Math.sin(ay), 0, Math.cos(ay)];
  const rz = [Math.cos(az), -Math.sin(az), 0, Math.sin(az), Math.cos(az), 0, 0, 0, 1];
  const mul = (p: number[], q: number[]) => Array.from({ length: 9 }, (_, i) => {
    const r = Math.floor(i / 3), c = i % 3;
    return p[r * 3]! * q[c]! + p[r * 3 + 1]! * q[3 + c]! + p[r * 3 + 2]! * q[6 + c]!;
  });
  // grid coordinates are sampled at (R·x)/s: s > 1 zooms in, as nnU-Net's scale does.
  const m = mul(mul(rx, ry), rz).map((v) => v / s);
  return [m[0]!, m[1]!, m[2]!, 0, m[3]!, m[4]!, m[5]!, 0, m[6]!, m[7]!, m[8]!, 0];
}

function gaussianBlur1d(x: Tensor, sigma: number, dim: number): Tensor {
  const radius = Math.max(1, Math.round(3 * sigma));
  const w: number[] = [];
  for (let i = -radius; i <= radius; i++) w.push(Math.exp((-0.5 * i * i) / (sigma * sigma)));
  const s = w.reduce((p, q) => p + q, 0);
  const shape = [1, 1, 1, 1, 1];
  shape[dim] = w.length;
  const kernel = torch.tensor(w.map((v) => v / s)).reshape(shape);
  const pad = [0, 0, 0];
  pad[dim - 2] = radius;
  return torch.F.conv3d(x, kernel, null, 1, pad);
}

export function augmentSample(data: Tensor, seg: Tensor, rng: Rng, options: AugmentOptions = {}): [Tensor, Tensor] {
  const spatial = options.spatial ?? true;
  const intensity = options.intensity ?? true;
  let x = data;
  let y = seg;
  if (spatial) {
    const theta = rotationScaleTheta(rng);
    if (theta) {
      const grid = torch.F.affineGrid(torch.tensor(theta).reshape([1, 3, 4]), x.shape, false);
      x = torch.F.gridSample(x, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
      y = torch.F.gridSample(y, grid, { mode: 'nearest', paddingMode: 'zeros', alignCorners: false });
    }
  }
  if (intensity) {
    const C = x.shape[1]!;
    if (rng.bernoulli(0.1)) x = x.add(torch.randnLike(x).mul(Math.sqrt(rng.uniformIn(0, 0.1))));
    if (rng.bernoulli(0.2)) {
      const chans = [];
      for (let c = 0; c < C; c++) {
        let ch = x.narrow(1, c, 1);
        if (rng.bernoulli(0.5)) {
          const sigma = rng.uniformIn(0.5, 1);
          for (const d of [2, 3, 4]) ch = gaussianBlur1d(ch, sigma, d);
        }
        chans.push(ch);
      }
      x = torch.cat(chans, 1);
    }
    if (rng.bernoulli(0.15)) x = x.mul(rng.uniformIn(0.75, 1.25));
    if (rng.bernoulli(0.15)) {
      const f = rng.uniformIn(0.75, 1.25);
      const mean = x.mean([2, 3, 4], true);
      const lo = x.amin([2, 3, 4], true), hi = x.amax([2, 3, 4], true);
      x = torch.minimum(torch.maximum(x.sub(mean).mul(f).add(mean), lo), hi);
    }
    if (rng.bernoulli(0.25)) {
      const zoom = rng.uniformIn(0.5, 1);
      const size = x.shape.slice(2);
      const small = torch.F.interpolate(x, { size: size.map((n) => Math.max(1, Math.round(n * zoom))), mode: 'nearest' });
      x = torch.F.interpolate(small, { size, mode: 'trilinear', alignCorners: false });
    }
    for (const [p, invert] of [[0.1, true], [0.3, false]] as const) {
      if (!rng.bernoulli(p)) continue;
      const g = rng.bernoulli(0.5) && rng.uniform() < 0.5 ? rng.uniformIn(0.7, 1) : rng.uniformIn(0.7, 1.5);
      let v = invert ? x.neg() : x;
      const mean = v.mean([2, 3, 4], true), sd = v.std([2, 3, 4], true, true);
      const lo = v.amin([2, 3, 4], true), range = v.amax([2, 3, 4], true).sub(lo);
      v = v.sub(lo).div(range.add(1e-7)).pow(g).mul(range.add(1e-7)).add(lo);
      v = v.sub(v.mean([2, 3, 4], true)).div(v.std([2, 3, 4], true, true).add(1e-8)).mul(sd).add(mean);
      x = invert ? v.neg() : v;
    }
  }
  const flips = (options.mirrorAxes ?? [0, 1, 2]).filter(() => rng.bernoulli(0.5)).map((a) => a + 2);
  if (flips.length) {
    x = x.flip(flips);
    y = y.flip(flips);
  }
  return [x, y];
}
