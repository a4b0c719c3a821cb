import type { Vec3 } from '../../imaging/volume.js';
import type { TumourCrop } from '../crop.js';

/**
 * Radiomics-style features of the tumour on a PMN crop, for the baseline the PMN must beat (issue 7): first-order
 * statistics of each phase inside the tumour, the peritumoral rim (a 2-voxel shell, where corona enhancement and
 * capsules live), washout (portal-venous minus arterial), shape (volume, surface, sphericity), and GLCM texture
 * of the arterial phase (IBSI definitions: 32 fixed-width bins, 13 directions, symmetric, averaged over
 * directions). Names are stable, so a model trained on them can be stored and reapplied.
 */
export const GLCM_BINS = 32;
const GLCM_RANGE: [number, number] = [-100, 300];

function firstOrder(values: number[], prefix: string): Record<string, number> {
  const n = values.length;
  if (n === 0) return { [`${prefix}_mean`]: NaN, [`${prefix}_sd`]: NaN, [`${prefix}_skewness`]: NaN, [`${prefix}_kurtosis`]: NaN, [`${prefix}_p10`]: NaN, [`${prefix}_p50`]: NaN, [`${prefix}_p90`]: NaN, [`${prefix}_entropy`]: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (const v of values) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n; m3 /= n; m4 /= n;
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * (n - 1) + 0.5))]!;
  // Entropy of the 25 HU-wide histogram, the common default bin width for CT.
  const hist = new Map<number, number>();
  for (const v of values) hist.set(Math.floor(v / 25), (hist.get(Math.floor(v / 25)) ?? 0) + 1);
  let entropy = 0;
  for (const c of hist.values()) entropy -= (c / n) * Math.log2(c / n);
  return {
    [`${prefix}_mean`]: mean,
    [`${prefix}_sd`]: Math.sqrt(m2),
    [`${prefix}_skewness`]: m2 > 0 ? m3 / m2 ** 1.5 : 0,
    [`${prefix}_kurtosis`]: m2 > 0 ? m4 / (m2 * m2) : 0,
    [`${prefix}_p10`]: q(0.1),
    [`${prefix}_p50`]: q(0.5),
    [`${prefix}_p90`]: q(0.9),
    [`${prefix}_entropy`]: entropy,
  };
}

/** Voxels of the mask dilated by `r` voxels (26-neighbourhood), minus the mask: the rim. */
export function shell(mask: Uint8Array, size: Vec3, r: number): Uint8Array {
  const [nx, ny, nz] = size;
  let cur = mask;
  for (let step = 0; step < r; step++) {
    const next = Uint8Array.from(cur);
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      if (!cur[i + nx * (j + ny * k)]) continue;
      for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
        const a = i + di, b = j + dj, c = k + dk;
        if (a >= 0 && a < nx && b >= 0 && b < ny && c >= 0 && c < nz) next[a + nx * (b + ny * c)] = 1;
      }
    }
    cur = next;
  }
  return cur.map((v, p) => (v && !mask[p] ? 1 : 0));
}

/** Surface area by counting exposed voxel faces (mm^2): simple and exactly reproducible. */
function surfaceArea(mask: Uint8Array, size: Vec3, spacing: Vec3): number {
  const [nx, ny, nz] = size;
  const [sx, sy, sz] = spacing;
  const at = (i: number, j: number, k: number) => (i >= 0 && i < nx && j >= 0 && j < ny && k >= 0 && k < nz ? mask[i + nx * (j + ny * k)]! : 0);
  let area = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    if (!at(i, j, k)) continue;
    area += (at(i - 1, j, k) ? 0 : sy * sz) + (at(i + 1, j, k) ? 0 : sy * sz);
    area += (at(i, j - 1, k) ? 0 : sx * sz) + (at(i, j + 1, k) ? 0 : sx * sz);
    area += (at(i, j, k - 1) ? 0 : sx * sy) + (at(i, j, k + 1) ? 0 : sx * sy);
  }
  return area;
}

/** The 13 unique directions of the 26-neighbourhood. */
const DIRECTIONS: Vec3[] = [
  [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -1, 0], [1, 0, 1], [1, 0, -1], [0, 1, 1], [0, 1, -1], [1, 1, 1], [1, 1, -1], [1, -1, 1], [1, -1, -1],
];

