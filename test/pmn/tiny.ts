// Tiny synthetic crops and a tiny PMN configuration shared by the PMN tests.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PmnCase } from '../../src/pmn/batches.js';
import type { PmnConfig, TrainingConfig } from '../../src/pmn/config.js';
import { DEFAULT_CONFIG } from '../../src/pmn/config.js';
import { cropPath, saveCrop } from '../../src/pmn/crop-store.js';
import type { TumourCrop } from '../../src/pmn/crop.js';
import { Rng } from '../../src/util/rng.js';

export const TINY_CONFIG: PmnConfig = {
  ...DEFAULT_CONFIG,
  inputSize: [16, 16, 8],
  stemChannels: [4, 8],
  dModel: 16,
  depth: 2,
  dState: 4,
  prototypesPerClass: 2,
};

/** Stored crop size of the tiny cases: a 2-voxel jitter margin around the input. */
export const TINY_CROP: [number, number, number] = [18, 18, 10];

export const TINY_TRAINING: Partial<TrainingConfig> = {
  batchSize: 8,
  warmupEpochs: 2,
  lr: 1e-2,
  prototypeLr: 1e-2,
  pushEpochs: [],
  lastLayerSteps: 100,
  augment: false,
};

/**
 * A tumour crop: liver at 60 HU, a cube tumour in the middle; proliferative tumours (label 1) have a bright
 * arterial rim and a dark core (rim enhancement, necrosis), others are homogeneous at 90 HU.
 */
export function tinyCrop(label: number, rng: Rng, size: [number, number, number] = TINY_CROP): TumourCrop {
  const [nx, ny, nz] = size;
  const n = nx * ny * nz;
  const art = new Float32Array(n);
  const pv = new Float32Array(n);
  const tumour = new Uint8Array(n);
  const liver = new Uint8Array(n).fill(1);
  const r = 3 + rng.int(2);
  const [cx, cy, cz] = [nx / 2, ny / 2, nz / 2];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const p = x + nx * (y + ny * z);
    const d = Math.max(Math.abs(x - cx), Math.abs(y - cy), 2 * Math.abs(z - cz));
    let a = 60;
    let v = 70;
    if (d < r) {
      tumour[p] = 1;
      const rim = d >= r - 1;
      a = label ? (rim ? 200 : 20) : 90;
      v = label ? (rim ? 110 : 30) : 60;
    }
    art[p] = a + rng.normal(0, 8);
    pv[p] = v + rng.normal(0, 8);
  }
  return { size, spacing: [1.5, 1.5, 2.5], scale: 1, centre: [0, 0, 0], art, pv, tumour, liver, affine: [1.5, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1] };
}

export function tmp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pmn-${name}-`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** n resection cases alternating labels, and n iat cases with tied times and some censoring, as crop files. */
export function tinyCohort(dir: string, n: number, seed = 1): { resection: PmnCase[]; iat: PmnCase[] } {
  const rng = Rng.stream(seed, 'tiny-cohort');
  const resection: PmnCase[] = [];
  const iat: PmnCase[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const id = `R${i}`;
    saveCrop(cropPath(dir, id), tinyCrop(label, rng));
    resection.push({ id, crop: cropPath(dir, id), label });
    const iid = `I${i}`;
    const p = i % 2;
    saveCrop(cropPath(dir, iid), tinyCrop(p, rng));
    iat.push({ id: iid, crop: cropPath(dir, iid), time: p ? 5 + (i % 3) : 20 + (i % 3), event: i % 4 === 3 ? 0 : 1 });
  }
  return { resection, iat };
}
