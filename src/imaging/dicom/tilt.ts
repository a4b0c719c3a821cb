/**
 * Gantry tilt correction (opt-in: `--correct-tilt`). A tilted CT acquisition is a stack of parallel slice
 * planes whose in-plane origins drift along the column direction as the table moves; no single affine fits
 * it. Each slice is shifted back along its columns (linear interpolation between rows, in mm computed from the
 * positions themselves, so no vendor sign conventions are involved) onto the orthogonal grid spanned by the
 * row direction, the column direction and the slice normal. Uneven gaps are then equalised by linear
 * interpolation between neighbouring slices, as dcm2niix's `_Tilt_Eq` output does (same slice count rule).
 */
import { HccError } from '../../util/errors.js';
import type { Vec3 } from '../volume.js';

export interface TiltPlan {
  /** Angle between the slice step and the normal, degrees. */
  angleDeg: number;
  /** Sorted slices' distances along the normal from the first, mm. */
  distances: number[];
  /** Sorted slices' in-plane drift along the column direction from the first, mm. */
  drifts: number[];
  /** Rows added so every shifted slice fits. */
  extraRows: number;
  /** Drift of the output's first row: a whole number of rows from the first slice (which stays unshifted). */
  minDrift: number;
  /** Output slice count and spacing along the normal. */
  slices: number;
  spacing: number;
  /** True when the gaps were uneven and slices are interpolated along the normal. */
  equalised: boolean;
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * The correction for sorted slice positions. Refuses stacks whose drift is not along the column direction
 * alone (that is not a gantry tilt) with a message naming the series.
 */
export function planTiltCorrection(positions: Vec3[], row: Vec3, col: Vec3, normal: Vec3, rowSpacing: number, colSpacing: number, series: string, angleDeg: number): TiltPlan {
  const p0 = positions[0];
  const distances = positions.map((p) => dot([p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]], normal));
  const drifts = positions.map((p) => dot([p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]], col));
  const sideways = Math.max(...positions.map((p) => Math.abs(dot([p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]], row))));
  if (sideways > 0.01 * colSpacing + 1e-3) {
    throw new HccError(`${series}: slice positions drift ${sideways.toFixed(2)} mm along the row direction; a gantry tilt only moves them along the columns, so this stack cannot be corrected`);
  }
  // Whole rows before the first slice, so that slice needs no interpolation (dcm2niix's grid does the same).
  const minDrift = Math.min(0, Math.floor(Math.min(...drifts) / rowSpacing + 1e-9) * rowSpacing);
  const extraRows = Math.ceil((Math.max(...drifts) - minDrift) / rowSpacing - 1e-6);
  const gaps = distances.slice(1).map((d, k) => d - distances[k]);
  const smallest = Math.min(...gaps);
  const largest = Math.max(...gaps);
  const n = positions.length;
  const total = distances[n - 1];
  if (largest - smallest <= Math.max(0.01 * smallest, 0.01)) {
    return { angleDeg, distances, drifts, extraRows, minDrift, slices: n, spacing: total / (n - 1), equalised: false };
  }
  // dcm2niix's rule: the smallest gap, over the extent less half the last gap, at most twice the input count.
  let spacing = smallest;
  let slices = Math.ceil((total - 0.5 * gaps[gaps.length - 1]) / spacing);
  if (slices > 2 * n) {
    slices = 2 * n;
    spacing = total / (slices - 1);
  }
  return { angleDeg, distances, drifts, extraRows, minDrift, slices, spacing, equalised: true };
}

type Voxels = Int16Array | Int32Array | Float32Array;

function like(data: Voxels, length: number): Voxels {
  return data instanceof Int16Array ? new Int16Array(length) : data instanceof Int32Array ? new Int32Array(length) : new Float32Array(length);
}

/** Applies a plan to sorted slices of nx x ny voxels; returns the nx x (ny + extraRows) x plan.slices voxels. */
export function applyTiltCorrection(data: Voxels, nx: number, ny: number, plan: TiltPlan, rowSpacing: number): Voxels {
  const nz = plan.distances.length;
  const nyOut = ny + plan.extraRows;
  const integer = !(data instanceof Float32Array);
  let pad = Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] < pad) pad = data[i];
  // 1. Shift each slice along its columns onto the common grid.
  const shifted = like(data, nx * nyOut * nz).fill(pad);
  for (let k = 0; k < nz; k++) {
    const offset = (plan.drifts[k] - plan.minDrift) / rowSpacing;
    const inBase = k * nx * ny;
    const outBase = k * nx * nyOut;
    for (let jo = 0; jo < nyOut; jo++) {
      const ji = jo - offset;
      if (ji < 0 || ji > ny - 1) continue;
      const lo = Math.floor(ji);
      const hi = Math.min(lo + 1, ny - 1);
      const w = ji - lo;
      for (let i = 0; i < nx; i++) {
        const v = (1 - w) * data[inBase + lo * nx + i] + w * data[inBase + hi * nx + i];
        shifted[outBase + jo * nx + i] = integer ? Math.round(v) : v;
      }
    }
  }
  if (!plan.equalised) return shifted;
  // 2. Equal gaps: each output slice interpolated between the input slices around its distance.
  const perSlice = nx * nyOut;
  const out = like(data, perSlice * plan.slices);
  for (let q = 0; q < plan.slices; q++) {
    const z = q * plan.spacing;
    let hiSlice = 0;
    while (hiSlice < nz - 1 && plan.distances[hiSlice] < z) hiSlice++;
    const loSlice = Math.max(0, hiSlice - 1);
    const [zLo, zHi] = [plan.distances[loSlice], plan.distances[hiSlice]];
    const w = zHi === zLo || z > zHi ? 1 : (z - zLo) / (zHi - zLo);
    for (let v = 0; v < perSlice; v++) {
      const value = (1 - w) * shifted[loSlice * perSlice + v] + w * shifted[hiSlice * perSlice + v];
      out[q * perSlice + v] = integer ? Math.round(value) : value;
    }
  }
  return out;
}
