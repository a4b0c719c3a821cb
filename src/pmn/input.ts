import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { casePaths } from '../imaging/case.js';
import { readNiftiSync } from '../imaging/nifti/read.js';
import { connectedComponents } from '../imaging/ops/components.js';
import { labelMask } from '../imaging/ops/mask-volume.js';
import { segmentCase } from '../segmentation/infer.js';
import { loadSegmentationModel, type SegmentationModel } from '../segmentation/model.js';
import { HccError } from '../util/errors.js';
import { hashFile, hashJson } from '../util/hash.js';
import type { Rng } from '../util/rng.js';
import { DEFAULT_CROP, tumourCrop, type CropSpec, type TumourCrop } from './crop.js';
import { cropPath, saveCrop } from './crop-store.js';
import { DEFAULT_AUGMENTATION, type AugmentationRanges, type PmnConfig } from './config.js';

/**
 * Where a case's images are: a pre-stored crop (the study's imaging stage writes `<crops>/<id>.crop`), or the
 * CONTRACTS.md case files `<prefix>_art.nii.gz`, `<prefix>_pv.nii.gz` and a mask: the cohort's label map, a
 * predicted mask file, or a segmentation model run on the two phases (so training and use see the same masks).
 */
export type CaseSource =
  | { id: string; crop: string }
  | { id: string; art: string; pv: string; mask: string }
  | { id: string; art: string; pv: string; segModel: string };

/**
 * Resolves a cohort folder's case: `<dir>/crops/<id>.crop` if present (unless `crops` is null: the images are
 * needed), else `<images>/<id>_*.nii.gz` with `images` defaulting to `<dir>/images`.
 */
export function cohortCase(dir: string, id: string, options: { crops?: string | null; images?: string; maskPath?: string; segModel?: string } = {}): CaseSource {
  const crop = options.crops === null ? null : cropPath(options.crops ?? join(dir, 'crops'), id);
  if (crop && existsSync(crop) && !options.maskPath && !options.segModel) return { id, crop };
  const base = join(options.images ?? join(dir, 'images'), id);
  const files = casePaths(base);
  const phases = { id, art: files.art, pv: files.pv };
  return options.segModel ? { ...phases, segModel: options.segModel } : { ...phases, mask: options.maskPath ?? files.label };
}

/** Case files named by a path prefix (CONTRACTS.md): P_art.nii.gz, P_pv.nii.gz, P_label.nii.gz. */
export function prefixCase(prefix: string, id = prefix.split('/').pop()!, maskPath?: string): CaseSource {
  const files = casePaths(prefix);
  return { id, art: files.art, pv: files.pv, mask: maskPath ?? files.label };
}

function checkExists(id: string, what: string, path: string): void {
  if (!existsSync(path)) throw new HccError(`case ${id}: the ${what} is missing (${path} does not exist); the PMN needs the arterial and portal-venous phases and a tumour mask`);
}

/**
 * The crop file for a case, made once: crops from NIfTIs are cached under `cacheDir` keyed by the content hash
 * of the three image files and the crop spec, so reruns and other models never resample the CT again.
 */
export async function ensureCrop(source: CaseSource, cacheDir: string, spec: CropSpec = DEFAULT_CROP): Promise<string> {
  if ('crop' in source) {
    checkExists(source.id, 'crop file', source.crop);
    return source.crop;
  }
  checkExists(source.id, 'arterial phase', source.art);
  checkExists(source.id, 'portal-venous phase', source.pv);
  // A segmentation model is identified by its model.json (hcc) or plans.json (nnU-Net results folder).
  const maskFile = 'mask' in source ? source.mask : [join(source.segModel, 'model.json'), join(source.segModel, 'plans.json')].find(existsSync);
  if (maskFile === undefined) throw new HccError(`case ${source.id}: ${(source as { segModel: string }).segModel} is not a segmentation model folder (no model.json or plans.json)`);
  checkExists(source.id, 'tumour mask', maskFile);
  const key = hashJson({ art: await hashFile(source.art), pv: await hashFile(source.pv), mask: await hashFile(maskFile), spec, version: 1 });
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `${key.slice(0, 32)}.crop`);
  if (!existsSync(path)) {
    const art = readNiftiSync(source.art);
    const pv = readNiftiSync(source.pv);
    const label = 'mask' in source ? readNiftiSync(source.mask) : segmentCase(segmentationModel(source.segModel), { art, pv }).labels;
    const where = 'mask' in source ? source.mask : `mask predicted by ${source.segModel}`;
    saveCrop(path, tumourCrop(art, pv, label, spec, { source: `case ${source.id} (${where})` }));
  }
  return path;
}

