import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../../util/atomic.js';
import { CohortFrame } from '../frame.js';
import type { Splits } from '../splits.js';
import { scorePmn, trainPmnModel, type CohortFiles } from '../../pmn/api.js';
import type { PmnConfig } from '../../pmn/config.js';
import type { StudyConfig } from '../config.js';
import type { Stage } from '../stage-runner.js';
import type { CohortsResult } from './cohorts.js';
import type { ImagingResult } from './imaging.js';

/**
 * Stage 4a: the PMN, trained on the training split of both cohorts (cross-entropy on resection, Cox on IAT when
 * the IAT cohort has images) from the crops of stage 3, then used to score every case. The scores CSVs
 * (id, probability, risk_score) feed detection and the nomogram; the model folder goes to models/pmn.
 * With `pmn.tumours: all` a case is scored over all its tumours, each cropped from the images and masks
 * (the segmentation stage's when there is one); training always reads the largest.
 */
export interface PmnStageResult {
  model: string;
  scores: { resection: string; iat: string | null };
  trainSeconds: number;
  metrics: Record<string, unknown>;
}

export function pmnStage(
  config: StudyConfig,
  cohorts: CohortsResult,
  imaging: ImagingResult,
  masks: Partial<Record<'resection' | 'iat', string | null>>,
  splitsPath: string,
  inputHash: string,
): Stage<PmnStageResult> {
  // The default scoring leaves the inputs as they were before the option existed, so cached stages stay valid.
  const { tumours, ...pmn } = config.pmn;
  return {
    name: '4-pmn',
    version: 2,
    inputs: { inputHash, pmn, seed: config.seed, ...(tumours === 'all' ? { tumours } : {}) },
    async run(dir) {
      const res = { csv: imaging.resection!.croppedCsv, crops: imaging.resection!.cropsDir };
      const iat = imaging.iat ? { csv: imaging.iat.croppedCsv, crops: imaging.iat.cropsDir } : undefined;
      // The study's splits restricted to the cases that have a crop (a segmentation miss has none).
      const splits = JSON.parse(readFileSync(splitsPath, 'utf8')) as Splits;
      const has = { resection: new Set(CohortFrame.read(res.csv).ids), iat: new Set(iat ? CohortFrame.read(iat.csv).ids : []) };
      for (const kind of ['resection', 'iat'] as const) {
        const c = splits.cohorts[kind]!;
        splits.cohorts[kind] = { train: c.train.filter((id) => has[kind].has(id)), test: c.test.filter((id) => has[kind].has(id)), folds: c.folds.map((f) => f.filter((id) => has[kind].has(id))) };
      }
      const pmnSplits = join(dir, 'splits.json');
      writeJsonAtomicSync(pmnSplits, splits);
      // A configured model is reused as it is (external validation of a frozen PMN); otherwise one is trained.
      const model = config.pmn.model ?? join(dir, 'model');
      const trained = config.pmn.model ? null : await trainPmnModel({
        resection: res,
        ...(iat ? { iat } : {}),
        out: model,
        splits: pmnSplits,
        training: { epochs: config.pmn.epochs, seed: config.seed },
        ...(config.pmn.network ? { config: config.pmn.network as Partial<PmnConfig> } : {}),
        // An interrupted stage resumes in its folder (stage-runner.ts), so training picks up its checkpoint.
        resume: true,
        progress: true,
      });
      const scores = { resection: join(dir, 'scores_resection.csv'), iat: iat ? join(dir, 'scores_iat.csv') : null };
      const scored = (kind: 'resection' | 'iat', files: CohortFiles): CohortFiles =>
        tumours === 'all' ? { ...files, images: cohorts[kind].images!, ...(masks[kind] ? { masksDir: masks[kind]! } : {}) } : files;
      await scorePmn({ model, cohort: scored('resection', res), out: scores.resection, tumours });
      if (iat) await scorePmn({ model, cohort: scored('iat', iat), out: scores.iat!, tumours });
      return { model, scores, trainSeconds: trained?.seconds ?? 0, metrics: (trained?.model.metrics ?? {}) as Record<string, unknown> };
    },
  };
}
