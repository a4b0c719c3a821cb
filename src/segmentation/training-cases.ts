import { basename } from 'node:path';
import { dice } from '../imaging/metrics.js';
import { labelMask } from '../imaging/ops/mask-volume.js';
import { boundingBox, cropOrPad, expandBox, marginInVoxels } from '../imaging/ops/crop.js';
import { makeVolume, type Vec3, type Volume } from '../imaging/volume.js';
import { lowresReference, type PreviousStage } from './cascade.js';
import { channelsFor, readCase, type CaseImages, type Phase } from './cases.js';
import { segmentCase } from './infer.js';
import { detectionRecord, type DetectionRecord } from './lesions.js';
import { disposeModel, loadSegmentationModel, type SegmentationModel, type StageRole } from './model.js';
import { fingerprintCase, type FingerprintPart, type Plans } from './plans.js';
import { preprocessCase, type PreprocessedCase } from './preprocess.js';

/**
 * Training cases on disk and the per-case passes over them (nnU-Net's fingerprint extraction and preprocessing,
 * and the end-to-end validation after training), each a pure function of one case's files, so training runs
 * them in worker threads (`case-worker.ts`).
 */

export interface LoadedTrainingCase {
  id: string;
  /** Where the case's grid starts on the loaded case's grid (a liver crop's box). */
  offset?: Vec3;
  channels: Volume[];
  labels: Volume;
}

/** How cases are read and what each stage sees of them. */
export interface TrainingCaseSpec {
  phases: Phase[];
  cascade: boolean;
  /** Margin around the reference liver of a cascade's stage-2 crop. */
  marginMm: number;
}

/**
 * Validation Dice from overlap alone (labelMetrics would also compute surface distances): the liver as any
 * non-zero label (the organ with its tumours) and the tumour label.
 */
export function liverAndTumourDice(pred: Volume, ref: Volume): { liverDice: number; tumourDice: number } {
  return { liverDice: dice(pred.data, ref.data), tumourDice: dice(labelMask(pred.data, 2), labelMask(ref.data, 2)) };
}

function binaryLiver(labels: Volume): Volume {
  const d = new Uint8Array(labels.data.length);
  for (let i = 0; i < d.length; i++) d[i] = labels.data[i]! > 0 ? 1 : 0;
  return makeVolume(labels.shape, labels.affine, d, labels.meta);
}

function liverCrop(c: LoadedTrainingCase, marginMm: number): LoadedTrainingCase {
  const box = boundingBox(c.labels.data, c.labels.shape);
  if (!box) return c;
  const b = expandBox(box, marginInVoxels(c.labels.spacing, marginMm), c.labels.shape);
  return { id: c.id, offset: b.start, channels: c.channels.map((v) => cropOrPad(v, b, -1024)), labels: cropOrPad(c.labels, b, 0) };
}

/**
 * The training cases on disk, read one at a time: a cohort of clinical CTs does not fit in memory at full
 * resolution (two phases of 512x512x100 are 210 MB as float32), so training keeps only each stage's
 * preprocessed arrays and reads a case again where it needs the original grid.
 */
export class TrainingCases {
  readonly ids: string[];
  private readonly prefixById: Map<string, string>;

  constructor(prefixes: string[], readonly spec: TrainingCaseSpec) {
    this.ids = prefixes.map((p) => basename(p));
    this.prefixById = new Map(this.ids.map((id, i) => [id, prefixes[i]!]));
  }

  prefix(id: string): string {
    return this.prefixById.get(id)!;
  }

  async whole(id: string): Promise<LoadedTrainingCase> {
    const images = await this.images(id);
    return { id, channels: channelsFor(images, this.spec.phases), labels: images.labels! };
  }

  /** The case as `hcc segment` reads it, with its labels. */
  images(id: string): Promise<CaseImages> {
    return readCase(this.prefix(id), { labels: true, phases: this.spec.phases });
  }