/** Tumours smaller than a 1 cm sphere are not scored on their own (CONTRACTS.md counts tumours ≥ 1 cm). */
const MIN_TUMOUR_MM3 = (4 / 3) * Math.PI * 5 ** 3;

/**
 * One crop per tumour (the `tumours: 'all'` option): each 26-connected tumour component of at least 1 cm gets
 * its own crop, centred on it, with the other tumours relabelled as liver so the mask channel shows only it.
 * Largest first; cached like ensureCrop. Needs the case's NIfTI files and a mask file.
 */
export async function ensureTumourCrops(source: CaseSource, cacheDir: string, spec: CropSpec = DEFAULT_CROP): Promise<string[]> {
  if ('crop' in source) throw new HccError(`case ${source.id}: scoring every tumour needs the case's images and mask; ${source.crop} is a stored crop of the largest tumour only`);
  if ('segModel' in source) throw new HccError(`case ${source.id}: scoring every tumour needs a mask file; segment the case first ('hcc segment') and pass the mask instead of the segmentation model ${source.segModel}`);
  checkExists(source.id, 'arterial phase', source.art);
  checkExists(source.id, 'portal-venous phase', source.pv);
  checkExists(source.id, 'tumour mask', source.mask);
  const label = readNiftiSync(source.mask);
  const cc = connectedComponents(labelMask(label.data, 2), label.shape, 26);
  const voxelMm3 = label.spacing[0] * label.spacing[1] * label.spacing[2];
  const order = cc.sizes.map((n, k) => [n, k] as const).slice(1).filter(([n]) => n * voxelMm3 >= MIN_TUMOUR_MM3).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  if (order.length <= 1) return [await ensureCrop(source, cacheDir, spec)];
  const key = hashJson({ art: await hashFile(source.art), pv: await hashFile(source.pv), mask: await hashFile(source.mask), spec, version: 1, all: true });
  mkdirSync(cacheDir, { recursive: true });
  const paths = order.map((_, r) => join(cacheDir, `${key.slice(0, 32)}_t${r}.crop`));
  if (!paths.every(existsSync)) {
    const art = readNiftiSync(source.art);
    const pv = readNiftiSync(source.pv);
    order.forEach(([, k], r) => {
      // The other tumours become liver, so the crop sees this one alone (a plain loop: Uint8Array.from with a
      // mapping function costs about 100 ns a voxel).
      const data = new Uint8Array(label.data.length);
      for (let p = 0; p < data.length; p++) {
        const v = label.data[p]!;
        data[p] = v === 2 && cc.labels[p] !== k ? 1 : v;
      }
      const only = { ...label, data };
      saveCrop(paths[r]!, tumourCrop(art, pv, only, spec, { source: `case ${source.id} (${source.mask}), tumour ${r + 1}` }));
    });
  }
  return paths;
}

const segmentationModels = new Map<string, SegmentationModel>();

/** Segmentation models stay loaded for the process: a cohort is segmented case after case with the same one. */
function segmentationModel(dir: string): SegmentationModel {
  let m = segmentationModels.get(dir);
  if (!m) {
    m = loadSegmentationModel(dir);
    segmentationModels.set(dir, m);
  }
  return m;
}

/** Intensity normalisation stored with the model: clip, then z-score per phase with training liver statistics. */
export interface Normalisation {
  clipHu: [number, number];
  art: { mean: number; sd: number };
  pv: { mean: number; sd: number };
}

/** Mean and SD of the clipped HU inside the liver mask over the given (training) crops. */
export function liverStatistics(crops: Iterable<TumourCrop>, clipHu: [number, number]): Normalisation {
  const acc = { art: [0, 0, 0], pv: [0, 0, 0] };
  for (const crop of crops) {
    for (let p = 0; p < crop.liver.length; p++) {
      if (!crop.liver[p]) continue;
      for (const phase of ['art', 'pv'] as const) {
        const v = Math.min(clipHu[1], Math.max(clipHu[0], crop[phase][p]!));
        const a = acc[phase];
        a[0]!++;
        a[1]! += v;
        a[2]! += v * v;
      }
    }
  }
  const stat = ([n, s, ss]: number[]) => {
    if (!n) throw new HccError('normalisation: the training crops contain no liver voxels (liver mask empty)');
    const mean = s! / n;
    return { mean, sd: Math.sqrt(Math.max(ss! / n - mean * mean, 1e-6)) };
  };
  return { clipHu, art: stat(acc.art), pv: stat(acc.pv) };
}

