import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { threadsPerWorker } from '@hcc/torch';
import type { Vec3 } from '../imaging/volume.js';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { mapInWorkers } from '../util/worker-pool.js';
import type { Phase } from './cases.js';
import { liverFromStage, predictStage } from './infer.js';
import { chooseTumourMinLiverContact } from './lesions.js';
import { checkDevice, loadNetwork, MODEL_KIND, MODEL_VERSION, type ModelManifest, type StageManifest, type StageRole } from './model.js';
import { onCrop, preprocessedGrid, transferMask, type PreviousStage } from './cascade.js';
import { mergeFingerprints, plan, xyz, zyx, type Fingerprint, type PlanOptions, type Plans, type ZYX } from './plans.js';
import { trainFold, type EpochLog, type TrainCase } from './train.js';
import {
  liverAndTumourDice, TrainingCases, type EndToEndJob, type EndToEndResult, type FingerprintJob, type FingerprintResult, type PreprocessJob, type PreprocessResult,
} from './training-cases.js';

/**
 * Training a model folder from case prefixes: the CPU-first cascade (stage 1: liver over the whole scan at low
 * resolution; stage 2: liver + tumour inside the liver box at the fine spacing) or a single liver stage (the
 * portal-venous-only model). Each stage is fingerprinted, planned, preprocessed and trained per fold.
 */

export interface SegTrainConfig {
  /** Stage-1 spacing floor per axis (mm): the liver is found on a grid at least this coarse. */
  lowresMm: number;
  /** Stage-2 spacing floor (mm): the fine grid is never finer than this (CPU budget). */
  fineMm: number;
  /** Patch voxel budget per stage (nnU-Net: fit 8 GB of GPU memory from 256^3). */
  patchVoxels: number;
  baseFeatures: number;
  maxFeatures: number;
  maxStages: number;
  batchSize: number;
  epochs: number;
  /**
   * Epochs of a cascade's stage 1 (the liver at low resolution), which only has to place stage 2's box; null
   * trains it as long as stage 2. The default preset gives the iterations to stage 2, which sets the accuracy.
   */
  lowresEpochs: number | null;
  itersPerEpoch: number;
  valIters: number;
  /** Margin around the liver box for stage 2 (mm). */
  marginMm: number;
  initialLr: number;
  /** nnU-Net's augmentations on (spatial, intensity); mirroring is set by `mirrorAxes`. */
  augment: boolean;
  /**
   * Axes (z, y, x) mirrored in training, and so allowed for mirroring TTA (nnU-Net: all three). [] is
   * TotalSegmentator's nnUNetTrainerNoMirroring: the liver sits on the right, and a left-right flip teaches the
   * network that a large homogeneous organ on the left (the spleen) can be liver, which is where the demo model's
   * stage 1 spilled.
   */
  mirrorAxes: number[];
  /**
   * nnU-Net's cascade input: a cascade's stage 2 also reads stage 1's liver as one more input channel (plans
   * `previous_stage: 'liver'`). It trains on the reference liver degraded like a stage-1 prediction (cascade.ts,
   * docs/segmentation.md "CPU departures"), so the stages still train at once. Off in every preset: with it, the
   * default model's stage 2 followed stage 1's misses and tumour Dice and detection F1 fell on the held-out
   * phantoms (BENCHMARKS.md, "Cascade input").
   */
  cascadeInput: boolean;
  /**
   * What stage 2's cascade input is in training: 'reference' (the reference liver degraded through stage 1's
   * spacing; the stages train at once) or 'stage1' (the same fold's trained stage-1 network's predictions, as
   * nnU-Net, though on cases that network was trained on rather than cross-validated; stage 1 must be trained
   * first). Both get nnU-Net's random perturbations per patch.
   */
  cascadeInputFrom?: 'reference' | 'stage1';
}

