import { writeCohort, type CohortSummary } from './cohort.js';
import { createImagePool } from './images.js';
import type { CohortKind, ImageGrid } from './patient.js';

/**
 * One call for a whole synthetic cohort: the clinical tables and, when asked, the CT phantoms rendered by a pool
 * of worker threads. `hcc cohort generate` and the study's cohort stage both use it.
 */
export interface GenerateCohortOptions {
  cohort: CohortKind;
  n: number;
  seed: number;
  out: string;
  /** `on-demand`: tables only; the images are rendered again from their seeds where needed (renderStoredCase). */
  images: boolean | 'on-demand';
  grid: ImageGrid;
  site: string | null;
  workers: number;
  progress: boolean;
}

export interface GeneratedCohort extends CohortSummary {
  images: boolean | 'on-demand';
  grid: ImageGrid | null;
  site: string | null;
}

export async function generateCohort(options: GenerateCohortOptions): Promise<GeneratedCohort> {
  const { cohort, n, seed, out, images, grid, site, workers } = options;
  const pool = images === true ? await createImagePool(workers, { grid, site }, out) : null;
  let summary: CohortSummary;
  try {
    summary = await writeCohort({
      cohort,
      n,
      seed,
      out,
      onPatient: pool ? (g) => pool.submit(g.record) : undefined,
      progress: options.progress,
      provenance: { images, grid: images ? grid : null, site },
    });
  } finally {
    await pool?.close();
  }
  return { ...summary, images, grid: images ? grid : null, site };
}
