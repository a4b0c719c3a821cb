import { connectedComponents } from '../imaging/ops/components.js';
import { labelMask } from '../imaging/ops/mask-volume.js';
import { resampleImageToGrid, resampleLabelsToGrid, type Grid } from '../imaging/ops/resample.js';
import type { Vec3, Volume } from '../imaging/volume.js';
import { HccError } from '../util/errors.js';
import { DEFAULT_CONFIG, type PmnConfig } from './config.js';

/**
 * The PMN's input (pmn-design.md §5.1): a tumour-centred crop of both phases and the tumour mask on a fixed
 * RAS-aligned grid (1.5 x 1.5 x 2.5 mm by default), sampled in world coordinates, so the two phases are
 * registered through their own affines and any stored orientation gives the same crop. When the tumour plus
 * a 1 cm margin does not fit the network's field of view, the spacing is scaled up by s > 1 and s is recorded
 * (size stays known to the nomogram through the clinical diameter).
 */
export interface CropSpec {
  /** Voxels along x, y, z of the RAS grid. */
  size: Vec3;
  /** mm along x, y, z before any scaling. */
  spacing: Vec3;
  /** Peritumoral margin kept around the tumour, mm. */
  marginMm: number;
  /**
   * Voxels along x, y, z that the tumour plus the margin on both sides must fit in (default: size). The network
   * input is cut from the crop with a jitter margin, so this is the input size, not the crop size: fitting the
   * crop instead lets the input cut off the tumour's edge, where rim, capsule, margin and corona are drawn.
   */
  fit?: Vec3;
}

/**
 * The crop a PMN configuration reads: its input size plus a jitter margin of 1/16 of the input on each side
 * (64x64x32 -> 72x72x36, the design note's pre-stored crop), at the configuration's spacing, with the tumour
 * and a 1 cm margin fitted into the input itself.
 */
export function cropSpecFor(config: Pick<PmnConfig, 'inputSize' | 'spacingMm'>): CropSpec {
  return {
    size: config.inputSize.map((s) => s + 2 * Math.ceil(s / 16)) as Vec3,
    spacing: [...config.spacingMm],
    marginMm: 10,
    fit: [...config.inputSize],
  };
}

export const DEFAULT_CROP: CropSpec = cropSpecFor(DEFAULT_CONFIG);

export interface TumourCrop {
  size: Vec3;
  spacing: Vec3;
  /** Spacing scale applied so the tumour fits (1 when it fitted). */
  scale: number;
  /** World (RAS mm) position of the crop centre: the tumour's centroid. */
  centre: Vec3;
  /** x fastest, like Volume data: index i + nx * (j + ny * k). */
  art: Float32Array;
  pv: Float32Array;
  /** 1 inside the selected tumour. */
  tumour: Uint8Array;
  /** 1 inside the liver (label 1 or 2). */
  liver: Uint8Array;
  /** Voxel-to-world affine of the crop grid (for mapping explanations back onto the CT). */
  affine: number[];
}

interface TumourComponent {
  voxels: number;
  centroid: Vec3;
  /** World-space extent along x, y, z (mm). */
  extent: Vec3;
}

function tumourComponents(label: Volume, tumourLabel: number): TumourComponent[] {
  const [nx, ny, nz] = label.shape;
  const cc = connectedComponents(labelMask(label.data, tumourLabel), label.shape, 26);
  const acc = Array.from({ length: cc.count + 1 }, () => ({ n: 0, sum: [0, 0, 0], min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] }));
  const A = label.affine;
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    const c = cc.labels[p]!;
    if (c === 0) continue;
    const a = acc[c]!;
    a.n++;
    for (let d = 0; d < 3; d++) {
      // voxelToWorld inlined: this runs for every tumour voxel of the whole CT.
      const w = A[4 * d]! * i + A[4 * d + 1]! * j + A[4 * d + 2]! * k + A[4 * d + 3]!;
      a.sum[d]! += w;
      if (w < a.min[d]!) a.min[d] = w;
      if (w > a.max[d]!) a.max[d] = w;
    }
  }
  return acc.slice(1).map((a) => ({
    voxels: a.n,
    centroid: a.sum.map((s) => s / a.n) as Vec3,
    extent: a.max.map((m, d) => m - a.min[d]!) as Vec3,
  }));
}

/** The crop grid centred at `centre`: RAS-aligned axes, so +x is patient right and the crop is canonical. */
function cropGrid(centre: Vec3, size: Vec3, spacing: Vec3): Grid {
  const origin = centre.map((c, d) => c - ((size[d]! - 1) / 2) * spacing[d]!) as Vec3;
  return {
    shape: size,
    affine: [spacing[0], 0, 0, origin[0], 0, spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2], 0, 0, 0, 1],
  };
}

export function tumourCrop(art: Volume, pv: Volume, label: Volume, spec: CropSpec = DEFAULT_CROP, options: { tumourLabel?: number; source?: string } = {}): TumourCrop {
  const source = options.source ?? 'case';
  const components = tumourComponents(label, options.tumourLabel ?? 2);
  if (components.length === 0) {
    throw new HccError(`${source}: the mask has no tumour (label ${options.tumourLabel ?? 2}); the PMN reads the tumour region and needs one`);
  }
  const largest = components.reduce((a, b) => (b.voxels > a.voxels ? b : a));
  // Scale the spacing when tumour + margin on both sides exceeds the field of view along any axis.
  const fit = spec.fit ?? spec.size;
  const needed = largest.extent.map((e, d) => (e + 2 * spec.marginMm) / (fit[d]! * spec.spacing[d]!));
  const scale = Math.max(1, ...needed);
  const spacing = spec.spacing.map((s) => s * scale) as Vec3;
  const grid = cropGrid(largest.centroid, spec.size, spacing);
  const labels = resampleLabelsToGrid(label, grid, 'nearest');
  const n = spec.size[0] * spec.size[1] * spec.size[2];
  const tumour = new Uint8Array(n);
  const liver = new Uint8Array(n);
  // Keep only the selected tumour: the crop component containing the voxel nearest the centroid.
  const cc = connectedComponents(labelMask(labels.data, options.tumourLabel ?? 2), spec.size, 26);
  const [cx, cy, cz] = spec.size.map((s) => Math.floor(s / 2));
  let keep = cc.labels[cx! + spec.size[0] * (cy! + spec.size[1] * cz!)]!;
  if (keep === 0) keep = cc.sizes.indexOf(Math.max(...cc.sizes.slice(1)));
  for (let p = 0; p < n; p++) {
    const v = Number(labels.data[p]);
    liver[p] = v === 1 || v === (options.tumourLabel ?? 2) ? 1 : 0;
    tumour[p] = cc.labels[p] === keep ? 1 : 0;
  }
  return {
    size: spec.size,
    spacing,
    scale,
    centre: largest.centroid,
    art: resampleImageToGrid(art, grid, 1, { fill: -1000 }).data,
    pv: resampleImageToGrid(pv, grid, 1, { fill: -1000 }).data,
    tumour,
    liver,
    affine: grid.affine,
  };
}
