import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import { DEFAULT_CONFIG, type PmnConfig, type TrainingConfig } from './config.js';
import type { Normalisation } from './input.js';
import { PrototypeMambaNet } from './model.js';
import type { PushedPrototype } from './push.js';

export const PMN_KIND = 'pmn';
export const PMN_VERSION = 1;
export const PMN_CHANNELS = ['arterial', 'portal_venous', 'tumour_mask', 'liver_mask'];

/** model.json (CONTRACTS.md "Models on disk"). */
export interface PmnModelJson {
  kind: typeof PMN_KIND;
  version: number;
  /** Network architecture (the model class is PMN-S when equal to DEFAULT_CONFIG). */
  config: PmnConfig;
  training: TrainingConfig;
  /** Input channels in order. */
  channels: string[];
  normalisation: Normalisation;
  /** Training-set mean and SD of the Cox risk: risk_score = (risk − mean) / sd, the nomogram's imaging score. */
  riskScale: { mean: number; sd: number };
  prototypes: PushedPrototype[];
  weights: string;
  provenance: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export interface LoadedPmn {
  dir: string;
  meta: PmnModelJson;
  net: PrototypeMambaNet;
}

export function saveModel(dir: string, net: PrototypeMambaNet, meta: Omit<PmnModelJson, 'kind' | 'version' | 'weights' | 'channels' | 'config'>): PmnModelJson {
  mkdirSync(dir, { recursive: true });
  const weights = 'model.pth';
  torch.save(torch.tidy(() => net.stateDict()), join(dir, weights));
  const json: PmnModelJson = {
    kind: PMN_KIND,
    version: PMN_VERSION,
    config: net.config,
    channels: PMN_CHANNELS.slice(0, net.config.inChannels),
    weights,
    ...meta,
  };
  writeJsonAtomicSync(join(dir, 'model.json'), json);
  return json;
}

export function readModelJson(dir: string): PmnModelJson {
  const path = join(dir, 'model.json');
  if (!existsSync(path)) throw new HccError(`${dir}: not a model folder (no model.json)`);
  let meta: PmnModelJson;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as PmnModelJson;
  } catch (err) {
    throw new HccError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (meta.kind !== PMN_KIND) throw new HccError(`${path}: kind is '${meta.kind}', expected '${PMN_KIND}'`);
  if (meta.version !== PMN_VERSION) throw new HccError(`${path}: version ${meta.version}, this build reads version ${PMN_VERSION}`);
  const config = { ...DEFAULT_CONFIG, ...meta.config };
  const expected = PMN_CHANNELS.slice(0, config.inChannels);
  if (meta.channels.length !== config.inChannels || meta.channels.some((c, i) => c !== expected[i])) {
    throw new HccError(`${path}: channels [${meta.channels.join(', ')}] do not match inChannels ${config.inChannels} ([${expected.join(', ')}])`);
  }
  return { ...meta, config };
}

export function loadModel(dir: string): LoadedPmn {
  const meta = readModelJson(dir);
  const net = new PrototypeMambaNet(meta.config);
  const weights = join(dir, meta.weights);
  if (!existsSync(weights)) throw new HccError(`${dir}: weights file ${meta.weights} is missing`);
  const sd = torch.load(weights) as Record<string, torch.Tensor>;
  try {
    net.loadStateDict(sd);
  } catch (err) {
    throw new HccError(`${weights}: does not fit model.json's architecture: ${(err as Error).message}`);
  } finally {
    torch.dispose(sd);
  }
  net.eval();
  return { dir, meta, net };
}
