import { HccError } from '../util/errors.js';
import { voxelVolumeMm3 } from './affine.js';
import { connectedComponents } from './ops/components.js';
import { countVoxels, labelMask } from './ops/mask-volume.js';
import { ioOrientation } from './orientation.js';
import type { Vec3, Volume } from './volume.js';

/**
 * Tumour burden from a liver/tumour label volume, as CONTRACTS.md ("Image cases") defines it:
 * - count: 26-connected tumour components whose largest axial diameter is at least `minDiameterMm` (1 cm);
 * - largest diameter: the maximum axial in-plane diameter over all tumour components, RECIST-style;
 * - liver occupancy: tumour volume over liver volume, the liver being liver plus tumour voxels (the tumour lies
 *   inside the liver), so the fraction is in [0, 1].
 * "Axial" is the voxel plane closest to the patient's transverse plane (the two voxel axes that do not follow
 * superior-inferior). A component's diameter in one slice is the largest distance between any two corners of
 * its voxels there (the maximal caliper of the pixel footprint, so one 0.8 mm pixel measures 1.13 mm).
 */
export interface TumourMeasurements {
  count: number;
  largestDiameterMm: number;
  /** Largest axial diameter of every tumour component, descending, counted or not. */
  diametersMm: number[];
  tumourVolumeMl: number;
  liverVolumeMl: number;
  /** Tumour / (liver + tumour) volume; null when there is no liver. */
  liverOccupancyFraction: number | null;
}

export interface TumourOptions {
  liverLabel?: number;
  tumourLabel?: number;
  minDiameterMm?: number;
}

/** Convex hull (Andrew's monotone chain) of 2D points given as flat [x0, y0, x1, y1, ...]. */
function hull(points: number[]): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += 2) pts.push([points[i]!, points[i + 1]!]);
  pts.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (pts.length < 3) return pts;
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Array<[number, number]> = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Array<[number, number]> = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

function diameter(points: number[]): number {
  const h = hull(points);
  let best = 0;
  for (let a = 0; a < h.length; a++) for (let b = a + 1; b < h.length; b++) {
    best = Math.max(best, Math.hypot(h[a]![0] - h[b]![0], h[a]![1] - h[b]![1]));
  }
  return best;
}

export function measureTumours(labels: Volume, options: TumourOptions = {}): TumourMeasurements {
  const liverLabel = options.liverLabel ?? 1;
  const tumourLabel = options.tumourLabel ?? 2;
  const minDiameter = options.minDiameterMm ?? 10;
  const diametersMm = tumourComponents(labels, tumourLabel).diametersMm.slice(1).sort((x, y) => y - x);
  const voxelMl = voxelVolumeMm3(labels.affine) / 1000;
  const tumourVolumeMl = countVoxels(labels.data, tumourLabel) * voxelMl;
  const liverVolumeMl = countVoxels(labels.data, liverLabel) * voxelMl + tumourVolumeMl;
  return {
    count: diametersMm.filter((d) => d >= minDiameter).length,
    largestDiameterMm: diametersMm[0] ?? 0,
    diametersMm,
    tumourVolumeMl,
    liverVolumeMl,
    liverOccupancyFraction: liverVolumeMl > 0 ? tumourVolumeMl / liverVolumeMl : null,
  };
}

/**
 * The 26-connected components of `tumourLabel` (numbered as `connectedComponents` numbers them) and the largest
 * axial diameter of each, indexed by component (index 0 unused).
 */
export function tumourComponents(labels: Volume, tumourLabel = 2): { labels: Int32Array; count: number; diametersMm: number[] } {
  const { shape, affine } = labels;
  const [nx, ny] = shape;
  const orientation = ioOrientation(affine);
  const sliceAxis = orientation.findIndex((o) => o.worldAxis === 2);
  if (sliceAxis < 0) throw new HccError('tumour measurement: no voxel axis follows superior-inferior');
  const [ua, va] = [0, 1, 2].filter((a) => a !== sliceAxis) as [number, number];
  // An orthonormal basis of the axial voxel plane, so oblique or sheared grids measure true millimetres.
  const col = (a: number): Vec3 => [affine[a]!, affine[4 + a]!, affine[8 + a]!];
  const u = col(ua), v = col(va);
  const un = Math.hypot(...u);
  const e1 = u.map((x) => x / un) as Vec3;
  const vDotE1 = v[0] * e1[0] + v[1] * e1[1] + v[2] * e1[2];
  const vPerp = v.map((x, d) => x - vDotE1 * e1[d]!);
  const vPerpNorm = Math.hypot(...vPerp);
  // Plane coordinates of voxel-plane point (a, b): (a·|u| + b·(v·e1), b·|v⊥|).
  const toPlane = (a: number, b: number): [number, number] => [a * un + b * vDotE1, b * vPerpNorm];

  const { labels: comp, count } = connectedComponents(labelMask(labels.data, tumourLabel), shape, 26);
  // Corner points of each component's boundary pixels, per component and slice.
  const corners = new Map<string, number[]>();
  const strides = [1, nx, nx * ny];
  const su = strides[ua]!, sv = strides[va]!;
  const lastA = shape[ua]! - 1, lastB = shape[va]! - 1;
  let p = 0;
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++, p++) {
    const c = comp[p]!;
    if (!c) continue;
    const idx = [i, j, k];
    const a = idx[ua]!, b = idx[va]!;
    // Interior pixels cannot be on the hull; only boundary pixels contribute corners.
    const interior = a > 0 && a < lastA && b > 0 && b < lastB &&
      comp[p - su] === c && comp[p + su] === c && comp[p - sv] === c && comp[p + sv] === c;
    if (interior) continue;
    const key = `${c}:${idx[sliceAxis]}`;
    let list = corners.get(key);
    if (!list) corners.set(key, (list = []));
    for (const [da, db] of [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]] as const) list.push(...toPlane(a + da, b + db));
  }
  const diametersMm = new Array<number>(count + 1).fill(0);
  for (const [key, pts] of corners) {
    const c = Number(key.slice(0, key.indexOf(':')));
    diametersMm[c] = Math.max(diametersMm[c]!, diameter(pts));
  }
  return { labels: comp, count, diametersMm };
}
