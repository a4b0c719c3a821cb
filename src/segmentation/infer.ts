import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { voxelVolumeMm3 } from '../imaging/affine.js';
import { boundingBox, cropOrPad, expandBox, marginInVoxels, type Box } from '../imaging/ops/crop.js';
import { connectedComponents } from '../imaging/ops/components.js';
import { distanceTransform } from '../imaging/ops/distance.js';
import { resampleDataToShape } from '../imaging/ops/resample.js';
import { measureTumours, type TumourMeasurements } from '../imaging/tumour.js';
import { makeVolume, type Vec3, type Volume } from '../imaging/volume.js';
import { HccError } from '../util/errors.js';
import { onCrop, preprocessedGrid, transferMask, type PreviousStage } from './cascade.js';
import { channelsFor, type CaseImages } from './cases.js';
import { StepClock, type StepTime } from './clock.js';
import type { LoadedStage, SegmentationModel } from './model.js';
import { xyz } from './plans.js';
import { postprocess, type RemovedTumours } from './postprocess.js';
import { preprocessCase, type PreprocessedCase } from './preprocess.js';
import { slidingWindowTensor, toHalf } from './sliding-window.js';
import { resampleChannels } from './resample.js';

/**
 * Inference as nnU-Net's predictor: preprocess, sliding window (logits averaged over folds), export (logits
 * resampled with order 1 to the cropped shape, softmax, argmax, pasted into the crop box) on the input grid.
 * A cascade runs the liver stage over the whole scan and the liver+tumour stage inside its liver box.
 */

export interface InferenceOptions {
  /** Sliding-window step as a fraction of the patch (nnU-Net 0.5). */
  step?: number;
  /** Mirroring TTA (8x the cost), where the model allows it. Default off (CPU). */
  mirror?: boolean;
  /** float16 accumulation and export exactly as nnU-Net v2's predictor (slower). */
  exact?: boolean;
  onTile?: (stage: string, done: number, total: number) => void;
  /** Collects wall and CPU time per step (preprocessing, network, accumulation, export, postprocessing). */
  clock?: StepClock;
  /**
   * Where the stage's networks are: 'cpu' (default) or 'cuda[:N]'; segmentCase takes it from the model. Only the
   * network pass moves: each batch of tiles goes to the device and its logits come back, so accumulation,
   * resampling and export are the same code on every device.
   */
  device?: string;
  /** A cascade's stage 1 keeps liver pieces this close to its largest component (mm; 0: the largest alone). */
  liverPieceReachMm?: number;
}

/**
 * Preprocessing and fold-averaged sliding-window logits, float32 [K, z, y, x] on the preprocessed grid (caller
 * disposes). A stage whose plans name a previous stage reads `previous` onto its grid as the last input channel.
 */
function stageLogits(stage: LoadedStage, channels: Volume[], options: InferenceOptions, previous?: PreviousStage): { pre: PreprocessedCase; logits: Tensor; K: number } {
  const plans = stage.plans;
  const clock = options.clock ?? new StepClock();
  const pre = preprocessCase(channels, plans, undefined, clock, `${stage.role}.preprocess`);
  if (plans.configuration.previous_stage) {
    if (!previous) throw new HccError(`stage ${stage.role}: it takes the ${plans.configuration.previous_stage} stage's segmentation as input, which was not given`);
    pre.channels.push(clock.time(`${stage.role}.cascade_input`, () => Float32Array.from(transferMask(previous.mask, previous.grid, preprocessedGrid(pre)))));
  }
  const K = Object.keys(plans.labels).length;
  const patch = plans.configuration.patch_size;
  const mirrorAxes = options.mirror ? stage.mirrorAxes : null;
  const device = options.device ?? 'cpu';
  let logits: Tensor | null = null;
  for (const net of stage.nets) {
    const forward = device === 'cpu' ? (x: Tensor) => net.forward(x)[0]! : (x: Tensor) => net.forward(x.to(device))[0]!.to('cpu');
    const l = slidingWindowTensor(forward, pre.channels, pre.shape, patch, K, {
      step: options.step, mirrorAxes, exact: options.exact, onTile: (d, t) => options.onTile?.(stage.role, d, t),
      clock, stepPrefix: `${stage.role}.sliding_window`,
    });
    if (!logits) logits = l;
    else {
      logits.add_(l);
      l.dispose();
    }
  }
  if (stage.nets.length > 1) logits!.div_(stage.nets.length);
  return { pre, logits: logits!, K };
}

