import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { Rng } from '../util/rng.js';
import { loadCrop } from './crop-store.js';
import type { AugmentationRanges, PmnConfig } from './config.js';
import { drawAugmentation, fillInput, symmetryAugmentation, type Normalisation, type Symmetry } from './input.js';

/** One training or scoring case: its crop file and whatever outcome its cohort has. */
export interface PmnCase {
  id: string;
  crop: string;
  /** Proliferative label (resection). */
  label?: number;
  /** Overall survival (iat). */
  time?: number;
  event?: number;
}

/**
 * An epoch's order with the strata spread evenly: each stratum is shuffled and its members placed at
 * (rank + u) / size, so every batch holds each stratum in about its overall share (both classes, or enough
 * events for the Cox loss to rank).
 */
export function stratifiedOrder<T>(items: T[], stratum: (t: T) => string, rng: Rng): T[] {
  const groups = new Map<string, T[]>();
  for (const t of items) {
    const k = stratum(t);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(t);
  }
  const keyed: Array<[number, T]> = [];
  for (const key of [...groups.keys()].sort()) {
    const members = rng.shuffle([...groups.get(key)!]);
    members.forEach((t, r) => keyed.push([(r + rng.uniform()) / members.length, t]));
  }
  return keyed.sort((a, b) => a[0] - b[0]).map(([, t]) => t);
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The network input for a batch of cases [B, C, Z, Y, X]: randomly augmented when given an Rng (training), the
 * central input seen through a symmetry when given one (test-time augmentation), else the central input. `ranges`
 * are the random augmentation's (default DEFAULT_AUGMENTATION).
 */
export function inputBatch(cases: PmnCase[], norm: Normalisation, config: PmnConfig, augment: Rng | Symmetry | null, ranges?: AugmentationRanges): Tensor {
  const [nx, ny, nz] = config.inputSize;
  const per = config.inChannels * nx * ny * nz;
  const data = new Float32Array(cases.length * per);
  cases.forEach((c, i) => {
    const crop = loadCrop(c.crop);
    const rng = augment instanceof Rng ? augment : null;
    const aug = rng ? drawAugmentation(config, crop.size, rng, ranges) : augment ? symmetryAugmentation(config, crop.size, augment as Symmetry) : null;
    fillInput(data.subarray(i * per, (i + 1) * per), crop, norm, config, aug, rng, `case ${c.id} (${c.crop})`);
  });
  return torch.fromArray(data, [cases.length, config.inChannels, nz, ny, nx]);
}
