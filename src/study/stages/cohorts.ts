import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { generateCohort } from '../../phantom/generate.js';
import { renderStoredCase, type PhantomImageSource } from '../../phantom/images.js';
import { casePaths } from '../../imaging/case.js';
import { readNiftiSync } from '../../imaging/nifti/read.js';
import type { Volume } from '../../imaging/volume.js';
import { HccError } from '../../util/errors.js';
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
  /** Folder of <id>_{art,pv,label}.nii.gz, or null when the cohort has no stored images. */
  images: string | null;
  /**
   * Synthetic cohorts with `images: on-demand`: how each case's CT phantom is rendered again from its seed
   * (renderStoredCase; the id gives the index). Absent otherwise, so the results of stored-image studies keep
   * their hashes.
   */
  onDemand?: PhantomImageSource;
  missingByColumn: Record<string, number>;
}

export type CohortsResult = Record<CohortKind, CohortEntry>;

export async function prepareCohort(kind: CohortKind, c: CohortConfig, dir: string, workers: number): Promise<CohortEntry> {
  const out = join(dir, kind);
  if (isSynthetic(c)) {
    const s = c.synthetic;
    const g = await generateCohort({ cohort: kind, n: s.n, seed: s.seed, out, images: s.images, grid: s.grid, site: s.site ?? null, workers, progress: true });
    const onDemand = s.images === 'on-demand' ? { onDemand: { cohort: kind, seed: s.seed, grid: s.grid, site: s.site ?? null } } : {};
    return { kind, synthetic: true, n: g.n, csv: join(out, 'cohort.csv'), truth: join(out, 'truth.csv'), images: s.images === true ? join(out, 'images') : null, ...onDemand, missingByColumn: {} };
  }
  const check = checkRealCohort(kind, c.csv, c.images, join(out, 'cohort.csv'));
  return { kind, synthetic: false, n: check.n, csv: join(out, 'cohort.csv'), truth: null, images: c.images ?? null, missingByColumn: check.missingByColumn };
}

/** Whether a cohort's cases have CT images, stored or rendered on demand. */
export function hasImages(entry: CohortEntry): boolean {
  return entry.images !== null || entry.onDemand !== undefined;
}

/** Where a case's images come from: a cohort's image folder, or its seeds (`images: on-demand`). */
export type CaseImageSource = Pick<CohortEntry, 'images' | 'onDemand'>;

/** One case's phases (and its label map when asked): read from the cohort's files, or rendered from its seed. */
export function caseVolumes(source: CaseImageSource, id: string, withLabel: boolean): { art: Volume; pv: Volume; label: Volume | null } {
  if (source.onDemand) {
    const c = renderStoredCase(source.onDemand, id);
    return { art: c.art, pv: c.pv, label: withLabel ? c.label : null };
  }
  if (!source.images) throw new HccError(`case ${id}: its cohort has no images`);
  const files = casePaths(join(source.images, id));
  return { art: readNiftiSync(files.art), pv: readNiftiSync(files.pv), label: withLabel ? readNiftiSync(files.label) : null };
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
