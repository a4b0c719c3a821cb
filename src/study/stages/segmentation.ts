import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { casePaths } from '../../imaging/case.js';
import { dice } from '../../imaging/metrics.js';
import type { Volume } from '../../imaging/volume.js';
import { writeNiftiSync } from '../../imaging/nifti/write.js';
import { writeCases } from '../../phantom/images.js';
import { readCase, type CaseImages } from '../../segmentation/cases.js';
import { segmentCase } from '../../segmentation/infer.js';
import { disposeModel, loadSegmentationModel, type SegmentationModel } from '../../segmentation/model.js';
import { trainSegmentation } from '../../segmentation/pipeline.js';
import { createProgress } from '../../util/progress.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import type { Stage } from '../stage-runner.js';
import type { Splits } from '../splits.js';
import { caseVolumes, hasImages, type CohortEntry, type CohortsResult } from './cohorts.js';

/**
 * Stage 3a (segmentation mode `train` or `model`): a liver-and-tumour segmentation model, trained on the
 * training split only (both cohorts' training cases with images; CONTRACTS.md: no test case trains anything),
 * or a given model folder, then every case segmented. The predicted masks replace the label maps downstream,
 * so the PMN is trained and used on the same kind of mask; where label maps exist, Dice against them is
 * reported. Cases of on-demand cohorts (`images: on-demand`) are rendered from their seeds: the training cases
 * into a folder of the stage that is deleted once the model is trained, each case to segment in memory, so that
 * only the masks are kept.
 */
export interface SegmentationStageResult {
  model: string;
  /** <masks>/<id>_label.nii.gz per case, the predicted label map. */
  masks: Record<'resection' | 'iat', string | null>;
  dice: Record<'resection' | 'iat', { liver: number; tumour: number; n: number } | null>;
  emptyCases: string[];
}

export function segmentationStage(config: StudyConfig, cohorts: CohortsResult, splits: Splits, inputHash: string): Stage<SegmentationStageResult> {
  return {
    name: '3-segmentation',
    version: 1,
    inputs: { inputHash, segmentation: config.segmentation, seed: config.seed },
    async run(dir) {
      const withImages = (['resection', 'iat'] as const).filter((k) => hasImages(cohorts[k]));
      let model = config.segmentation.model;
      if (!model) {
        model = join(dir, 'model');
        // On-demand cohorts: the training cases are rendered into the stage folder for training only.
        const rendered = join(dir, 'training-images');
        const train: string[] = [];
        for (const k of withImages) {
          const { images, onDemand } = cohorts[k];
          const ids = splits.cohorts[k]!.train;
          if (onDemand) await writeCases(onDemand, ids, rendered, availableParallelism());
          train.push(...ids.map((id) => (onDemand ? join(rendered, 'images', id) : join(images!, id))));
        }
        // A tenth of the training cases (never test cases) monitors validation Dice.
        const nVal = Math.max(1, Math.round(train.length / 10));
        const ids = train.map((p) => p.slice(p.lastIndexOf('/') + 1));
        await trainSegmentation({
          cases: train,
          out: model,
          splits: [{ train: ids.slice(nVal), val: ids.slice(0, nVal) }],
          preset: 'demo',
          config: { epochs: config.segmentation.epochs },
          seed: config.seed,
          resume: true,
          progress: true,
          device: config.segmentation.device,
        });
        rmSync(rendered, { recursive: true, force: true });
      }
      const loaded = loadSegmentationModel(model, { checkpoint: config.segmentation.checkpoint, device: config.segmentation.device });
      const result: SegmentationStageResult = { model, masks: { resection: null, iat: null }, dice: { resection: null, iat: null }, emptyCases: [] };
      try {
        for (const kind of withImages) {
          const seg = await segmentCohort(loaded, cohorts[kind], join(dir, 'masks', kind));
          result.masks[kind] = seg.masks;
          result.dice[kind] = seg.dice;
          result.emptyCases.push(...seg.emptyCases);
        }
      } finally {
        disposeModel(loaded);
      }
      return result;
    },
  };
}

export interface SegmentedCohort {
  /** <masks>/<id>_label.nii.gz per case. */
  masks: string;
  /** Mean Dice against the cohort's label maps, over the cases that have one (null when none has). */
  dice: { liver: number; tumour: number; n: number } | null;
  /** Cases whose predicted mask has no tumour. */
  emptyCases: string[];
}

/**
 * Segments every case of a cohort with a loaded model into `masks` (the study's own cohorts here, an external
 * site's in `hcc study validate`, so both get masks the same way).
 */
export async function segmentCohort(loaded: SegmentationModel, entry: CohortEntry, masks: string): Promise<SegmentedCohort> {
  const frame = CohortFrame.read(entry.csv);
  mkdirSync(masks, { recursive: true });
  const progress = createProgress({ label: `segment ${entry.kind}`, total: frame.length, unit: 'cases' });
  const emptyCases: string[] = [];
  let liver = 0;
  let tumour = 0;
  let compared = 0;
  for (const id of frame.ids) {
    const images = await caseImages(entry, id);
    const seg = segmentCase(loaded, images);
    if (seg.measurements.count === 0 && seg.measurements.tumourVolumeMl === 0) emptyCases.push(id);
    writeNiftiSync(casePaths(join(masks, id)).label, seg.labels);
    if (images.labels) {
      // Liver Dice over the whole organ (liver + tumour), as LiTS and nnU-Net report it.
      const mask = (v: Volume, keep: (x: number) => boolean) => Uint8Array.from(v.data as ArrayLike<number>, (x) => (keep(x) ? 1 : 0));
      liver += dice(mask(seg.labels, (x) => x >= 1), mask(images.labels, (x) => x >= 1));
      tumour += dice(mask(seg.labels, (x) => x === 2), mask(images.labels, (x) => x === 2));
      compared++;
    }
    progress.tick();
  }
  progress.done();
  return { masks, dice: compared ? { liver: liver / compared, tumour: tumour / compared, n: compared } : null, emptyCases };
}

/** A case to segment: its files, or for an on-demand cohort rendered in memory, so that only its mask is written. */
async function caseImages(entry: CohortEntry, id: string): Promise<CaseImages> {
  if (entry.onDemand) {
    const c = caseVolumes(entry, id, true);
    return { art: c.art, pv: c.pv, labels: c.label! };
  }
  const prefix = join(entry.images!, id);
  return readCase(prefix, { labels: existsSync(casePaths(prefix).label) });
}