/**
 * 'test': seconds, for the test suite; 'demo': minutes; 'default': the benchmarked model, trained by one `hcc train
 * seg` on 2 cores (both threads, one stage after the other; BENCHMARKS.md, "Segmentation"). Default has the demo's
 * networks and more iterations, most of them for stage 2, which sets the accuracy; stage 1 only places its box.
 * What the targets need was measured on a GPU: at a fixed 3000 stage-2 iterations, 100 training phantoms instead
 * of 40 brought liver HD95 from 16.7 to 5.6 mm on 8 held-out phantoms, and 6000 iterations on 100 phantoms, with the
 * postprocessing chosen on validation, met every accuracy target on 20 (F1 0.909). The same 6000 iterations on 2
 * cores, on this preset's fold of 80 cases behind a 30-epoch stage 1, did not (HD95 7.3 mm, F1 0.866; about 74
 * minutes), so the preset keeps 4250.
 * The former default (a 32x64x64 patch with 128 features) cost 4x the demo networks per iteration, and iterations
 * mattered more than network size. Feature counts are multiples of 16: small channel counts with batch 1 fall below
 * libtorch's size threshold for oneDNN and take its much slower vol2col path (BENCHMARKS.md, "Segmentation");
 * inference batches tiles for the same reason.
 */
export const SEG_PRESETS: Record<'test' | 'demo' | 'default', SegTrainConfig> = {
  test: { lowresMm: 0, fineMm: 0, patchVoxels: 16 * 32 * 32, baseFeatures: 4, maxFeatures: 16, maxStages: 3, batchSize: 2, epochs: 4, lowresEpochs: null, itersPerEpoch: 8, valIters: 2, marginMm: 12, initialLr: 1e-2, augment: false, mirrorAxes: [0, 1, 2], cascadeInput: false },
  demo: { lowresMm: 5, fineMm: 2.5, patchVoxels: 24 * 48 * 48, baseFeatures: 16, maxFeatures: 64, maxStages: 4, batchSize: 2, epochs: 12, lowresEpochs: null, itersPerEpoch: 20, valIters: 4, marginMm: 10, initialLr: 1e-2, augment: true, mirrorAxes: [], cascadeInput: false },
  default: { lowresMm: 5, fineMm: 2.5, patchVoxels: 24 * 48 * 48, baseFeatures: 16, maxFeatures: 64, maxStages: 4, batchSize: 2, epochs: 170, lowresEpochs: 50, itersPerEpoch: 25, valIters: 4, marginMm: 10, initialLr: 1e-2, augment: true, mirrorAxes: [], cascadeInput: false },
};

export interface TrainSegmentationOptions {
  /** Case prefixes P (P_art.nii.gz, P_pv.nii.gz, P_label.nii.gz). */
  cases: string[];
  out: string;
  /** Folds to train (default [0]). */
  folds?: number[];
  /** Number of folds for the k-fold split when `splits` is not given (default 5). */
  nFolds?: number;
  /** Explicit splits per fold (case ids = basename of the prefix), e.g. from a study's splits.json. */
  splits?: Array<{ train: string[]; val: string[] }>;
  /** Input phases; ['portal_venous'] with cascade false gives the single-phase liver model. */
  phases?: Phase[];
  cascade?: boolean;
  /**
   * Stages to train (1-based; default all). A cascade's stage 2 trains on the reference liver box, not on stage
   * 1's output, so the two stages can train at once in separate processes on the same model folder.
   */
  stages?: number[];
  config?: Partial<SegTrainConfig>;
  preset?: keyof typeof SEG_PRESETS;
  seed?: number;
  resume?: boolean;
  progress?: boolean;
  /** Stop each fold after this many epochs of this run (resume later). */
  stopAfterEpochs?: number;
  provenance?: Record<string, unknown>;
  /** Where the networks train: 'cpu' (default) or 'cuda[:N]'. Validation after training runs on the CPU. */
  device?: string;
  /**
   * Worker threads for the fingerprint and preprocessing passes and the end-to-end validation (default: the
   * cores); plans and weights do not depend on it.
   */
  workers?: number;
}

export interface TrainSegmentationResult {
  out: string;
  stages: Array<{ role: StageRole; dir: string; plans: Plans; folds: Record<number, { finished: boolean; log: EpochLog[]; validation?: ValidationMetrics }> }>;
  finished: boolean;
}

export interface ValidationMetrics {
  cases: number;
  liverDice: number;
  tumourDice: number | null;
  /**
   * How the cases were segmented: 'stage' (the stage alone, a cascade's stage 2 on the reference liver's box) or
   * 'end-to-end' (stage 1's box, stage 2 and nnU-Net's postprocessing, before the liver-contact rule).
   */
  pipeline: 'stage' | 'end-to-end';
}