/**
 * argmax over the class dim of logits [K, ...] as uint8 labels, the first of equal maxima winning (as
 * torch.argmax and numpy's argmax), by elementwise comparison: libtorch 1.13's argmax over a leading dim took
 * 1.2-1.6 s for 3 x 6.6 M voxels, this 0.2 s.
 */
function argmaxLabels(logits: Tensor): Tensor {
  return torch.tidy(() => {
    let best = torch.zeros(logits.shape.slice(1), { dtype: 'uint8' });
    let max = logits.select(0, 0);
    for (let k = 1; k < logits.shape[0]!; k++) {
      const v = logits.select(0, k);
      best = best.maskedFill(v.gt(max), k);
      max = torch.maximum(max, v);
    }
    return best;
  });
}

/**
 * nnU-Net's export on the cropped grid: logits resampled (order 1) to the cropped shape, argmax. `exact` keeps
 * nnU-Net's float16 steps (JavaScript loops); otherwise the same float64 arithmetic runs as torch ops (resample.ts).
 */
function exportLabels(stage: LoadedStage, pre: PreprocessedCase, logits: Tensor, K: number, options: InferenceOptions): Uint8Array {
  const clock = options.clock ?? new StepClock();
  const crop = pre.properties.shapeAfterCropping;
  const target = xyz(stage.plans.configuration.spacing);
  const sameShape = xyz(pre.shape).every((s, a) => s === crop[a]);
  if (!options.exact) {
    return torch.tidy(() => {
      const resized = sameShape ? logits : clock.time(`${stage.role}.export.resample_logits`, () => resampleChannels(logits, xyz(pre.shape), crop, target, pre.properties.spacing));
      return clock.time(`${stage.role}.export.argmax`, () => argmaxLabels(resized).toArray() as Uint8Array);
    });
  }
  const n = pre.shape[0] * pre.shape[1] * pre.shape[2];
  const nCrop = crop[0] * crop[1] * crop[2];
  const all = logits.toArray() as Float32Array;
  const resized = clock.time(`${stage.role}.export.resample_logits`, () => {
    const out = new Float32Array(K * nCrop);
    for (let k = 0; k < K; k++) {
      const ch = all.subarray(k * n, (k + 1) * n);
      const r = sameShape ? ch : resampleDataToShape(ch, xyz(pre.shape), crop, target, pre.properties.spacing, 1);
      for (let i = 0; i < nCrop; i++) out[k * nCrop + i] = toHalf(r[i]!);
    }
    return out;
  });
  return clock.time(`${stage.role}.export.argmax`, () => torch.tidy(() => torch.fromArray(resized, [K, nCrop]).softmax(0).argmax(0).to('uint8').toArray() as Uint8Array));
}

/** Labels (uint8) on the channels' grid from one stage; `previous` (on the channels' grid) for a cascade input. */
export function predictStage(stage: LoadedStage, channels: Volume[], options: InferenceOptions = {}, previous?: PreviousStage): Volume<Uint8Array> {
  const { pre, logits, K } = stageLogits(stage, channels, options, previous);
  let seg: Uint8Array;
  try {
    seg = exportLabels(stage, pre, logits, K, options);
  } finally {
    logits.dispose();
  }
  const clock = options.clock ?? new StepClock();
  const ref = channels[0]!;
  const cropped = makeVolume(pre.properties.shapeAfterCropping, ref.affine, seg);
  const box = pre.properties.bbox;
  const full = clock.time(`${stage.role}.export.paste`, () => cropOrPad(cropped, { start: box.start.map((s) => -s) as Vec3, end: box.start.map((s, a) => -s + ref.shape[a]!) as Vec3 }));
  return makeVolume(ref.shape, ref.affine, full.data as Uint8Array, { ...ref.meta, modality: 'SEG' } as Volume['meta']);
}

