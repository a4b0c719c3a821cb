import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mapInWorkers } from '../../util/worker-pool.js';
import { join } from 'node:path';
import { casePaths } from '../../imaging/case.js';
import { readNiftiSync } from '../../imaging/nifti/read.js';
import { axialSlicePng } from '../../imaging/png.js';
import { measureTumours } from '../../imaging/tumour.js';
import type { Volume } from '../../imaging/volume.js';
import { DEFAULT_CONFIG, type PmnConfig } from '../../pmn/config.js';
import { cropSpecFor, tumourCrop, type CropSpec } from '../../pmn/crop.js';
import { readModelJson } from '../../pmn/model-store.js';
import { cropPath, saveCrop } from '../../pmn/crop-store.js';
import { radiomicsFeatures } from '../../pmn/baselines/radiomics.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { formatCsv } from '../../util/csv.js';
import { createProgress } from '../../util/progress.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import type { Stage } from '../stage-runner.js';
import { caseVolumes, hasImages, type CaseImageSource, type CohortEntry, type CohortsResult } from './cohorts.js';

/**
 * Stage 3 (segmentation mode `labels`): for every case with images (stored, or rendered from its seed in the
 * worker for an `images: on-demand` cohort, identical voxel for voxel), the tumour burden measured from its label
 * map (CONTRACTS.md definitions) next to the values in cohort.csv, the PMN crop, and the radiomics features the
 * baseline uses. A few cases get an overlay PNG for the report. Later stages read only the crops and tables.
 */
export interface ImagingCohort {
  n: number;
  cropsDir: string;
  featuresCsv: string;
  /** cohort.csv restricted to the cases with a crop (what the PMN trains and scores on). */
  croppedCsv: string;
  /** Cases whose mask has no tumour: no crop, no imaging score. */
  noTumour: string[];
  /** Which masks the crops and measurements come from. */
  masks: 'labels' | 'segmentation';
  /** Measured from the masks against cohort.csv: agreement of the tumour count, diameter error in cm. */
  measurement: { countAgreement: number; diameterMeanAbsErrorCm: number };
  overlays: string[];
}

export type ImagingResult = Partial<Record<'resection' | 'iat', ImagingCohort>>;

function overlay(art: Volume, label: Volume): Buffer {
  // The axial slice with the most tumour, where a reader looks first.
  const [nx, ny, nz] = label.shape;
  let best = 0;
  let bestCount = -1;
  for (let k = 0; k < nz; k++) {
    let c = 0;
    for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) if (label.data[p] === 2) c++;
    if (c > bestCount) [best, bestCount] = [k, c];
  }
  return axialSlicePng(art, { slice: best, labels: label });
}

export interface ImagingJob {
  kind: 'resection' | 'iat';
  id: string;
  /** The cohort's image folder, or its seeds for `images: on-demand` (the case is rendered in the worker). */
  source: CaseImageSource;
  masksDir: string | null;
  cropsDir: string;
  /** Overlay PNG to write for this case, or null. */
  overlay: string | null;
  /** The radiomics features of the baseline (the study's detection stage); an external validation needs only the crop. */
  radiomics: boolean;
  /** The crop the PMN that reads it is built for (cropSpecFor its configuration). */
  cropSpec: CropSpec;
}

export interface ImagingCaseResult {
  id: string;
  measured: { count: number; diameterCm: number; occupancy: number | null };
  /** Null when the mask has no tumour (no crop, no imaging score); empty when radiomics were not asked for. */
  features: Record<string, number> | null;
  cropScale: number | null;
}

/** One case: measurements from its mask, the PMN crop, radiomics features, optionally the overlay. Pure in its files. */
export function processImagingCase(job: ImagingJob): ImagingCaseResult {
  const images = caseVolumes(job.source, job.id, !job.masksDir);
  const { art, pv } = images;
  // Predicted masks (segmentation stage) replace the provided label maps when there are any.
  const label = job.masksDir ? readNiftiSync(casePaths(join(job.masksDir, job.id)).label) : images.label!;
  const m = measureTumours(label);
  if (job.overlay) writeFileAtomicSync(job.overlay, overlay(art, label));
  const measured = { count: m.count, diameterCm: m.largestDiameterMm / 10, occupancy: m.liverOccupancyFraction };
  // A mask without tumour (a segmentation miss) leaves the case without an imaging score: it is listed, and the
  // image-based analyses use the cases that have one.
  if (m.tumourVolumeMl === 0) return { id: job.id, measured, features: null, cropScale: null };
  const crop = tumourCrop(art, pv, label, job.cropSpec, { source: `${job.kind} case ${job.id}` });
  saveCrop(cropPath(job.cropsDir, job.id), crop);
  return { id: job.id, measured, features: job.radiomics ? radiomicsFeatures(crop) : {}, cropScale: crop.scale };
}