export interface Augmentation {
  offset: [number, number, number];
  flipX: boolean;
  flipY: boolean;
  /** Quarter turns in the axial plane (only for square inputs). */
  rot90: number;
  /** In-plane rotation (radians) and zoom about the input centre, or null (applied with p = 0.5). */
  affine: { angle: number; zoom: number } | null;
  scale: [number, number];
  shift: [number, number];
  noise: number;
}

/**
 * Training augmentation (pmn-design.md §5.5): jitter crop, flips, axial quarter turns, with p = 0.5 an in-plane
 * rotation of ±10° and zoom 0.9–1.1 (bilinear for the phases, nearest for the mask), intensity, noise; the
 * ranges are configurable (the draws are made in the same order whatever they are).
 */
export function drawAugmentation(config: PmnConfig, cropSize: [number, number, number], rng: Rng, ranges: AugmentationRanges = DEFAULT_AUGMENTATION): Augmentation {
  const r = ranges;
  return {
    offset: [0, 1, 2].map((d) => rng.int(cropSize[d]! - config.inputSize[d]! + 1)) as [number, number, number],
    flipX: rng.bernoulli(0.5),
    flipY: rng.bernoulli(0.5),
    rot90: config.inputSize[0] === config.inputSize[1] ? rng.int(4) : 0,
    affine: rng.bernoulli(r.affineProbability) ? { angle: (rng.uniformIn(-r.rotationDeg, r.rotationDeg) * Math.PI) / 180, zoom: rng.uniformIn(1 - r.zoom, 1 + r.zoom) } : null,
    scale: [rng.uniformIn(1 - r.intensityScale, 1 + r.intensityScale), rng.uniformIn(1 - r.intensityScale, 1 + r.intensityScale)],
    shift: [rng.uniformIn(-r.intensityShift, r.intensityShift), rng.uniformIn(-r.intensityShift, r.intensityShift)],
    noise: r.noise,
  };
}

/** One of the axial symmetries training draws: quarter turns in the axial plane, then mirrors. */
export interface Symmetry {
  rot90: number;
  flipX: boolean;
  flipY: boolean;
}

/**
 * The distinct axial symmetries the training augmentation covers, identity first, for test-time augmentation:
 * on a square input the 8 of the square (4 quarter turns, each also mirrored in x; a y mirror equals a turn
 * plus an x mirror), otherwise the 4 of the mirrors alone (training turns only square inputs).
 */
export function axialSymmetries(config: PmnConfig): Symmetry[] {
  const square = config.inputSize[0] === config.inputSize[1];
  const out: Symmetry[] = [];
  for (const flipX of [false, true]) {
    if (square) for (let rot90 = 0; rot90 < 4; rot90++) out.push({ rot90, flipX, flipY: false });
    else for (const flipY of [false, true]) out.push({ rot90: 0, flipX, flipY });
  }
  return out;
}

/** The un-augmented central input seen through a symmetry: no jitter, affine, intensity change or noise. */
export function symmetryAugmentation(config: PmnConfig, cropSize: [number, number, number], s: Symmetry): Augmentation {
  return { offset: centreOffset(config, cropSize), ...s, affine: null, scale: [1, 1], shift: [0, 0], noise: 0 };
}

export function centreOffset(config: PmnConfig, cropSize: [number, number, number]): [number, number, number] {
  return [0, 1, 2].map((d) => Math.floor((cropSize[d]! - config.inputSize[d]!) / 2)) as [number, number, number];
}

/**
 * Writes one case's network input [C, Z, Y, X] (x fastest) into `out`: [AP, PVP, tumour mask (, liver)] cut
 * from the crop at the augmentation's offset (the centre when `aug` is null).
 */
