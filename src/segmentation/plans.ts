import type { Vec3, Volume } from '../imaging/volume.js';
import { HccError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/**
 * nnU-Net v2's experiment planning (`default_experiment_planner.py`, `network_topology.py`), in its axis order:
 * every shape, spacing, patch and stride here is (z, y, x), the C order of a Volume's data, as nnU-Net's
 * SimpleITK arrays. Volumes are [x, y, z]; `zyx()` converts.
 */

export type ZYX = [number, number, number];

export const zyx = (v: Vec3): ZYX => [v[2], v[1], v[0]];
export const xyz = (v: ZYX): Vec3 => [v[2], v[1], v[0]];

export interface IntensityProperties {
  mean: number;
  median: number;
  std: number;
  min: number;
  max: number;
  percentile_00_5: number;
  percentile_99_5: number;
}

export interface Fingerprint {
  spacings: ZYX[];
  shapesAfterCrop: ZYX[];
  /** Per channel index (as a string, as nnU-Net's plans): statistics of foreground (label > 0) voxels. */
  foregroundIntensityPropertiesPerChannel: Record<string, IntensityProperties>;
  medianRelativeSizeAfterCropping: number;
}

/** One case for planning: its channels on one grid and its label map on the same grid. */
export interface PlanningCase {
  channels: Volume[];
  labels: Volume;
}

/** numpy's percentile with linear interpolation, on a sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function intensityProperties(values: Float64Array): IntensityProperties {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / Math.max(1, sorted.length);
  let ss = 0;
  for (const v of sorted) ss += (v - mean) ** 2;
  return {
    mean,
    median: percentileSorted(sorted, 50),
    std: Math.sqrt(ss / Math.max(1, sorted.length)),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    percentile_00_5: percentileSorted(sorted, 0.5),
    percentile_99_5: percentileSorted(sorted, 99.5),
  };
}

/**
 * The half-open box nnU-Net's crop_to_nonzero keeps: the box of (any channel non-zero, holes filled). Filling
 * holes never moves that box, so it is not done: a zero voxel outside the non-zero box reaches the border along
 * a straight line of zeros, so it is never a hole (a test checks this against fillHoles). Each face of the box
 * is found by scanning planes inward from that face of the volume, which for a CT (air is -1024, not 0) stops
 * at the first voxel.
 */
export function nonzeroBox(channels: Volume[]): { start: Vec3; end: Vec3 } {
  const shape = channels[0]!.shape;
  const [nx, ny, nz] = shape;
  const stride = [1, nx, nx * ny];
  const planeHasNonzero = (axis: number, index: number): boolean => {
    const [u, v] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
    for (const c of channels) {
      const d = c.data;
      for (let j = 0; j < shape[v]!; j++) for (let i = 0; i < shape[u]!; i++) {
        if (d[index * stride[axis]! + i * stride[u]! + j * stride[v]!] !== 0) return true;
      }
    }
    return false;
  };
  const start: Vec3 = [0, 0, 0];
  const end: Vec3 = [nx, ny, nz];
  for (let a = 0; a < 3; a++) {
    let lo = 0;
    while (lo < shape[a]! && !planeHasNonzero(a, lo)) lo++;
    if (lo === shape[a]) return { start: [0, 0, 0], end: [...shape] as Vec3 };
    let hi = shape[a]! - 1;
    while (!planeHasNonzero(a, hi)) hi--;
    start[a] = lo;
    end[a] = hi + 1;
  }
  return { start, end };
}

/** One case's share of the fingerprint, so a dataset can be fingerprinted one case in memory at a time. */
export interface FingerprintPart {
  spacing: ZYX;
  shapeAfterCrop: ZYX;
  relativeSizeAfterCropping: number;
  /** Foreground intensity samples per channel. */
  samples: Float64Array[];
}

/**
 * Case `index` of `nCases`: its spacing, cropped shape, and `10e7 // nCases` foreground intensities per channel
 * drawn with replacement, as nnU-Net (capped at 200,000 to keep memory sane: the cap only weights cases equally).
 * Our own seeded stream per case replaces numpy's RandomState(1234), so the statistics agree with nnU-Net's only
 * within sampling error.
 */
export function fingerprintCase(c: PlanningCase, index: number, nCases: number, seed = 1234, samplesTotal = 1e8): FingerprintPart {
  const box = nonzeroBox(c.channels);
  const cropped = box.end.map((e, a) => e - box.start[a]!) as Vec3;
  const fg: number[] = [];
  for (let i = 0; i < c.labels.data.length; i++) if (c.labels.data[i]! > 0) fg.push(i);
  const take = fg.length === 0 ? 0 : Math.min(Math.floor(samplesTotal / nCases), 200_000);
  const samples = c.channels.map(() => new Float64Array(take));
  const rng = Rng.stream(seed, 'fingerprint', index);
  for (let s = 0; s < take; s++) {
    const v = fg[rng.int(fg.length)]!;
    for (let ch = 0; ch < c.channels.length; ch++) samples[ch]![s] = c.channels[ch]!.data[v]!;
  }
  return { spacing: zyx(c.channels[0]!.spacing), shapeAfterCrop: zyx(cropped), relativeSizeAfterCropping: (cropped[0] * cropped[1] * cropped[2]) / c.labels.data.length, samples };
}

/** The dataset fingerprint from its cases' parts (in case order). */
export function mergeFingerprints(parts: FingerprintPart[]): Fingerprint {
  if (parts.length === 0) throw new HccError('fingerprint: no training cases');
  const nChannels = parts[0]!.samples.length;
  parts.forEach((p, ci) => {
    if (p.samples.length !== nChannels) throw new HccError(`fingerprint: case ${ci} has ${p.samples.length} channels; expected ${nChannels}`);
  });
  const props: Record<string, IntensityProperties> = {};
  for (let ch = 0; ch < nChannels; ch++) {
    const pooled = new Float64Array(parts.reduce((n, p) => n + p.samples[ch]!.length, 0));
    let at = 0;
    for (const p of parts) {
      pooled.set(p.samples[ch]!, at);
      at += p.samples[ch]!.length;
    }
    props[String(ch)] = intensityProperties(pooled);
  }
  const relSizes = parts.map((p) => p.relativeSizeAfterCropping).sort((a, b) => a - b);
  return {
    spacings: parts.map((p) => p.spacing), shapesAfterCrop: parts.map((p) => p.shapeAfterCrop),
    foregroundIntensityPropertiesPerChannel: props, medianRelativeSizeAfterCropping: percentileSorted(relSizes, 50),
  };
}


function medianPerAxis(rows: ZYX[], q = 50): ZYX {
  return [0, 1, 2].map((a) => percentileSorted(rows.map((r) => r[a]!).sort((x, y) => x - y), q)) as ZYX;
}

/** nnU-Net's `determine_fullres_target_spacing`: the median spacing, with its anisotropic-axis rule. */
export function targetSpacing(fp: Fingerprint, anisoThreshold = 3): ZYX {
  const target = medianPerAxis(fp.spacings);
  const medianShape = medianPerAxis(fp.shapesAfterCrop);
  const worst = target.indexOf(Math.max(...target));
  const others = [0, 1, 2].filter((a) => a !== worst);
  const hasAnisoSpacing = target[worst]! > anisoThreshold * Math.min(...others.map((a) => target[a]!));
  const hasAnisoVoxels = medianShape[worst]! * anisoThreshold < Math.min(...others.map((a) => medianShape[a]!));
  if (hasAnisoSpacing && hasAnisoVoxels) {
    const p10 = medianPerAxis(fp.spacings, 10)[worst]!;
    target[worst] = Math.max(p10, Math.max(...others.map((a) => target[a]!)) + 1e-5);
  }
  return target;
}

export interface Topology {
  numPoolPerAxis: ZYX;
  /** [[1,1,1], pool1, pool2, ...]: one stride per stage. */
  strides: ZYX[];
  kernelSizes: ZYX[];
  patchSize: ZYX;
  mustBeDivisibleBy: ZYX;
}

/** nnU-Net's `get_pool_and_conv_props` (3D), including the padding of the patch to a multiple of 2^pools. */
export function poolAndConvProps(spacing: ZYX, patchSize: ZYX, minFeatureMapSize = 4, maxNumPool = 999999): Topology {
  const currentSpacing = [...spacing];
  const currentSize = [...patchSize];
  const strides: ZYX[] = [[1, 1, 1]];
  const kernelSizes: ZYX[] = [];
  const numPool: ZYX = [0, 0, 0];
  const kernel: ZYX = [1, 1, 1];
  for (;;) {
    let valid = [0, 1, 2].filter((a) => currentSize[a]! >= 2 * minFeatureMapSize);
    if (valid.length < 1) break;
    const minValid = Math.min(...valid.map((a) => currentSpacing[a]!));
    valid = valid.filter((a) => currentSpacing[a]! / minValid < 2 && numPool[a]! < maxNumPool);
    if (valid.length === 1 && !(currentSize[valid[0]!]! >= 3 * minFeatureMapSize)) break;
    if (valid.length < 1) break;
    const minSpacing = Math.min(...currentSpacing);
    for (let d = 0; d < 3; d++) if (kernel[d] !== 3 && currentSpacing[d]! / minSpacing < 2) kernel[d] = 3;
    const pool: ZYX = [1, 1, 1];
    for (const v of valid) {
      pool[v] = 2;
      numPool[v]++;
      currentSpacing[v]! *= 2;
      currentSize[v] = Math.ceil(currentSize[v]! / 2);
    }
    strides.push(pool);
    kernelSizes.push([...kernel]);
  }
  const div = numPool.map((n) => 2 ** n) as ZYX;
  const padded = patchSize.map((p, a) => Math.ceil(p / div[a]!) * div[a]!) as ZYX;
  kernelSizes.push([3, 3, 3]);
  return { numPoolPerAxis: numPool, strides, kernelSizes, patchSize: padded, mustBeDivisibleBy: div };
}

export interface ArchitectureKwargs {
  n_stages: number;
  features_per_stage: number[];
  kernel_sizes: ZYX[];
  strides: ZYX[];
  n_conv_per_stage: number[];
  n_conv_per_stage_decoder: number[];
  conv_bias: boolean;
  norm_op_kwargs: { eps: number; affine: boolean };
  nonlin_kwargs: { inplace: boolean; negative_slope?: number };
}

/** One configuration, with nnU-Net's field names so a user reads it as a plans.json entry. */
export interface Configuration {
  spacing: ZYX;
  patch_size: ZYX;
  batch_size: number;
  batch_dice: boolean;
  normalization_schemes: string[];
  use_mask_for_norm: boolean[];
  architecture: { network_class_name: string; arch_kwargs: ArchitectureKwargs };
  /**
   * As nnU-Net's 3d_cascade_fullres `previous_stage`: the stage whose segmentation this one takes as extra input
   * channels, one per foreground label after the image channels. Ours names a role: 'liver' (one binary
   * channel). Absent: images only.
   */
  previous_stage?: 'liver';
}

export interface Plans {
  plans_name: string;
  transpose_forward: ZYX;
  transpose_backward: ZYX;
  original_median_spacing_after_transp: ZYX;
  original_median_shape_after_transp: ZYX;
  foreground_intensity_properties_per_channel: Record<string, IntensityProperties>;
  configuration: Configuration;
  /** Labels including background, in output-channel order. */
  labels: Record<string, number>;
}

/**
 * Where the planner departs from nnU-Net for CPU budgets (docs/segmentation.md): a voxel budget for the patch
 * instead of the GPU-memory estimate; fewer features; a fixed batch size; an optional spacing override.
 */
export interface PlanOptions {
  /** Patch voxels to aim for; nnU-Net starts from 256^3 and shrinks to fit 8 GB of GPU memory. */
  patchVoxels?: number;
  /** Upper bound on the patch (e.g. for a cascade stage that only sees a crop). */
  maxPatch?: ZYX;
  baseFeatures?: number;
  maxFeatures?: number;
  batchSize?: number;
  /** Replaces the median spacing (nnU-Net's overwrite_target_spacing). */
  spacing?: ZYX;
  /** Caps the number of resolution stages (nnU-Net: unbounded). */
  maxStages?: number;
  channelNames?: string[];
  labels?: Record<string, number>;
  name?: string;
}

/** The network's input channels: the images, then the previous stage's foreground (cascade.ts). */
export function inputChannels(plans: Plans): number {
  return plans.configuration.normalization_schemes.length + (plans.configuration.previous_stage ? 1 : 0);
}

export function plan(fp: Fingerprint, options: PlanOptions = {}): Plans {
  const spacing = options.spacing ?? targetSpacing(fp);
  const medianSpacing = medianPerAxis(fp.spacings);
  const medianShape = medianPerAxis(fp.shapesAfterCrop).map((n, a) => Math.round((n * medianSpacing[a]!) / spacing[a]!)) as ZYX;
  const budget = options.patchVoxels ?? 256 ** 3;
  const inv = spacing.map((s) => 1 / s);
  const scale = (budget / (inv[0]! * inv[1]! * inv[2]!)) ** (1 / 3);
  let patch = inv.map((v, a) => Math.min(Math.round(v * scale), medianShape[a]!, options.maxPatch?.[a] ?? Infinity)) as ZYX;
  const maxPool = options.maxStages ? options.maxStages - 1 : 999999;
  let topo = poolAndConvProps(spacing, patch, 4, maxPool);
  // nnU-Net shrinks the axis with the largest patch/median ratio until the network fits the GPU; here until
  // the patch fits the voxel budget.
  while (topo.patchSize[0] * topo.patchSize[1] * topo.patchSize[2] > budget * 1.0001) {
    const ratios = topo.patchSize.map((p, a) => p / medianShape[a]!);
    const axis = ratios.indexOf(Math.max(...ratios));
    patch = [...topo.patchSize];
    patch[axis] -= topo.mustBeDivisibleBy[axis]!;
    if (patch[axis]! < 1) break;
    topo = poolAndConvProps(spacing, patch, 4, maxPool);
  }
  const nStages = topo.strides.length;
  const base = options.baseFeatures ?? 32;
  const maxF = options.maxFeatures ?? 320;
  const channels = options.channelNames ?? ['CT'];
  return {
    plans_name: options.name ?? 'hccPlans',
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    original_median_spacing_after_transp: medianSpacing,
    original_median_shape_after_transp: medianPerAxis(fp.shapesAfterCrop),
    foreground_intensity_properties_per_channel: fp.foregroundIntensityPropertiesPerChannel,
    labels: options.labels ?? { background: 0, liver: 1, tumour: 2 },
    configuration: {
      spacing,
      patch_size: topo.patchSize,
      batch_size: options.batchSize ?? 2,
      batch_dice: false,
      normalization_schemes: channels.map((c) => (c.toLowerCase() === 'ct' ? 'CTNormalization' : 'ZScoreNormalization')),
      use_mask_for_norm: channels.map(() => false),
      architecture: {
        network_class_name: 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
        arch_kwargs: {
          n_stages: nStages,
          features_per_stage: Array.from({ length: nStages }, (_, i) => Math.min(base * 2 ** i, maxF)),
          kernel_sizes: topo.kernelSizes,
          strides: topo.strides,
          n_conv_per_stage: new Array<number>(nStages).fill(2),
          n_conv_per_stage_decoder: new Array<number>(nStages - 1).fill(2),
          conv_bias: true,
          norm_op_kwargs: { eps: 1e-5, affine: true },
          nonlin_kwargs: { inplace: true },
        },
      },
    },
  };
}
