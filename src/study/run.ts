import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import type { StudyConfig } from './config.js';
import { buildLock, type StudyLock } from './lock.js';
import { writeStudyOutputs } from './outputs.js';
import { runStage, type StageRecord } from './stage-runner.js';
import type { Splits } from './splits.js';
import { cohortsStage, type CohortsResult } from './stages/cohorts.js';
import { prognosisStage } from './stages/prognosis.js';
import { analysisSections, type AnalysisSections } from './sections.js';
import { splitsStage } from './stages/splits.js';
import { detectionStage, type DetectionResult } from './stages/detection.js';
import { imagingStage, studyCropSpec, type ImagingResult } from './stages/imaging.js';
import { pmnStage, type PmnStageResult } from './stages/pmn.js';
import { segmentationStage, type SegmentationStageResult } from './stages/segmentation.js';
import { hashJson } from '../util/hash.js';
import { checkDevice } from '../segmentation/model.js';
import { pmnPrototypes } from '../pmn/api.js';
import type { PrototypeCard } from '../pmn/explain.js';
import { CohortFrame } from './frame.js';
import { tableOne, type TableOne } from './analyses/table-one.js';
import { treatmentStage } from './stages/treatment.js';

/**
 * `hcc study run`: the study's stages in order, each cached by its inputs' hash (stage-runner.ts), then
 * results.json, the models and study.lock. The report is rendered from results.json by src/report, so a
 * finished study can be re-reported without recomputing anything.
 */
export interface StudyResults {
  study: string;
  synthetic: boolean;
  cohorts: CohortsResult;
  splits: { train: Record<string, number>; test: Record<string, number> };
  /** Baseline characteristics: IAT by treatment and split, resection by split. */
  table1: { iat: TableOne; resection: TableOne };
  /** Null in segmentation mode `labels` (the provided label maps are used). */
  segmentation: SegmentationStageResult | null;
  imaging: ImagingResult;
  /** Null when no PMN could be trained; `pmnSkipped` says why. */
  pmn: PmnStageResult | null;
  pmnSkipped: string | null;
  /** The PMN's learned prototypes for the report's gallery; null without a PMN. */
  pmnPrototypes: PrototypeCard[] | null;
  detection: DetectionResult;
  nomogram: AnalysisSections['nomogram'];
  staging_comparison: AnalysisSections['staging_comparison'];
  risk_groups: AnalysisSections['risk_groups'];
  treatment_effect: AnalysisSections['treatment_effect'];
  /** Synthetic cohorts only: the estimates against the generator's truth, risk group by risk group. */
  truth_comparison: AnalysisSections['truth_comparison'];
  provenance: { lock: StudyLock; stages: StageRecord[]; config: Omit<StudyConfig, 'source'> };
}

/** Fewer resection cases with a tumour crop than this cannot train an image model worth reporting. */
const MIN_IMAGING_CASES = 10;

export interface RunOptions {
  outDir: string;
  /** Continue in a folder that already holds (part of) a study. */
  resume: boolean;
  log?: (line: string) => void;
}