/**
 * How far from the largest component a coarse liver component may lie and still be liver. At stage 1's 5 mm a
 * thin parenchymal bridge (the left lobe's, typically) can vanish, and the lobe beyond it would then fall outside
 * stage 2's box and be lost whatever stage 2 does. On the 20 held-out phantoms such pieces lay 13-53 mm from the
 * rest and the false components (bowel, heart, body wall) 71 mm or more (BENCHMARKS.md "Segmentation").
 */
export const LIVER_PIECE_REACH_MM = 50;

/**
 * The largest component of a coarse liver mask together with every component within `reachMm` of it. Stage 2
 * still applies nnU-Net's postprocessing at its fine spacing, so a piece that is not liver only widens its box.
 */
export function liverWithNearbyPieces(mask: ArrayLike<number>, shape: Vec3, spacing: Vec3, reachMm = LIVER_PIECE_REACH_MM): Uint8Array {
  const { labels, count, sizes } = connectedComponents(mask, shape, 26);
  const out = new Uint8Array(labels.length);
  if (count === 0) return out;
  let best = 1;
  for (let c = 2; c <= count; c++) if (sizes[c]! > sizes[best]!) best = c;
  const distance = distanceTransform(Uint8Array.from(labels, (l) => (l === best ? 1 : 0)), shape, spacing);
  const near = new Uint8Array(count + 1);
  for (let i = 0; i < labels.length; i++) if (labels[i] && distance[i]! <= reachMm) near[labels[i]!] = 1;
  for (let i = 0; i < labels.length; i++) out[i] = near[labels[i]!]!;
  return out;
}

/**
 * The liver from a liver stage, on the stage's own (coarse) grid: argmax, the largest component there with the
 * pieces near it (`liverWithNearbyPieces`), and its box on the channels' grid mapped back through the zoom. A
 * cascade needs only this from stage 1 (the box, and the mask itself for a stage 2 with cascade input), so the
 * whole-scan logits are never resampled to full resolution.
 */
export function liverFromStage(stage: LoadedStage, channels: Volume[], options: InferenceOptions = {}): { box: Box; liver: PreviousStage } | null {
  const { pre, logits } = stageLogits(stage, channels, options);
  const clock = options.clock ?? new StepClock();
  return clock.time(`${stage.role}.liver_box`, () => {
    const mask = torch.tidy(() => argmaxLabels(logits).gt(0).to('uint8').toArray() as Uint8Array);
    logits.dispose();
    const shape = xyz(pre.shape);
    const crop = pre.properties.shapeAfterCropping;
    const ratio = crop.map((c, a) => c / shape[a]!);
    const liver = liverWithNearbyPieces(mask, shape, pre.properties.spacing.map((s, a) => s * ratio[a]!) as Vec3, options.liverPieceReachMm);
    const box = boundingBox(liver, shape);
    if (!box) return null;
    const offset = pre.properties.bbox.start;
    return {
      box: {
        start: box.start.map((s, a) => Math.max(0, offset[a]! + Math.floor(s * ratio[a]!))) as Vec3,
        end: box.end.map((e, a) => Math.min(channels[0]!.shape[a]!, offset[a]! + Math.ceil(e * ratio[a]!))) as Vec3,
      },
      liver: { mask: liver, grid: preprocessedGrid(pre) },
    };
  });
}

export interface SegmentResult {
  /** 0 background, 1 liver, 2 tumour, on the reference phase's grid (arterial when the model uses it). */
  labels: Volume<Uint8Array>;
  measurements: TumourMeasurements;
  timing: Record<string, number>;
  /** Wall and CPU seconds per step ('<role>.preprocess.resample', '<role>.sliding_window.network', ...). */
  steps: Record<string, StepTime>;
  warnings: string[];
  liverBox: Box | null;
  /** Tumour components the liver-contact rule of the model's postprocessing removed, and their volume. */
  removedTumours: { components: number; volumeMl: number };
}

