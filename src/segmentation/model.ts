import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as torch from '@hcc/torch';
import { HccError } from '../util/errors.js';
import type { Phase } from './cases.js';
import type { Detection } from './lesions.js';
import type { PostprocessingOptions } from './postprocess.js';
import { inputChannels, type ArchitectureKwargs, type Configuration, type Plans, type ZYX } from './plans.js';
import { PlainConvUNet } from './unet.js';

/**
 * Model folders (CONTRACTS.md "Models on disk"). Ours: `model.json` (kind 'hcc-seg') naming the input phases
 * and the stages, one subfolder per stage with its own `model.json` (plans, role) and `fold_k/checkpoint_final.pth`
 * (plus `checkpoint_best.pth`) in nnU-Net's checkpoint layout. A real nnU-Net v2 results folder (plans.json,
 * dataset.json, fold_N/) loads as a one-stage model whose channels are taken in dataset.json's order.
 */

export const MODEL_KIND = 'hcc-seg';
export const MODEL_VERSION = 1;

/** 'liver': finds the liver (label 1) over the whole scan. 'liver_tumour': labels 1 and 2, inside the liver box. */
export type StageRole = 'liver' | 'liver_tumour';

export interface StageManifest {
  kind: 'hcc-seg-stage';
  version: number;
  role: StageRole;
  plans: Plans;
  folds: number[];
  /** Margin around the stage-1 liver box (mm) that the liver_tumour stage sees, when it follows a liver stage. */
  marginMm?: number;
  /** Postprocessing beyond nnU-Net's; a user may edit it. Absent in models from before it existed: nnU-Net's alone. */
  postprocessing?: PostprocessingOptions;
  /** How training chose `postprocessing`: the folds and validation cases, and their lesion detection before and after. */
  postprocessingChoice?: { folds: number[]; cases: number; before: Detection; after: Detection };
  training?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

export interface ModelManifest {
  kind: typeof MODEL_KIND;
  version: number;
  channels: Phase[];
  labels: Record<string, number>;
  stages: Array<{ dir: string; role: StageRole }>;
  provenance?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

export interface LoadedStage {
  role: StageRole;
  plans: Plans;
  /** One network per fold, deep supervision off; logits are averaged over folds. */
  nets: PlainConvUNet[];
  mirrorAxes: number[] | null;
  marginMm: number;
  /** From the stage's model.json; nnU-Net's postprocessing alone when absent (imported nnU-Net models). */
  postprocessing?: PostprocessingOptions;
}

/**
 * Which checkpoint of each fold inference loads, as nnU-Net's `-chk`: 'final' (checkpoint_final.pth, the
 * default), 'best' (checkpoint_best.pth, the best EMA pseudo-Dice on validation during training) or a file name.
 */
export type CheckpointChoice = 'final' | 'best' | string;

/** The checkpoint file name for a choice: 'best' -> checkpoint_best.pth; a name ending in .pth is taken as is. */
export function checkpointFile(choice: CheckpointChoice = 'final'): string {
  if (/^[\w.-]+\.pth$/.test(choice)) return choice;
  if (/^\w+$/.test(choice)) return `checkpoint_${choice}.pth`;
  throw new HccError(`checkpoint '${choice}': expected final, best, or a file name such as checkpoint_best.pth`);
}

function missingCheckpoint(path: string, file: string): HccError {
  const hint = file === 'checkpoint_final.pth' ? 'the fold is not trained (resume training with --resume)'
    : file === 'checkpoint_best.pth' ? 'the fold was trained before best checkpoints were kept; use the final checkpoint'
      : 'no such checkpoint in this fold';
  return new HccError(`${path}: missing; ${hint}`);
}

export interface SegmentationModel {
  dir: string;
  format: 'hcc' | 'nnunet';
  channels: Phase[];
  stages: LoadedStage[];
  manifest: ModelManifest;
  /** The checkpoint file each fold was loaded from. */
  checkpoint: string;
  /** Where the networks are: 'cpu' or 'cuda[:N]'. Inference runs them there and does everything else on the CPU. */
  device: string;
}

function readJson(path: string): any {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new HccError(`${path}: missing`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HccError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Loads one checkpoint's network_weights into a network built from the plans; names the file on any failure. */
export function loadNetwork(path: string, plans: Plans): { net: PlainConvUNet; checkpoint: Record<string, any> } {
  let ck: Record<string, any>;
  try {
    ck = torch.load(path) as Record<string, any>;
  } catch (e) {
    throw new HccError(`${path}: cannot read the checkpoint (${(e as Error).message})`);
  }
  const weights = ck?.network_weights ?? ck?.state_dict;
  if (!weights || typeof weights !== 'object') throw new HccError(`${path}: no 'network_weights' in the checkpoint; expected nnU-Net's checkpoint layout`);
  const K = Object.keys(plans.labels).length;
  const net = new PlainConvUNet(inputChannels(plans), K, plans.configuration.architecture.arch_kwargs, false);
  try {
    net.loadStateDict(weights);
  } catch (e) {
    net.dispose();
    throw new HccError(`${path}: the weights do not fit the architecture in the plans: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`);
  }
  net.eval();
  return { net, checkpoint: ck };
}

function loadHccStage(dir: string, role: StageRole, folds: number[] | undefined, file: string): LoadedStage {
  const m = readJson(join(dir, 'model.json')) as StageManifest;
  if (m.kind !== 'hcc-seg-stage') throw new HccError(`${join(dir, 'model.json')}: kind '${m.kind}', expected 'hcc-seg-stage'`);
  if (m.version > MODEL_VERSION) throw new HccError(`${join(dir, 'model.json')}: version ${m.version} is newer than this program reads (${MODEL_VERSION})`);
  const use = folds ?? m.folds;
  if (use.length === 0) throw new HccError(`${dir}: no trained folds`);
  let mirrorAxes: number[] | null = [0, 1, 2];
  const nets = use.map((f) => {
    const p = join(dir, `fold_${f}`, file);
    if (!existsSync(p)) throw missingCheckpoint(p, file);
    const { net, checkpoint } = loadNetwork(p, m.plans);
    // Checkpoints from before mirroring was configurable lack the key; those models were trained with all flips.
    if (checkpoint.inference_allowed_mirroring_axes !== undefined) mirrorAxes = checkpoint.inference_allowed_mirroring_axes as number[] | null;
    return net;
  });
  return { role: m.role ?? role, plans: m.plans, nets, mirrorAxes, marginMm: m.marginMm ?? 10, postprocessing: m.postprocessing ?? {} };
}

/** nnU-Net plans.json + dataset.json (v2, with or without the `architecture` block) as our Plans. */
export function plansFromNnunet(plansJson: any, datasetJson: any, configuration: string, file = 'plans.json'): Plans {
  const configs = plansJson.configurations ?? {};
  const resolve = (name: string, depth = 0): any => {
    const c = configs[name];
    if (!c) throw new HccError(`${file}: no configuration '${name}' (has ${Object.keys(configs).join(', ')})`);
    if (c.inherits_from && depth < 5) return { ...resolve(c.inherits_from, depth + 1), ...c };
    return c;
  };
  const c = resolve(configuration);
  if (c.previous_stage) throw new HccError(`${file}: configuration '${configuration}' is a cascade stage (previous_stage '${c.previous_stage}'); nnU-Net cascades are not supported, use 3d_fullres`);
  let arch: ArchitectureKwargs;
  const className: string = c.architecture?.network_class_name ?? c.UNet_class_name ?? 'PlainConvUNet';
  if (!/PlainConvUNet$/.test(className)) throw new HccError(`${file}: network ${className} is not supported; only PlainConvUNet (ResEnc presets are not)`);
  if (c.architecture) {
    const k = c.architecture.arch_kwargs;
    arch = {
      n_stages: k.n_stages, features_per_stage: k.features_per_stage, kernel_sizes: k.kernel_sizes, strides: k.strides,
      n_conv_per_stage: k.n_conv_per_stage, n_conv_per_stage_decoder: k.n_conv_per_stage_decoder, conv_bias: k.conv_bias ?? true,
      norm_op_kwargs: { eps: k.norm_op_kwargs?.eps ?? 1e-5, affine: k.norm_op_kwargs?.affine ?? true },
      nonlin_kwargs: { inplace: true, negative_slope: k.nonlin_kwargs?.negative_slope },
    };
  } else {
    const strides = c.pool_op_kernel_sizes as ZYX[];
    const n = strides.length;
    arch = {
      n_stages: n,
      features_per_stage: Array.from({ length: n }, (_, i) => Math.min(c.UNet_base_num_features * 2 ** i, c.unet_max_num_features)),
      kernel_sizes: c.conv_kernel_sizes, strides,
      n_conv_per_stage: Array.isArray(c.n_conv_per_stage_encoder) ? c.n_conv_per_stage_encoder : new Array(n).fill(c.n_conv_per_stage_encoder ?? 2),
      n_conv_per_stage_decoder: Array.isArray(c.n_conv_per_stage_decoder) ? c.n_conv_per_stage_decoder : new Array(n - 1).fill(c.n_conv_per_stage_decoder ?? 2),
      conv_bias: true, norm_op_kwargs: { eps: 1e-5, affine: true }, nonlin_kwargs: { inplace: true },
    };
  }
  const tf = plansJson.transpose_forward ?? [0, 1, 2];
  if (tf.join() !== '0,1,2') throw new HccError(`${file}: transpose_forward ${JSON.stringify(tf)} is not supported yet (only the identity)`);
  const labels: Record<string, number> = {};
  for (const [name, v] of Object.entries(datasetJson.labels ?? {})) {
    if (typeof v !== 'number') throw new HccError(`dataset.json: label '${name}' is a region (${JSON.stringify(v)}); region-based models are not supported`);
    labels[name] = v;
  }
  const channelNames = Object.keys(datasetJson.channel_names ?? datasetJson.modality ?? {}).sort((a, b) => Number(a) - Number(b))
    .map((k) => String((datasetJson.channel_names ?? datasetJson.modality)[k]));
  const configurationOut: Configuration = {
    spacing: c.spacing, patch_size: c.patch_size, batch_size: c.batch_size, batch_dice: c.batch_dice,
    normalization_schemes: c.normalization_schemes ?? channelNames.map((n) => (n.toLowerCase() === 'ct' ? 'CTNormalization' : 'ZScoreNormalization')),
    use_mask_for_norm: c.use_mask_for_norm ?? channelNames.map(() => false),
    architecture: { network_class_name: className, arch_kwargs: arch },
  };
  return {
    plans_name: plansJson.plans_name ?? 'nnUNetPlans',
    transpose_forward: [0, 1, 2], transpose_backward: [0, 1, 2],
    original_median_spacing_after_transp: plansJson.original_median_spacing_after_transp,
    original_median_shape_after_transp: plansJson.original_median_shape_after_transp,
    foreground_intensity_properties_per_channel: plansJson.foreground_intensity_properties_per_channel,
    configuration: configurationOut,
    labels,
  };
}

function loadNnunet(dir: string, file: string, folds?: number[], phases?: Phase[]): Omit<SegmentationModel, 'device'> {
  const plansJson = readJson(join(dir, 'plans.json'));
  const datasetJson = readJson(join(dir, 'dataset.json'));
  const available = readdirSync(dir).map((f) => /^fold_(\d+)$/.exec(f)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b)
    .filter((f) => existsSync(join(dir, `fold_${f}`, file)));
  const use = folds ?? available;
  if (use.length === 0) throw new HccError(`${dir}: no fold_N/${file}`);
  let configuration = basename(dir).split('__')[2] ?? '3d_fullres';
  const nets: PlainConvUNet[] = [];
  let mirrorAxes: number[] | null = [0, 1, 2];
  let plans: Plans | null = null;
  for (const f of use) {
    const p = join(dir, `fold_${f}`, file);
    if (!existsSync(p)) throw missingCheckpoint(p, file);
    // The configuration comes from the checkpoint when it says (nnU-Net's predictor reads init_args).
    let raw: Record<string, any>;
    try {
      raw = torch.loadRaw(p) as Record<string, any>;
    } catch (e) {
      throw new HccError(`${p}: cannot read the checkpoint (${(e as Error).message})`);
    }
    configuration = raw?.init_args?.configuration ?? configuration;
    mirrorAxes = raw?.inference_allowed_mirroring_axes === undefined ? mirrorAxes : (raw.inference_allowed_mirroring_axes as number[] | null);
    plans ??= plansFromNnunet(plansJson, datasetJson, configuration, join(dir, 'plans.json'));
    nets.push(loadNetwork(p, plans).net);
  }
  const nChannels = plans!.configuration.normalization_schemes.length;
  const channels = phases ?? (nChannels === 1 ? ['portal_venous'] : ['arterial', 'portal_venous']).slice(0, nChannels) as Phase[];
  const labels = plans!.labels;
  const role: StageRole = Object.keys(labels).length > 2 ? 'liver_tumour' : 'liver';
  return {
    dir, format: 'nnunet', channels,
    stages: [{ role, plans: plans!, nets, mirrorAxes, marginMm: 0 }],
    manifest: { kind: MODEL_KIND, version: MODEL_VERSION, channels, labels, stages: [{ dir: '.', role }] },
    checkpoint: file,
  };
}

/**
 * Loads an hcc-iat model folder or an nnU-Net v2 results folder; `folds` picks folds (default: all trained),
 * `checkpoint` the file per fold (default checkpoint_final.pth).
 */
export function loadSegmentationModel(
  dir: string, options: { folds?: number[]; phases?: Phase[]; checkpoint?: CheckpointChoice; device?: string } = {},
): SegmentationModel {
  const device = options.device ?? 'cpu';
  checkDevice(device);
  const model = loadModelOnCpu(dir, options);
  if (device !== 'cpu') for (const s of model.stages) for (const n of s.nets) n.to(device);
  return { ...model, device };
}

const DEVICE = /^(?:cpu|cuda(?::(\d+))?)$/;

/** Whether `device` names a device the segmentation runs on: 'cpu', 'cuda' or 'cuda:N' (present or not). */
export function isDeviceName(device: string): boolean {
  return DEVICE.test(device);
}

/**
 * A clear error for a device name that is malformed or that this libtorch or machine lacks, instead of libtorch's
 * own at the first tensor; 'cpu' always passes.
 */
export function checkDevice(device: string): void {
  const m = DEVICE.exec(device);
  if (!m) throw new HccError(`device '${device}': expected 'cpu', 'cuda' or 'cuda:N'`);
  if (device === 'cpu') return;
  if (!torch.buildInfo().cudaBuild) {
    throw new HccError(`device '${device}': this build of @hcc/torch links a CPU-only libtorch; rebuild it with LIBTORCH=<CUDA libtorch> (docs/torch.md)`);
  }
  const count = torch.cuda.isAvailable() ? torch.cuda.deviceCount() : 0;
  if (Number(m[1] ?? 0) >= count) throw new HccError(`device '${device}': ${count} CUDA device(s) visible`);
}

function loadModelOnCpu(dir: string, options: { folds?: number[]; phases?: Phase[]; checkpoint?: CheckpointChoice }): Omit<SegmentationModel, 'device'> {
  if (!existsSync(dir)) throw new HccError(`${dir}: no such model folder`);
  const file = checkpointFile(options.checkpoint);
  if (existsSync(join(dir, 'plans.json')) && existsSync(join(dir, 'dataset.json'))) return loadNnunet(dir, file, options.folds, options.phases);
  if (!existsSync(join(dir, 'model.json'))) throw new HccError(`${dir}: neither an hcc-iat model (model.json) nor an nnU-Net results folder (plans.json + dataset.json)`);
  const m = readJson(join(dir, 'model.json')) as ModelManifest;
  if (m.kind !== MODEL_KIND) throw new HccError(`${join(dir, 'model.json')}: kind '${m.kind}', expected '${MODEL_KIND}'`);
  if (m.version > MODEL_VERSION) throw new HccError(`${join(dir, 'model.json')}: version ${m.version} is newer than this program reads (${MODEL_VERSION})`);
  const stages = m.stages.map((s) => loadHccStage(join(dir, s.dir), s.role, options.folds, file));
  for (const [i, s] of stages.entries()) {
    if (s.plans.configuration.previous_stage && stages[i - 1]?.role !== s.plans.configuration.previous_stage) {
      throw new HccError(`${dir}: stage ${s.role} takes the ${s.plans.configuration.previous_stage} stage's output as input, but the stage before it is ${stages[i - 1]?.role ?? 'missing'}`);
    }
    if (s.plans.configuration.normalization_schemes.length !== m.channels.length) {
      throw new HccError(`${dir}: stage ${s.role} takes ${s.plans.configuration.normalization_schemes.length} channels but model.json lists ${m.channels.join(', ')}`);
    }
  }
  return { dir, format: 'hcc', channels: m.channels, stages, manifest: m, checkpoint: file };
}

export function disposeModel(model: SegmentationModel): void {
  for (const s of model.stages) for (const n of s.nets) n.dispose();
}
