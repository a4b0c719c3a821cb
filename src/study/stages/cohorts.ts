import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { generateCohort } from '../../phantom/generate.js';
import type { CohortKind } from '../../phantom/patient.js';
import { checkRealCohort } from '../cohort-check.js';
import { isSynthetic, type CohortConfig, type StudyConfig } from '../config.js';
import type { Stage } from '../stage-runner.js';

/** Stage 1: generate the synthetic cohorts, or validate the real ones, into one layout later stages read. */
export interface CohortEntry {
  kind: CohortKind;
  synthetic: boolean;
  n: number;
  /** cohort.csv as the analyses read it. */
  csv: string;
  /** truth.csv (synthetic only). */
  truth: string | null;
  /** Folder of <id>_{art,pv,label}.nii.gz, or null when the cohort has no images. */
  images: string | null;
  missingByColumn: Record<string, number>;
}

export type CohortsResult = Record<CohortKind, CohortEntry>;

export async function prepareCohort(kind: CohortKind, c: CohortConfig, dir: string, workers: number): Promise<CohortEntry> {
  const out = join(dir, kind);
  if (isSynthetic(c)) {
    const s = c.synthetic;
    const g = await generateCohort({ cohort: kind, n: s.n, seed: s.seed, out, images: s.images, grid: s.grid, site: s.site ?? null, workers, progress: true });
    return { kind, synthetic: true, n: g.n, csv: join(out, 'cohort.csv'), truth: join(out, 'truth.csv'), images: s.images ? join(out, 'images') : null, missingByColumn: {} };
  }
  const check = checkRealCohort(kind, c.csv, c.images, join(out, 'cohort.csv'));
  return { kind, synthetic: false, n: check.n, csv: join(out, 'cohort.csv'), truth: null, images: c.images ?? null, missingByColumn: check.missingByColumn };
}

export function cohortsStage(config: StudyConfig, workers = availableParallelism()): Stage<CohortsResult> {
  return {
    name: '1-cohorts',
    version: 2,
    inputs: { cohorts: config.cohorts },
    async run(dir) {
      return {
        resection: await prepareCohort('resection', config.cohorts.resection, dir, workers),
        iat: await prepareCohort('iat', config.cohorts.iat, dir, workers),
      };
    },
  };
}
