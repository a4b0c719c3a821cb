/**
 * Slice stack geometry from DICOM headers: order by position along the slice normal (never InstanceNumber),
 * spacing from ImagePositionPatient (never SliceThickness), and the checks that decide whether one affine can
 * describe the stack at all: one orientation, no duplicate positions, even gaps (a gap of a whole multiple is a
 * missing slice), and no gantry tilt. Works in DICOM LPS; the reader converts to RAS.
 */
import { HccError } from '../../util/errors.js';
import type { Affine, Vec3 } from '../volume.js';
import { planTiltCorrection, type TiltPlan } from './tilt.js';

export interface SlicePlacement {
  /** File (and frame) named in messages. */
  label: string;
  /** ImagePositionPatient, LPS mm: centre of the first transmitted pixel. */
  position?: Vec3;
  /** ImageOrientationPatient: row direction (along a row, increasing column index), then column direction. */
  orientation?: [Vec3, Vec3];
  /** PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing?: [number, number];
  gantryTilt?: number;
}

export interface StackGeometry {
  /** Indices into the input, in the order of increasing position along the normal. */
  order: number[];
  /** Set when a tilted stack is to be resampled (`correctTilt`); the affine is then the corrected grid's. */
  tilt?: TiltPlan;
  /** Voxel (column i, row j, slice k) to LPS mm, row-major 4x4. */
  affineLps: Affine;
  /** Gaps between consecutive sorted slices along the normal, mm. */
  gaps: number[];
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const norm = (a: Vec3): number => Math.sqrt(dot(a, a));
const fmt = (v: number[]): string => v.map((x) => +x.toFixed(4)).join('\\');

/** Orientation tolerance: IOP is often written with 5-6 decimals. */
const ORIENTATION_TOLERANCE = 1e-4;
/** Positions closer than this along the normal are the same slice position. */
const SAME_POSITION_MM = 1e-3;
/** An IPP step may leave the normal by this angle before it counts as gantry tilt (dcm2niix uses a similar bound). */
const TILT_TOLERANCE_DEG = 0.1;

export function sliceNormal(orientation: [Vec3, Vec3]): Vec3 {
  return cross(orientation[0], orientation[1]);
}

/** Relative gap tolerance: the larger of 1% of the typical gap and 0.01 mm absorbs IPP rounding. */
function gapTolerance(step: number): number {
  return Math.max(0.01 * step, 0.01);
}

export function stackGeometry(slices: SlicePlacement[], series: string, options: { correctTilt?: boolean } = {}): StackGeometry {
  if (slices.length === 0) throw new HccError(`${series}: no image slices`);
  const first = slices[0];
  for (const s of slices) {
    if (!s.orientation) throw new HccError(`${s.label}: ImageOrientationPatient (0020,0037) is missing; expected 6 direction cosines`);
    if (!s.position) throw new HccError(`${s.label}: ImagePositionPatient (0020,0032) is missing; expected 3 coordinates in mm`);
    if (!s.pixelSpacing) throw new HccError(`${s.label}: PixelSpacing (0028,0030) is missing; expected 2 values in mm`);
  }
  const [row, col] = first.orientation!;
  for (const s of slices) {
    const [r, c] = s.orientation!;
    const off = Math.max(...[...r, ...c].map((v, i) => Math.abs(v - [...row, ...col][i])));
    if (off > ORIENTATION_TOLERANCE) {
      throw new HccError(`${series}: mixed orientations in one series: ${first.label} has ImageOrientationPatient ${fmt([...row, ...col])} but ${s.label} has ${fmt([...r, ...c])}; expected one orientation per series (choose one stack, e.g. by file)`);
    }
    if (Math.abs(s.pixelSpacing![0] - first.pixelSpacing![0]) > 1e-4 || Math.abs(s.pixelSpacing![1] - first.pixelSpacing![1]) > 1e-4) {
      throw new HccError(`${series}: mixed PixelSpacing: ${first.label} has ${fmt(first.pixelSpacing!)} but ${s.label} has ${fmt(s.pixelSpacing!)}`);
    }
  }
  const normal = sliceNormal([row, col]);
  const distance = slices.map((s) => dot(s.position!, normal));
  const order = distance.map((_, i) => i).sort((a, b) => distance[a] - distance[b]);
  const gaps = order.slice(1).map((idx, k) => distance[idx] - distance[order[k]]);
  for (let k = 0; k < gaps.length; k++) {
    if (gaps[k] < SAME_POSITION_MM) {
      throw new HccError(`${series}: ${slices[order[k]].label} and ${slices[order[k + 1]].label} lie at the same position along the slice normal; the series holds more than one volume (time points, echoes or repeated stacks): split it first`);
    }
  }
  const [dr, dc] = first.pixelSpacing!;
  let step: Vec3;
  if (slices.length === 1) {
    // One slice: no position difference to measure, so the normal with unit length stands in.
    step = normal;
  } else {
    const p0 = slices[order[0]].position!;
    const pn = slices[order[order.length - 1]].position!;
    step = sub(pn, p0).map((v) => v / (slices.length - 1)) as Vec3;
    const angle = tiltAngle(step, normal);
    if (angle > TILT_TOLERANCE_DEG) {
      if (!options.correctTilt) refuseTilt(angle, slices, series);
      const tilt = planTiltCorrection(order.map((i) => slices[i].position!), row, col, normal, dr, dc, series, angle);
      const o = slices[order[0]].position!.map((v, a) => v + tilt.minDrift * col[a]);
      const affineLps: Affine = [
        row[0] * dc, col[0] * dr, normal[0] * tilt.spacing, o[0],
        row[1] * dc, col[1] * dr, normal[1] * tilt.spacing, o[1],
        row[2] * dc, col[2] * dr, normal[2] * tilt.spacing, o[2],
        0, 0, 0, 1,
      ];
      return { order, affineLps, gaps, tilt };
    }
    checkGaps(gaps, order, slices, series);
  }
  const o = slices[order[0]].position!;
  // Column i moves along the row direction by the column spacing; row j along the column direction.
  const affineLps: Affine = [
    row[0] * dc, col[0] * dr, step[0], o[0],
    row[1] * dc, col[1] * dr, step[1], o[1],
    row[2] * dc, col[2] * dr, step[2], o[2],
    0, 0, 0, 1,
  ];
  return { order, affineLps, gaps };
}

function tiltAngle(step: Vec3, normal: Vec3): number {
  return (Math.acos(Math.min(1, Math.abs(dot(step, normal)) / norm(step))) * 180) / Math.PI;
}

function refuseTilt(angle: number, slices: SlicePlacement[], series: string): never {
  const declared = slices.find((s) => s.gantryTilt && Math.abs(s.gantryTilt) > TILT_TOLERANCE_DEG)?.gantryTilt;
  throw new HccError(
    `${series}: gantry tilt: slice positions step ${angle.toFixed(2)} degrees off the slice normal` +
      (declared !== undefined ? ` (GantryDetectorTilt ${declared} degrees)` : '') +
      '; the stack is sheared and no voxel grid fits it. Rerun with --correct-tilt to resample it onto an orthogonal grid (as dcm2niix does), or ask for a reconstruction without tilt',
  );
}

function checkGaps(gaps: number[], order: number[], slices: SlicePlacement[], series: string): void {
  const sorted = [...gaps].sort((a, b) => a - b);
  const typical = sorted[Math.floor(sorted.length / 2)];
  const tol = gapTolerance(typical);
  for (let k = 0; k < gaps.length; k++) {
    const g = gaps[k];
    if (Math.abs(g - typical) <= tol) continue;
    const between = `${slices[order[k]].label} and ${slices[order[k + 1]].label}`;
    const multiple = Math.round(g / typical);
    if (multiple >= 2 && Math.abs(g - multiple * typical) <= tol * multiple) {
      throw new HccError(`${series}: missing slice${multiple > 2 ? 's' : ''}: ${multiple - 1} slice position${multiple > 2 ? 's are' : ' is'} empty between ${between} (gap ${g.toFixed(3)} mm, the series steps ${typical.toFixed(3)} mm)`);
    }
    throw new HccError(`${series}: uneven slice spacing: ${g.toFixed(3)} mm between ${between}, where the series steps ${typical.toFixed(3)} mm; expected equal gaps (one affine cannot describe this stack)`);
  }
}