export async function runStudy(config: StudyConfig, options: RunOptions): Promise<StudyResults> {
  const { outDir } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && !options.resume) {
    throw new HccError(`output folder ${outDir} is not empty; pass --resume to continue the study there, or choose another --out`);
  }
  // A device this machine lacks fails here, not after the cohorts are made.
  if (config.segmentation.mode !== 'labels' && config.segmentation.device) checkDevice(config.segmentation.device);
  mkdirSync(outDir, { recursive: true });
  const records: StageRecord[] = [];
  const run = async <T>(stage: Parameters<typeof runStage<T>>[1]) => {
    const outcome = await runStage(outDir, stage, log);
    records.push(outcome.record);
    return outcome;
  };
  const cohorts = await run(cohortsStage(config));
  const splits = await run(splitsStage(config, cohorts.result, cohorts.record.resultHash, outDir));
  const segmentation =
    config.segmentation.mode === 'labels' ? null : await run(segmentationStage(config, cohorts.result, splits.result, hashJson([cohorts.record.resultHash, splits.record.resultHash])));
  const imaging = await run(imagingStage(
    cohorts.result, segmentation?.result.masks ?? {}, hashJson([cohorts.record.resultHash, segmentation?.record.resultHash ?? null]), studyCropSpec(config.pmn),
  ));
  const imagingHash = hashJson([splits.record.resultHash, imaging.record.resultHash]);
  const cropped = imaging.result.resection ? imaging.result.resection.n - imaging.result.resection.noTumour.length : 0;
  // The image models (the PMN and the radiomics baseline) train on the training split's cases with a crop; a
  // class missing there (its training cases all lack a tumour in their mask) leaves nothing to learn from.
  const missingClass = imaging.result.resection ? missingTrainingClass(cohorts.result.resection.csv, imaging.result.resection.croppedCsv, splits.result) : null;
  const pmnSkipped = !imaging.result.resection
    ? 'the resection cohort has no images'
    : cropped < MIN_IMAGING_CASES
      ? `only ${cropped} resection cases have a tumour in their mask (at least ${MIN_IMAGING_CASES} are needed)`
      : missingClass && !config.pmn.model
        ? missingClass
        : null;
  if (pmnSkipped) log(`stage 4-pmn: skipped: ${pmnSkipped}`);
  else if (missingClass) log(`stage 4-detection: no radiomics baseline: ${missingClass}`);
  const pmn = pmnSkipped ? null : await run(pmnStage(config, cohorts.result, imaging.result, segmentation?.result.masks ?? {}, join(outDir, 'splits.json'), imagingHash));
  const upstream = hashJson([imagingHash, pmn?.record.resultHash ?? null]);
  const detection = await run(
    detectionStage(
      config,
      cohorts.result.resection.csv,
      cohorts.result.resection.truth,
      cropped >= MIN_IMAGING_CASES && !missingClass ? imaging.result.resection!.featuresCsv : null,
      pmn?.result.scores.resection ?? null,
      splits.result,
      upstream,
    ),
  );
  const prognosis = await run(prognosisStage(config, cohorts.result.iat.csv, splits.result, pmn?.result.scores.iat ?? null, upstream));
  const treatment = await run(
    treatmentStage(config, cohorts.result.iat.csv, cohorts.result.iat.truth, prognosis.result.casesCsv, prognosis.record.resultHash),
  );
  const table1 = baselineTables(cohorts.result, splits.result);
  const { source: _source, ...portableConfig } = config;
  const lock = buildLock(config, records);
  const results: StudyResults = {
    study: config.name,
    synthetic: cohorts.result.resection.synthetic && cohorts.result.iat.synthetic,
    cohorts: cohorts.result,
    splits: splitCounts(splits.result),
    table1,
    segmentation: segmentation?.result ?? null,
    imaging: imaging.result,
    pmn: pmn?.result ?? null,
    pmnSkipped,
    pmnPrototypes: pmn ? pmnPrototypes(pmn.result.model) : null,
    detection: detection.result,
    ...analysisSections(prognosis.result, treatment.result),
    provenance: { lock, stages: records, config: portableConfig },
  };
  writeStudyOutputs(outDir, results);
  writeJsonAtomicSync(join(outDir, 'study.lock'), lock);
  writeJsonAtomicSync(join(outDir, 'results.json'), results);
  return results;
}

/** Why the resection training cases with a tumour crop cannot train an image classifier (one class only), or null. */
function missingTrainingClass(cohortCsv: string, croppedCsv: string, splits: Splits): string | null {
  const train = splits.cohorts.resection!.train;
  const all = CohortFrame.read(cohortCsv).subset(train);
  const cropped = CohortFrame.read(croppedCsv).subset(train);
  for (const y of [0, 1]) {
    if (cropped.num('proliferative').some((v) => v === y)) continue;
    const n = all.num('proliferative').filter((v) => v === y).length;
    const why = n === 0 ? `the training split has no case with proliferative = ${y}` : `the ${n} training cases with proliferative = ${y} have no tumour in their mask`;
    return `${why}, so none of the ${cropped.length} training cases with a tumour crop has that class; the image models (PMN, radiomics) need both classes to train`;
  }
  return null;
}

function baselineTables(cohorts: CohortsResult, splits: Splits): StudyResults['table1'] {
  const iat = CohortFrame.read(cohorts.iat.csv);
  const res = CohortFrame.read(cohorts.resection.csv);
  const rowsWhere = (f: CohortFrame, ids: string[], pred: (i: number) => boolean = () => true) => {
    const set = new Set(ids);
    return f.ids.map((id, i) => (set.has(id) && pred(i) ? i : -1)).filter((i) => i >= 0);
  };
  const trt = iat.str('treatment');
  const s = splits.cohorts;
  return {
    iat: tableOne(iat, [
      { name: 'TACE, train', rows: rowsWhere(iat, s.iat!.train, (i) => trt[i] === 'TACE') },
      { name: 'HAIC, train', rows: rowsWhere(iat, s.iat!.train, (i) => trt[i] === 'HAIC') },
      { name: 'TACE, test', rows: rowsWhere(iat, s.iat!.test, (i) => trt[i] === 'TACE') },
      { name: 'HAIC, test', rows: rowsWhere(iat, s.iat!.test, (i) => trt[i] === 'HAIC') },
    ]),
    resection: tableOne(res, [
      { name: 'train', rows: rowsWhere(res, s.resection!.train) },
      { name: 'test', rows: rowsWhere(res, s.resection!.test) },
    ]),
  };
}

function splitCounts(s: Splits): StudyResults['splits'] {
  const train: Record<string, number> = {};
  const test: Record<string, number> = {};
  for (const [name, c] of Object.entries(s.cohorts)) {
    train[name] = c.train.length;
    test[name] = c.test.length;
  }
  return { train, test };
}