/** nnU-Net's default split: case ids sorted, shuffled with the seed, dealt into k folds. */
export function kFoldSplits(ids: string[], k: number, seed: number): Array<{ train: string[]; val: string[] }> {
  if (ids.length < 2) throw new HccError(`k-fold: need at least 2 cases, got ${ids.length}`);
  const kk = Math.min(k, ids.length);
  const order = [...ids].sort();
  Rng.stream(seed, 'kfold').shuffle(order);
  return Array.from({ length: kk }, (_, f) => ({
    val: order.filter((_, i) => i % kk === f).sort(),
    train: order.filter((_, i) => i % kk !== f).sort(),
  }));
}

/** A stage's spacing (z, y, x): the cases' median spacing per axis, no finer than the stage's floor. */
function stageSpacing(role: StageRole, spacings: Vec3[], cfg: SegTrainConfig): ZYX {
  const floor = role === 'liver' ? cfg.lowresMm : cfg.fineMm;
  return zyx([0, 1, 2].map((a) => {
    const s = spacings.map((sp) => sp[a]!).sort((x, y) => x - y);
    return Math.max(s[Math.floor(s.length / 2)]!, floor);
  }) as [number, number, number]);
}

function stagePlan(role: StageRole, fp: Fingerprint, spacings: Vec3[], phases: Phase[], cfg: SegTrainConfig, previousStage?: 'liver'): Plans {
  const options: PlanOptions = {
    spacing: stageSpacing(role, spacings, cfg), patchVoxels: cfg.patchVoxels, baseFeatures: cfg.baseFeatures, maxFeatures: cfg.maxFeatures, maxStages: cfg.maxStages,
    batchSize: cfg.batchSize, channelNames: phases.map(() => 'CT'),
    labels: role === 'liver' ? { background: 0, liver: 1 } : { background: 0, liver: 1, tumour: 2 }, name: `hcc_${role}`,
  };
  const plans = plan(fp, options);
  if (previousStage) plans.configuration.previous_stage = previousStage;
  return plans;
}

/**
 * Each stage-2 case's cascade input from the trained stage-1 fold in `stage1Dir`, predicted on the whole case
 * and seen from the case's liver crop.
 */
async function stage1Inputs(cases: TrainingCases, stage1Dir: string, fold: number): Promise<Map<string, PreviousStage>> {
  const checkpoint = join(stage1Dir, `fold_${fold}`, 'checkpoint_final.pth');
  if (!existsSync(checkpoint)) throw new HccError(`${checkpoint}: missing; cascadeInputFrom 'stage1' trains stage 2 on stage 1's predictions, so train stage 1 first`);
  const plans = (JSON.parse(readFileSync(join(stage1Dir, 'model.json'), 'utf8')) as StageManifest).plans;
  const { net } = loadNetwork(checkpoint, plans);
  const out = new Map<string, PreviousStage>();
  try {
    for (const id of cases.ids) {
      const whole = await cases.whole(id);
      const c = cases.view(whole, 'liver_tumour');
      const found = liverFromStage({ role: 'liver', plans, nets: [net], mirrorAxes: null, marginMm: 0 }, whole.channels);
      out.set(id, found
        ? onCrop(found.liver, c.offset ?? [0, 0, 0])
        : { mask: new Uint8Array(1), grid: { origin: [0, 0, 0], crop: c.labels.shape, shape: [1, 1, 1] } });
    }
  } finally {
    net.dispose();
  }
  return out;
}

async function validate(stageDir: string, fold: number, plans: Plans, role: StageRole, cases: TrainingCases, val: string[], inputs: Map<string, PreviousStage>, progress?: boolean): Promise<ValidationMetrics | undefined> {
  if (val.length === 0) return undefined;
  const { net } = loadNetwork(join(stageDir, `fold_${fold}`, 'checkpoint_final.pth'), plans);
  const bar = progress === false ? null : createProgress({ label: `validate ${role} fold ${fold}`, total: val.length, unit: 'case' });
  try {
    let liver = 0;
    let tumour = 0;
    for (const id of val) {
      const c = cases.view(await cases.whole(id), role);
      const previous = plans.configuration.previous_stage ? inputs.get(id) : undefined;
      const d = liverAndTumourDice(predictStage({ role, plans, nets: [net], mirrorAxes: null, marginMm: 0 }, c.channels, {}, previous), c.labels);
      liver += d.liverDice;
      tumour += d.tumourDice;
      bar?.tick(1);
    }
    bar?.done();
    return { cases: val.length, liverDice: liver / val.length, tumourDice: role === 'liver_tumour' ? tumour / val.length : null, pipeline: 'stage' };
  } finally {
    net.dispose();
  }
}

