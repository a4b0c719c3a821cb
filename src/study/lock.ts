import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashJson } from '../util/hash.js';
import type { StageRecord } from './stage-runner.js';
import type { StudyConfig } from './config.js';

/**
 * study.lock: what makes a rerun provably the same study: the software versions, the config (and its hash),
 * every seed, and each stage's input and result hashes. Two runs with equal locks produced equal results.
 */
export interface StudyLock {
  hccIat: string;
  node: string;
  platform: string;
  libtorch: string | null;
  configHash: string;
  seeds: Record<string, number>;
  stages: Array<Pick<StageRecord, 'stage' | 'inputHash' | 'resultHash'>>;
}

function packageVersion(): string {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The libtorch version the addon was built against, or null where the torch package is not built. */
function libtorchVersion(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const configPath = require.resolve('@hcc/torch/package.json').replace(/package\.json$/, 'build/torch-config.json');
    return (JSON.parse(readFileSync(configPath, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

export function seedsOf(config: StudyConfig): Record<string, number> {
  const seeds: Record<string, number> = { study: config.seed };
  for (const [name, cohort] of Object.entries(config.cohorts)) {
    if ('synthetic' in cohort) seeds[`cohort.${name}`] = cohort.synthetic.seed;
  }
  return seeds;
}

export function buildLock(config: StudyConfig, stages: StageRecord[]): StudyLock {
  const { source: _source, ...portable } = config;
  return {
    hccIat: packageVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    libtorch: libtorchVersion(),
    configHash: hashJson(portable),
    seeds: seedsOf(config),
    stages: stages.map(({ stage, inputHash, resultHash }) => ({ stage, inputHash, resultHash })),
  };
}