export function fillInput(out: Float32Array, crop: TumourCrop, norm: Normalisation, config: PmnConfig, aug: Augmentation | null, rng: Rng | null, source = 'crop'): void {
  const [cx, cy, cz] = crop.size;
  const [nx, ny, nz] = config.inputSize;
  if (cx < nx || cy < ny || cz < nz) throw new HccError(`${source}: crop ${crop.size.join('x')} is smaller than the model's input ${config.inputSize.join('x')}`);
  const base = crop.spacing.map((s) => s / crop.scale);
  if (base.some((s, d) => Math.abs(s - config.spacingMm[d]!) > 1e-3 * config.spacingMm[d]!)) {
    throw new HccError(`${source}: crop spacing ${base.map((s) => +s.toFixed(4)).join(' x ')} mm (before scaling), the model reads ${config.spacingMm.join(' x ')} mm; crop the case with the model's crop spec (cropSpecFor)`);
  }
  const [ox, oy, oz] = aug?.offset ?? centreOffset(config, crop.size);
  const plane = nx * ny;
  const n = plane * nz;
  // The in-plane geometry is the same on every slice: output (x, y) reads the crop at a continuous (fx, fy), the
  // rotation/zoom about the centre, then the quarter turns and flips, then the jitter offset, clamped to the crop
  // (which has a margin around the input). Bilinear corner, weights and nearest voxel per output pixel.
  const corner = new Int32Array(plane);
  const nearest = new Int32Array(plane);
  const wxs = new Float64Array(plane);
  const wys = new Float64Array(plane);
  const cos = aug?.affine ? Math.cos(aug.affine.angle) / aug.affine.zoom : 1;
  const sin = aug?.affine ? Math.sin(aug.affine.angle) / aug.affine.zoom : 0;
  const mx = (nx - 1) / 2;
  const my = (ny - 1) / 2;
  const turns = aug?.rot90 ?? 0;
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      let sx = mx + cos * (x - mx) - sin * (y - my);
      let sy = my + sin * (x - mx) + cos * (y - my);
      for (let r = 0; r < turns; r++) {
        const t = sx;
        sx = sy;
        sy = nx - 1 - t;
      }
      if (aug?.flipX) sx = nx - 1 - sx;
      if (aug?.flipY) sy = ny - 1 - sy;
      const fx = Math.min(cx - 1, Math.max(0, sx + ox));
      const fy = Math.min(cy - 1, Math.max(0, sy + oy));
      const x0 = Math.min(cx - 2, Math.floor(fx));
      const y0 = Math.min(cy - 2, Math.floor(fy));
      const k = x + nx * y;
      corner[k] = x0 + cx * y0;
      nearest[k] = Math.round(fx) + cx * Math.round(fy);
      wxs[k] = fx - x0;
      wys[k] = fy - y0;
    }
  }
  // Gaussian noise, drawn voxel by voxel (AP then PVP) so a seed gives the same input as ever.
  let noise: Float64Array | null = null;
  if (aug && rng) {
    noise = new Float64Array(2 * n);
    for (let i = 0; i < 2 * n; i++) noise[i] = rng.normal(0, aug.noise);
  }
  const [lo, hi] = norm.clipHu;
  const phases = [crop.art, crop.pv];
  const stats = [norm.art, norm.pv];
  for (let c = 0; c < 2; c++) {
    const ch = phases[c]!;
    const { mean, sd } = stats[c]!;
    const scale = aug?.scale[c] ?? 1;
    const shift = aug?.shift[c] ?? 0;
    for (let z = 0; z < nz; z++) {
      const base = cx * cy * (z + oz);
      for (let k = 0; k < plane; k++) {
        const i = base + corner[k]!;
        const wx = wxs[k]!;
        const wy = wys[k]!;
        let v = (1 - wy) * ((1 - wx) * ch[i]! + wx * ch[i + 1]!) + wy * ((1 - wx) * ch[i + cx]! + wx * ch[i + cx + 1]!);
        v = (Math.min(hi, Math.max(lo, v)) - mean) / sd;
        const dst = k + plane * z;
        if (aug) v = v * scale + shift + (noise ? noise[2 * dst + c]! : 0);
        out[c * n + dst] = v;
      }
    }
  }
  const masks: Uint8Array[] = [crop.tumour];
  if (config.inChannels === 4) masks.push(crop.liver);
  masks.forEach((ch, m) => {
    const offset = (2 + m) * n;
    for (let z = 0; z < nz; z++) {
      const base = cx * cy * (z + oz);
      for (let k = 0; k < plane; k++) out[offset + k + plane * z] = ch[base + nearest[k]!]!;
    }
  });
}