export function glcmFeatures(image: Float32Array, mask: Uint8Array, size: Vec3): Record<string, number> {
  const [nx, ny, nz] = size;
  const bin = (v: number) => Math.min(GLCM_BINS - 1, Math.max(0, Math.floor(((v - GLCM_RANGE[0]) / (GLCM_RANGE[1] - GLCM_RANGE[0])) * GLCM_BINS)));
  const sums = { contrast: 0, correlation: 0, energy: 0, homogeneity: 0, entropy: 0, dissimilarity: 0 };
  let used = 0;
  for (const [di, dj, dk] of DIRECTIONS) {
    const m = new Float64Array(GLCM_BINS * GLCM_BINS);
    let total = 0;
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const p = i + nx * (j + ny * k);
      if (!mask[p]) continue;
      const a = i + di, b = j + dj, c = k + dk;
      if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
      const q = a + nx * (b + ny * c);
      if (!mask[q]) continue;
      const g1 = bin(image[p]!), g2 = bin(image[q]!);
      m[g1 * GLCM_BINS + g2]! += 1;
      m[g2 * GLCM_BINS + g1]! += 1;
      total += 2;
    }
    if (total === 0) continue;
    used++;
    let mu = 0;
    for (let x = 0; x < GLCM_BINS; x++) for (let y = 0; y < GLCM_BINS; y++) mu += (x + 1) * (m[x * GLCM_BINS + y]! / total);
    let variance = 0;
    for (let x = 0; x < GLCM_BINS; x++) for (let y = 0; y < GLCM_BINS; y++) variance += (x + 1 - mu) ** 2 * (m[x * GLCM_BINS + y]! / total);
    for (let x = 0; x < GLCM_BINS; x++) for (let y = 0; y < GLCM_BINS; y++) {
      const pxy = m[x * GLCM_BINS + y]! / total;
      if (pxy === 0) continue;
      const d = Math.abs(x - y);
      sums.contrast += d * d * pxy;
      sums.dissimilarity += d * pxy;
      sums.energy += pxy * pxy;
      sums.homogeneity += pxy / (1 + d);
      sums.entropy -= pxy * Math.log2(pxy);
      // The matrix is symmetric, so the marginal means and variances are equal.
      sums.correlation += variance > 0 ? ((x + 1 - mu) * (y + 1 - mu) * pxy) / variance : 1;
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [`glcm_${k}`, used ? v / used : NaN]));
}

export function radiomicsFeatures(crop: TumourCrop): Record<string, number> {
  const inside = (m: Uint8Array, img: Float32Array) => Array.from(img).filter((_, p) => m[p]);
  const rim = shell(crop.tumour, crop.size, 2).map((v, p) => (v && crop.liver[p] ? 1 : 0));
  const volumeMm3 = crop.tumour.reduce((s, v) => s + v, 0) * crop.spacing[0] * crop.spacing[1] * crop.spacing[2];
  const area = surfaceArea(crop.tumour, crop.size, crop.spacing);
  const art = firstOrder(inside(crop.tumour, crop.art), 'art');
  const pv = firstOrder(inside(crop.tumour, crop.pv), 'pv');
  const rimArt = firstOrder(inside(rim, crop.art), 'rim_art');
  const rimPv = firstOrder(inside(rim, crop.pv), 'rim_pv');
  return {
    ...art,
    ...pv,
    rim_art_mean: rimArt['rim_art_mean']!,
    rim_art_sd: rimArt['rim_art_sd']!,
    rim_pv_mean: rimPv['rim_pv_mean']!,
    washout: pv['pv_mean']! - art['art_mean']!,
    rim_minus_core_art: rimArt['rim_art_mean']! - art['art_mean']!,
    volume_ml: volumeMm3 / 1000,
    surface_mm2: area,
    sphericity: area > 0 ? (Math.cbrt(Math.PI) * Math.pow(6 * volumeMm3, 2 / 3)) / area : NaN,
    ...glcmFeatures(crop.art, crop.tumour, crop.size),
  };
}