  /** What a stage trains on: stage 1 the whole scan with liver ∪ tumour as liver, a cascade's stage 2 the liver box. */
  view(c: LoadedTrainingCase, role: StageRole): LoadedTrainingCase {
    return role === 'liver' ? { ...c, labels: binaryLiver(c.labels) } : this.spec.cascade ? liverCrop(c, this.spec.marginMm) : c;
  }
}

interface CaseJobBase {
  prefix: string;
  spec: TrainingCaseSpec;
  /** The stages being trained, in order; results come per stage. */
  roles: StageRole[];
  /** Intra-op torch threads of the worker. */
  threads: number;
}

/** Pass 1: each stage's fingerprint of its view of the case (`index` of `total` seeds the intensity sample). */
export interface FingerprintJob extends CaseJobBase {
  kind: 'fingerprint';
  index: number;
  total: number;
  seed: number;
}

/** Pass 2: the case preprocessed for each stage, and the reference cascade input where `referenceSpacing` is set. */
export interface PreprocessJob extends CaseJobBase {
  kind: 'preprocess';
  plans: Plans[];
  /** Per stage: stage 1's spacing (x, y, z) to degrade the reference liver through, or null for no cascade input. */
  referenceSpacing: Array<Vec3 | null>;
}

/** After training: a validation case segmented end to end by one fold of the model folder `out`. */
export interface EndToEndJob extends Omit<CaseJobBase, 'roles'> {
  kind: 'end-to-end';
  out: string;
  fold: number;
}

export type CaseJob = FingerprintJob | PreprocessJob | EndToEndJob;

export interface FingerprintResult {
  spacing: Vec3;
  parts: FingerprintPart[];
}

export interface PreprocessResult {
  pre: PreprocessedCase;
  reference: PreviousStage | null;
}

export async function fingerprintOne(job: FingerprintJob): Promise<FingerprintResult> {
  const cases = new TrainingCases([job.prefix], job.spec);
  const c = await cases.whole(cases.ids[0]!);
  return { spacing: c.labels.spacing, parts: job.roles.map((role) => fingerprintCase(cases.view(c, role), job.index, job.total, job.seed)) };
}

export async function preprocessOne(job: PreprocessJob): Promise<PreprocessResult[]> {
  const cases = new TrainingCases([job.prefix], job.spec);
  const c = await cases.whole(cases.ids[0]!);
  return job.roles.map((role, k) => {
    const v = cases.view(c, role);
    const spacing = job.referenceSpacing[k];
    return {
      pre: preprocessCase(v.channels, job.plans[k]!, v.labels),
      reference: spacing ? lowresReference(v.labels.data, v.labels.shape, v.labels.spacing, spacing) : null,
    };
  });
}

export interface EndToEndResult {
  record: DetectionRecord;
  liverDice: number;
  tumourDice: number;
}

let loaded: { key: string; model: SegmentationModel } | null = null;

/**
 * Segments the case with the fold's model (stage 1's box, stage 2, nnU-Net's postprocessing without the
 * liver-contact rule, which is what is being chosen) and scores it against its labels. A worker keeps the last
 * model it loaded, since it gets a fold's cases one after another.
 */
export async function validateEndToEnd(job: EndToEndJob): Promise<EndToEndResult> {
  const key = `${job.out}\0${job.fold}`;
  if (loaded?.key !== key) {
    if (loaded) disposeModel(loaded.model);
    loaded = null;
    const model = loadSegmentationModel(job.out, { folds: [job.fold] });
    model.stages.at(-1)!.postprocessing = {};
    loaded = { key, model };
  }
  const cases = new TrainingCases([job.prefix], job.spec);
  const images = await cases.images(cases.ids[0]!);
  const labels = segmentCase(loaded.model, images).labels;
  return { record: detectionRecord(labels, images.labels!), ...liverAndTumourDice(labels, images.labels!) };
}