/** Segments one case: the model's phases (from `images`) -> labels on the first phase's grid + measurements. */
export function segmentCase(model: SegmentationModel, images: CaseImages, options: InferenceOptions = {}): SegmentResult {
  const timing: Record<string, number> = {};
  const warnings: string[] = [];
  const clock = options.clock ?? new StepClock();
  options = { ...options, clock, device: model.device };
  const steps = clock.steps;
  let t = performance.now();
  const channels = clock.time('load_grid', () => channelsFor(images, model.channels));
  timing.load_grid = (performance.now() - t) / 1000;
  const ref = channels[0]!;
  const empty = (): SegmentResult => {
    const labels = makeVolume(ref.shape, ref.affine, new Uint8Array(ref.data.length), { ...ref.meta, modality: 'SEG' } as Volume['meta']);
    warnings.push('no liver found: the result is empty (is this an abdominal CT with the liver in the field of view?)');
    return { labels, measurements: measureTumours(labels), timing, steps, warnings, liverBox: null, removedTumours: { components: 0, volumeMl: 0 } };
  };
  let labels: Volume<Uint8Array> | null = null;
  let measured: Volume | null = null;
  let liverBox: Box | null = null;
  let liver: PreviousStage | undefined;
  let removed: RemovedTumours = { components: 0, voxels: 0 };
  for (const [i, stage] of model.stages.entries()) {
    t = performance.now();
    const name = `stage${i + 1}_${stage.role}`;
    const last = i === model.stages.length - 1;
    if (i === 0 && !last) {
      const found = liverFromStage(stage, channels, options);
      liverBox = found?.box ?? null;
      liver = found?.liver;
    } else if (i === 0) {
      labels = predictStage(stage, channels, options);
      if (stage.role === 'liver') for (let v = 0; v < labels.data.length; v++) if (labels.data[v]! > 1) labels.data[v] = 1;
      removed = clock.time(`${stage.role}.postprocess`, () => postprocess(labels!, stage.postprocessing));
      liverBox = boundingBox(labels.data, labels.shape);
      measured = labels;
    } else {
      const box = expandBox(liverBox!, marginInVoxels(ref.spacing, stage.marginMm), ref.shape);
      const inBox = clock.time(`${stage.role}.crop_box`, () => channels.map((c) => cropOrPad(c, box, -1024)));
      const previous = liver && onCrop(liver, box.start);
      const sub = predictStage(stage, inBox, options, previous);
      // Everything outside the box is background, so postprocessing and measuring the box alone is the same.
      removed = clock.time(`${stage.role}.postprocess`, () => postprocess(sub, stage.postprocessing));
      measured = sub;
      const full = new Uint8Array(ref.data.length);
      const [nx, ny] = ref.shape;
      const [sx, sy, sz] = sub.shape;
      for (let k = 0; k < sz; k++) for (let j = 0; j < sy; j++) {
        const row = box.start[0] + nx * (box.start[1] + j + ny * (box.start[2] + k));
        full.set(sub.data.subarray(sx * (j + sy * k), sx * (j + sy * k) + sx), row);
      }
      labels = makeVolume(ref.shape, ref.affine, full, { ...ref.meta, modality: 'SEG' } as Volume['meta']);
      const inner = boundingBox(sub.data, sub.shape);
      liverBox = inner && { start: inner.start.map((s, a) => s + box.start[a]!) as Vec3, end: inner.end.map((e, a) => e + box.start[a]!) as Vec3 };
    }
    timing[name] = (performance.now() - t) / 1000;
    if (!liverBox) break;
  }
  if (!liverBox || !labels || !measured) return empty();
  t = performance.now();
  const measurements = clock.time('measure', () => measureTumours(measured!));
  timing.measure = (performance.now() - t) / 1000;
  const removedTumours = { components: removed.components, volumeMl: (removed.voxels * voxelVolumeMm3(ref.affine)) / 1000 };
  if (removed.components > 0) {
    // A reader must know that something the network called tumour is not in the labels, and how to get it back.
    const threshold = model.stages.at(-1)!.postprocessing?.tumourMinLiverContact ?? 0;
    warnings.push(`postprocessing removed ${removed.components} tumour component(s), ${removedTumours.volumeMl.toFixed(1)} mL, bordering the liver on less than ${threshold.toFixed(2)} of their surface (taken as outside the liver); check the overlay, and set postprocessing.tumourMinLiverContact to 0 in the last stage's model.json to keep them`);
  }
  return { labels, measurements, timing, steps, warnings, liverBox, removedTumours };
}
