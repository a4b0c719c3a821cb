import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { casePaths } from '../../imaging/case.js';
import { readNiftiSync } from '../../imaging/nifti/read.js';
import { axialSlicePng } from '../../imaging/png.js';
import { measureTumours } from '../../imaging/tumour.js';
import type { Volume } from '../../imaging/volume.js';
import { tumourCrop } from '../../pmn/crop.js';
import { cropPath, saveCrop } from '../../pmn/crop-store.js';
import { radiomicsFeatures } from '../../pmn/baselines/radiomics.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { formatCsv } from '../../util/csv.js';
import { createProgress } from '../../util/progress.js';
import { CohortFrame } from '../frame.js';
import type { Stage } from '../stage-runner.js';
import type { CohortEntry, CohortsResult } from './cohorts.js';

/**
 * Stage 3 (segmentation mode `labels`): for every case with images, the tumour burden measured from its label
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

function processCohort(entry: CohortEntry, dir: string, overlaysWanted: number, masksDir: string | null): ImagingCohort {
  const frame = CohortFrame.read(entry.csv);
  const cropsDir = join(dir, entry.kind, 'crops');
  mkdirSync(cropsDir, { recursive: true });
  const progress = createProgress({ label: `crops ${entry.kind}`, total: frame.length, unit: 'cases' });
  const rows: Array<Record<string, unknown>> = [];
  const overlays: string[] = [];
  const noTumour: string[] = [];
  let agree = 0;
  let absErr = 0;
  const countCol = frame.num('tumour_count');
  const diamCol = frame.num('tumour_diameter_cm');
  frame.ids.forEach((id, i) => {
    const files = casePaths(join(entry.images!, id));
    const art = readNiftiSync(files.art);
    const pv = readNiftiSync(files.pv);
    // Predicted masks (segmentation stage) replace the provided label maps when there are any.
    const label = readNiftiSync(masksDir ? casePaths(join(masksDir, id)).label : files.label);
    const m = measureTumours(label);
    agree += Number(m.count === countCol[i]);
    absErr += Math.abs(m.largestDiameterMm / 10 - diamCol[i]!);
    // A mask without tumour (a segmentation miss) leaves the case without an imaging score: it is listed, and
    // the image-based analyses use the cases that have one.
    if (m.tumourVolumeMl === 0) noTumour.push(id);
    else {
      const crop = tumourCrop(art, pv, label, undefined, { source: `${entry.kind} case ${id}` });
      saveCrop(cropPath(cropsDir, id), crop);
      rows.push({ id, measured_count: m.count, measured_diameter_cm: m.largestDiameterMm / 10, measured_occupancy: m.liverOccupancyFraction, crop_scale: crop.scale, ...radiomicsFeatures(crop) });
    }
    if (overlays.length < overlaysWanted) {
      const png = join(dir, entry.kind, `overlay_${id}.png`);
      writeFileAtomicSync(png, overlay(art, label));
      overlays.push(png);
    }
    progress.tick();
  });
  progress.done();
  const featuresCsv = join(dir, entry.kind, 'features.csv');
  writeFileAtomicSync(featuresCsv, formatCsv(Object.keys(rows[0] ?? { id: null }), rows));
  const withCrops = new Set(rows.map((r) => r.id as string));
  const croppedCsv = join(dir, entry.kind, 'cohort-with-crops.csv');
  writeFileAtomicSync(croppedCsv, formatCsv(frame.columns, frame.filter((i) => withCrops.has(frame.ids[i]!)).ids.map((id) => {
    const i = frame.rowOf(id)!;
    return Object.fromEntries(frame.columns.map((c) => [c, frame.str(c)[i]]));
  })));
  return { n: frame.length, cropsDir, featuresCsv, croppedCsv, noTumour, masks: masksDir ? 'segmentation' : 'labels', measurement: { countAgreement: agree / frame.length, diameterMeanAbsErrorCm: absErr / frame.length }, overlays };
}

export function imagingStage(cohorts: CohortsResult, masks: Partial<Record<'resection' | 'iat', string | null>>, upstreamHash: string): Stage<ImagingResult> {
  return {
    name: '3-imaging',
    version: 4,
    inputs: { upstreamHash },
    async run(dir) {
      const out: ImagingResult = {};
      for (const kind of ['resection', 'iat'] as const) {
        const entry = cohorts[kind];
        if (entry.images) out[kind] = processCohort(entry, dir, 2, masks[kind] ?? null);
      }
      return out;
    },
  };
}