/**
 * Every case of one cohort into `dir/<kind>/` (crops, features.csv, cohort-with-crops.csv): the study's own
 * cohorts here, an external site's in `hcc study validate`, so a frozen PMN reads crops made the same way.
 */
export interface CohortImagingOptions {
  /** How many cases (the first ones) get an overlay PNG. */
  overlays: number;
  /** Predicted masks (<masksDir>/<id>_label.nii.gz) replacing the label maps, or null. */
  masksDir: string | null;
  workers: number;
  radiomics: boolean;
  cropSpec: CropSpec;
}

export async function processCohort(entry: CohortEntry, dir: string, options: CohortImagingOptions): Promise<ImagingCohort> {
  const { overlays: overlaysWanted, masksDir, workers, radiomics, cropSpec } = options;
  const frame = CohortFrame.read(entry.csv);
  const cropsDir = join(dir, entry.kind, 'crops');
  mkdirSync(cropsDir, { recursive: true });
  const jobs: ImagingJob[] = frame.ids.map((id, i) => ({
    kind: entry.kind,
    id,
    source: { images: entry.images, ...(entry.onDemand ? { onDemand: entry.onDemand } : {}) },
    masksDir,
    cropsDir,
    overlay: i < overlaysWanted ? join(dir, entry.kind, `overlay_${id}.png`) : null,
    radiomics,
    cropSpec,
  }));
  const progress = createProgress({ label: `crops ${entry.kind}`, total: jobs.length, unit: 'cases' });
  const results = await mapInWorkers<ImagingJob, ImagingCaseResult>(new URL('./imaging-worker.js', import.meta.url), jobs, workers, () => progress.tick());
  progress.done();
  const countCol = frame.num('tumour_count');
  const diamCol = frame.num('tumour_diameter_cm');
  let agree = 0;
  let absErr = 0;
  const rows: Array<Record<string, unknown>> = [];
  results.forEach((r, i) => {
    agree += Number(r.measured.count === countCol[i]);
    absErr += Math.abs(r.measured.diameterCm - diamCol[i]!);
    if (r.features) rows.push({ id: r.id, measured_count: r.measured.count, measured_diameter_cm: r.measured.diameterCm, measured_occupancy: r.measured.occupancy, crop_scale: r.cropScale, ...r.features });
  });
  const noTumour = results.filter((r) => !r.features).map((r) => r.id);
  const featuresCsv = join(dir, entry.kind, 'features.csv');
  writeFileAtomicSync(featuresCsv, formatCsv(Object.keys(rows[0] ?? { id: null }), rows));
  const withCrops = new Set(rows.map((r) => r.id as string));
  const croppedCsv = join(dir, entry.kind, 'cohort-with-crops.csv');
  writeFileAtomicSync(croppedCsv, formatCsv(frame.columns, frame.filter((i) => withCrops.has(frame.ids[i]!)).ids.map((id) => {
    const i = frame.rowOf(id)!;
    return Object.fromEntries(frame.columns.map((c) => [c, frame.str(c)[i]]));
  })));
  return {
    n: frame.length,
    cropsDir,
    featuresCsv,
    croppedCsv,
    noTumour,
    masks: masksDir ? 'segmentation' : 'labels',
    measurement: { countAgreement: agree / frame.length, diameterMeanAbsErrorCm: absErr / frame.length },
    overlays: jobs.filter((j) => j.overlay).map((j) => j.overlay!),
  };
}

/**
 * The crop the study's PMN reads: the configured model's own, or that of the default configuration with the
 * study's `pmn.network` overrides. Training and later use (`hcc predict`, `hcc classify`) then see the same field of
 * view.
 */
export function studyCropSpec(pmn: StudyConfig['pmn']): CropSpec {
  return cropSpecFor(pmn.model ? readModelJson(pmn.model).config : { ...DEFAULT_CONFIG, ...(pmn.network as Partial<PmnConfig> | undefined) });
}

export function imagingStage(
  cohorts: CohortsResult, masks: Partial<Record<'resection' | 'iat', string | null>>, upstreamHash: string, cropSpec: CropSpec,
): Stage<ImagingResult> {
  return {
    name: '3-imaging',
    // 5: crops follow the PMN configuration (cropSpecFor) instead of one fixed 72x72x36 crop.
    version: 5,
    inputs: { upstreamHash, cropSpec },
    async run(dir) {
      const out: ImagingResult = {};
      for (const kind of ['resection', 'iat'] as const) {
        const entry = cohorts[kind];
        if (hasImages(entry)) out[kind] = await processCohort(entry, dir, { overlays: 2, masksDir: masks[kind] ?? null, workers: availableParallelism(), radiomics: true, cropSpec });
      }
      return out;
    },
  };
}