const CASE_WORKER = new URL('./case-worker.js', import.meta.url);

/** The finished folds a stage's model.json lists (none before the stage has one). */
function trainedFolds(manifestPath: string): number[] {
  return existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as StageManifest).folds : [];
}

/**
 * Pass 1, nnU-Net's fingerprint extraction: each role's fingerprint of its view of every case, and the cases'
 * spacings, in `workers` worker threads with one case in memory per worker.
 */
async function fingerprintStages(cases: TrainingCases, roles: StageRole[], seed: number, workers: number, progress?: boolean): Promise<{ fingerprints: Fingerprint[]; spacings: Vec3[] }> {
  const bar = progress === false ? null : createProgress({ label: 'fingerprint', total: cases.ids.length, unit: 'case' });
  const jobs = cases.ids.map((id, index): FingerprintJob => ({
    kind: 'fingerprint', prefix: cases.prefix(id), spec: cases.spec, roles, threads: threadsPerWorker(workers), index, total: cases.ids.length, seed,
  }));
  const results = await mapInWorkers<FingerprintJob, FingerprintResult>(CASE_WORKER, jobs, workers, () => bar?.tick(1));
  bar?.done();
  return { fingerprints: roles.map((_, k) => mergeFingerprints(results.map((r) => r.parts[k]!))), spacings: results.map((r) => r.spacing) };
}

