import { Rng } from '../../util/rng.js';
import type { ImageGrid } from '../patient.js';
import { HccError } from '../../util/errors.js';

/**
 * Scanner sites and image grids. A site is what differs between hospitals in a multicentre study: noise level
 * (dose and reconstruction), kernel sharpness, slice thickness and contrast timing. `--site NAME` with any name
 * gives a reproducible site drawn from the name, so external test cohorts need no configuration file.
 */
export interface SiteProfile {
  name: string;
  /** Per-scan image noise SD is drawn uniformly in this range (HU). */
  noiseSdHu: [number, number];
  /** In-plane point-spread FWHM of the reconstruction kernel (mm): smaller is sharper. */
  kernelFwhmMm: number;
  /** Slice thicknesses a clinical-grid scan draws from (mm); the slice spacing equals the thickness. */
  sliceThicknessMm: number[];
  /** Scan delays after injection (s); §3: late arterial 30-40 s, portal-venous 70-80 s. */
  arterialDelayS: number;
  portalDelayS: number;
}

/** §3: σ ~ U(8, 16) HU, 512² at 0.6-0.9 mm, slices {1, 1.25, 2.5, 5} mm, AP ~35 s, PV ~70 s. */
export const DEFAULT_SITE: SiteProfile = {
  name: 'default',
  noiseSdHu: [8, 16],
  kernelFwhmMm: 1.0,
  sliceThicknessMm: [1.0, 1.25, 2.5, 5.0],
  arterialDelayS: 35,
  portalDelayS: 70,
};

/** The site called `name`: the default for null or 'default', otherwise a profile drawn from the name alone. */
export function siteProfile(name: string | null): SiteProfile {
  if (name === null || name === 'default') return DEFAULT_SITE;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new HccError(`--site: expected a name of letters, digits, '.', '_' or '-' (at most 64), got '${name}'`);
  }
  const rng = Rng.stream(0x5173, 'site', name);
  const lowDose = rng.uniform();
  const lo = 7 + 5 * lowDose;
  const thick = rng.int(3);
  return {
    name,
    noiseSdHu: [lo, lo + rng.uniformIn(3, 6)],
    kernelFwhmMm: rng.uniformIn(0.7, 1.5),
    sliceThicknessMm: [[1.0, 1.25], [2.0, 2.5, 3.0], [3.0, 5.0]][thick]!,
    arterialDelayS: rng.uniformIn(28, 45),
    portalDelayS: rng.uniformIn(60, 85),
  };
}

/** Where voxels sit: shape, spacing and the RAS+ affine (diagonal; the volume is centred on the body). */
export interface ScanGrid {
  shape: [number, number, number];
  spacing: [number, number, number];
  /** World coordinate (mm) of voxel (0, 0, 0). */
  origin: [number, number, number];
  affine: number[];
  /** Effective slice thickness (mm), which may exceed the spacing on the fixed-spacing grids. */
  sliceThicknessMm: number;
}

/**
 * The grid for one scan. `bodyHalfWidthMm` lets the clinical grid pick its field of view as a technologist
 * would (the body plus a margin, within 0.6-0.9 mm pixels); `zCentreMm` and `zExtentMm` cover the liver.
 */
export function scanGrid(
  grid: ImageGrid,
  site: SiteProfile,
  bodyHalfWidthMm: number,
  zCentreMm: number,
  zExtentMm: number,
  rng: Rng,
): ScanGrid {
  let shape: [number, number, number];
  let spacing: [number, number, number];
  let thickness: number;
  if (grid === 'clinical') {
    const pixel = Math.min(0.9, Math.max(0.6, (2 * (bodyHalfWidthMm + 25)) / 512));
    thickness = site.sliceThicknessMm[rng.int(site.sliceThicknessMm.length)]!;
    spacing = [pixel, pixel, thickness];
    shape = [512, 512, Math.ceil(zExtentMm / thickness)];
  } else if (grid === 'small') {
    spacing = [1.5, 1.5, 2.5];
    shape = [256, 256, 88];
    thickness = Math.max(2.5, Math.min(5, site.sliceThicknessMm[0]!));
  } else if (grid === 'tiny') {
    spacing = [6, 6, 8];
    shape = [64, 64, 24];
    thickness = 8;
  } else {
    throw new HccError(`--grid: expected clinical, small or tiny, got '${String(grid)}'`);
  }
  const origin: [number, number, number] = [
    -((shape[0] - 1) * spacing[0]) / 2,
    -((shape[1] - 1) * spacing[1]) / 2,
    zCentreMm - ((shape[2] - 1) * spacing[2]) / 2,
  ];
  const affine = [spacing[0], 0, 0, origin[0], 0, spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2], 0, 0, 0, 1];
  return { shape, spacing, origin, affine, sliceThicknessMm: thickness };
}