/** Trains every stage and requested fold; writes model.json files as stages finish. */
export async function trainSegmentation(options: TrainSegmentationOptions): Promise<TrainSegmentationResult> {
  const cfg: SegTrainConfig = { ...SEG_PRESETS[options.preset ?? 'default'], ...options.config };
  const phases = options.phases ?? ['arterial', 'portal_venous'];
  const cascade = options.cascade ?? phases.length === 2;
  const seed = options.seed ?? 12345;
  if (options.cases.length === 0) throw new HccError('train seg: no cases');
  if (options.device !== undefined) checkDevice(options.device);
  const cases = new TrainingCases(options.cases, { phases, cascade, marginMm: cfg.marginMm });
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), options.cases.length));
  const ids = cases.ids;
  const splits = options.splits ?? kFoldSplits(ids, options.nFolds ?? 5, seed);
  const folds = options.folds ?? [0];
  for (const f of folds) if (!splits[f]) throw new HccError(`--fold ${f}: only ${splits.length} folds`);
  for (const f of folds) {
    for (const id of [...splits[f]!.train, ...splits[f]!.val]) if (!ids.includes(id)) throw new HccError(`splits: case '${id}' is not among the training cases`);
  }
  mkdirSync(options.out, { recursive: true });
  const roles: StageRole[] = cascade ? ['liver', 'liver_tumour'] : [phases.length === 1 ? 'liver' : 'liver_tumour'];
  for (const s of options.stages ?? []) if (!roles[s - 1]) throw new HccError(`--stage ${s}: this model has ${roles.length} stage(s)`);
  const manifest: ModelManifest = {
    kind: MODEL_KIND, version: MODEL_VERSION, channels: phases,
    labels: roles.includes('liver_tumour') ? { background: 0, liver: 1, tumour: 2 } : { background: 0, liver: 1 },
    stages: roles.map((role, i) => ({ dir: `stage${i + 1}_${role}`, role })),
    provenance: { cases: ids.length, seed, ...options.provenance },
  };
  writeJsonAtomicSync(join(options.out, 'model.json'), manifest);
  const stages = roles.map((role, si) => ({ role, si })).filter(({ si }) => !options.stages || options.stages.includes(si + 1));

  const { fingerprints, spacings } = await fingerprintStages(cases, stages.map((s) => s.role), seed, workers, options.progress);
  // Planning is deterministic (seeded fingerprint), so a resumed run plans exactly as the killed one did.
  const cascadeInputs = stages.map(({ role }) => cascade && role === 'liver_tumour' && cfg.cascadeInput);
  const plans = stages.map(({ role }, k) => stagePlan(role, fingerprints[k]!, spacings, phases, cfg, cascadeInputs[k] ? 'liver' : undefined));
  // Stage 1's spacing, as its planning gives it (the median spacing does not depend on the crop).
  const lowSpacing = stageSpacing('liver', spacings, cfg);
  const stage1Dir = cfg.cascadeInputFrom === 'stage1' ? join(options.out, manifest.stages[0]!.dir) : null;

  // Pass 2, preprocessing: only each stage's resampled, normalised arrays stay in memory. The reference cascade
  // input does not depend on the fold, so it is made here; stage 1's predictions are per fold.
  const referenceSpacing = stages.map((_, k) => (cascadeInputs[k] && !stage1Dir ? xyz(lowSpacing) : null));
  const bar = options.progress === false ? null : createProgress({ label: 'preprocess', total: ids.length, unit: 'case' });
  const jobs = ids.map((id): PreprocessJob => ({
    kind: 'preprocess', prefix: cases.prefix(id), spec: cases.spec, roles: stages.map((s) => s.role), threads: threadsPerWorker(workers), plans, referenceSpacing,
  }));
  const preprocessed = await mapInWorkers<PreprocessJob, PreprocessResult[]>(CASE_WORKER, jobs, workers, () => bar?.tick(1));
  bar?.done();
  const pre = stages.map((_, k) => new Map(ids.map((id, i): [string, TrainCase] => [id, { id, ...preprocessed[i]![k]!.pre }])));
  const reference = stages.map((_, k) => (referenceSpacing[k] ? new Map(ids.map((id, i) => [id, preprocessed[i]![k]!.reference!])) : null));

  const result: TrainSegmentationResult = { out: options.out, stages: [], finished: true };
  for (const [k, { role, si }] of stages.entries()) {
    const dir = join(options.out, manifest.stages[si]!.dir);
    mkdirSync(dir, { recursive: true });
    const manifestPath = join(dir, 'model.json');
    const stagePlans = plans[k]!;
    const cascadeInput = cascadeInputs[k]!;
    const previous = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as StageManifest) : null;
    const stageOut: TrainSegmentationResult['stages'][number] = { role, dir, plans: stagePlans, folds: {} };
    // A cascade's stage 2 is validated end to end after the last stage (choosePostprocessing) wherever stage 1 is
    // trained in this run or already has the fold, as nnU-Net validates 3d_cascade_fullres on the low-resolution
    // stage's own predictions; stage 2 on the reference liver's box would repeat part of that pass (3 minutes for
    // 20 phantoms).
    const stage1Folds = cascade && role === 'liver_tumour' ? trainedFolds(join(options.out, manifest.stages[0]!.dir, 'model.json')) : [];
    const validatedEndToEnd = (f: number) => cascade && role === 'liver_tumour' && (stages.some((s) => s.role === 'liver') || stage1Folds.includes(f));
    const done: number[] = [];
    for (const f of folds) {
      const split = splits[f]!;
      const inputs = reference[k] ?? (cascadeInput && stage1Dir ? await stage1Inputs(cases, stage1Dir, f) : new Map<string, PreviousStage>());
      for (const [id, low] of inputs) pre[k]!.get(id)!.previous = transferMask(low.mask, low.grid, preprocessedGrid(pre[k]!.get(id)!));
      const pick = (list: string[]) => list.map((id) => pre[k]!.get(id)!);
      const r = await trainFold(join(dir, `fold_${f}`), stagePlans, pick(split.train), pick(split.val), {
        epochs: cascade && role === 'liver' ? (cfg.lowresEpochs ?? cfg.epochs) : cfg.epochs, itersPerEpoch: cfg.itersPerEpoch, valIters: cfg.valIters, seed, fold: f,
        resume: options.resume, progress: options.progress, stopAfterEpochs: options.stopAfterEpochs, device: options.device,
        initialLr: cfg.initialLr, augment: { mirrorAxes: cfg.mirrorAxes, ...(cfg.augment ? {} : { spatial: false, intensity: false }) },
      });
      r.net.dispose();
      const validation = r.finished && !validatedEndToEnd(f) ? await validate(dir, f, stagePlans, role, cases, split.val, inputs, options.progress) : undefined;
      stageOut.folds[f] = { finished: r.finished, log: r.log, validation };
      if (r.finished) done.push(f);
      else result.finished = false;
    }
    const stageManifest: StageManifest = {
      kind: 'hcc-seg-stage', version: MODEL_VERSION, role, plans: stagePlans, marginMm: cfg.marginMm,
      folds: [...new Set([...(previous?.folds ?? []).filter((f) => !folds.includes(f)), ...done])].sort((a, b) => a - b),
      training: { config: cfg, seed, splits: folds.map((f) => ({ fold: f, ...splits[f] })), ...(cascadeInput ? { cascadeInputSpacing: lowSpacing } : {}) },
      metrics: { ...previous?.metrics, ...Object.fromEntries(Object.entries(stageOut.folds).map(([f, v]) => [f, v.validation ?? null])) },
    };
    writeJsonAtomicSync(manifestPath, stageManifest);
    result.stages.push(stageOut);
  }
  if (result.finished && roles.at(-1) === 'liver_tumour') {
    const endToEnd = await choosePostprocessing(options.out, manifest, splits, cases, workers, options.progress);
    const last = result.stages.find((s) => s.role === 'liver_tumour');
    for (const [f, v] of endToEnd) if (last?.folds[f]) last.folds[f].validation = v;
  }
  return result;
}

/**
 * nnU-Net's determine_postprocessing, on the whole pipeline: every fold the model has (trained in this run or an
 * earlier one) segments its validation cases end to end (stage 1's box, stage 2, nnU-Net's postprocessing), and
 * the liver-contact rule for tumour components is chosen on the pooled lesions (`chooseTumourMinLiverContact`),
 * so training more folds gives the choice more cases. The choice and the validation detection before and after it
 * go into the last stage's model.json, replacing what was there, with each fold's end-to-end liver and tumour
 * Dice as its validation metrics (returned too). Folds missing from any stage (a stage trained alone, not yet the
 * other) are left out.
 */
async function choosePostprocessing(out: string, manifest: ModelManifest, splits: Array<{ train: string[]; val: string[] }>, cases: TrainingCases, workers: number, progress?: boolean): Promise<Map<number, ValidationMetrics>> {
  const stagePaths = manifest.stages.map((s) => join(out, s.dir, 'model.json'));
  const stageFolds = stagePaths.map(trainedFolds);
  const usable = stageFolds[0]!.filter((f) => (splits[f]?.val.length ?? 0) > 0 && stageFolds.every((sf) => sf.includes(f)));
  const metrics = new Map<number, ValidationMetrics>();
  if (usable.length === 0) return metrics;
  const jobs = usable.flatMap((fold) => splits[fold]!.val.map((id): EndToEndJob => ({
    kind: 'end-to-end', out, fold, prefix: cases.prefix(id), spec: cases.spec, threads: threadsPerWorker(workers),
  })));
  const bar = progress === false ? null : createProgress({ label: 'validation cases, postprocessing', total: jobs.length, unit: 'case' });
  const results = await mapInWorkers<EndToEndJob, EndToEndResult>(CASE_WORKER, jobs, workers, () => bar?.tick(1));
  const records = results.map((r) => r.record);
  for (const fold of usable) {
    const mine = results.filter((_, i) => jobs[i]!.fold === fold);
    const mean = (key: 'liverDice' | 'tumourDice') => mine.reduce((a, r) => a + r[key], 0) / mine.length;
    metrics.set(fold, { cases: mine.length, liverDice: mean('liverDice'), tumourDice: mean('tumourDice'), pipeline: 'end-to-end' });
  }
  const { tumourMinLiverContact, before, after } = chooseTumourMinLiverContact(records);
  bar?.done(`lesion F1 ${before.f1.toFixed(3)} -> ${after.f1.toFixed(3)} with tumour liver contact >= ${tumourMinLiverContact.toFixed(3)}`);
  const last = stagePaths.at(-1)!;
  const stage = JSON.parse(readFileSync(last, 'utf8')) as StageManifest;
  writeJsonAtomicSync(last, {
    ...stage, metrics: { ...stage.metrics, ...Object.fromEntries(metrics) },
    postprocessing: { tumourMinLiverContact }, postprocessingChoice: { folds: usable, cases: records.length, before, after },
  });
  return metrics;
}
