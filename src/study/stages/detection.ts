import { predictFeatureModel, trainFeatureModel, type FeatureModel } from '../../pmn/baselines/feature-model.js';
import { oracleCeiling, type OracleCeiling } from '../../pmn/baselines/oracle.js';
import { CLINICAL_FEATURES } from '../../pmn/baselines/suite.js';
import { HccError } from '../../util/errors.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import { predictorValues } from '../predictors.js';
import type { Stage } from '../stage-runner.js';
import type { Splits } from '../splits.js';
import { delongTest, detectionMetrics, type DetectionMetrics } from '../analyses/detection.js';

/**
 * Stage 4: proliferative-subtype detection on the resection cohort. Every model is fitted on the training split
 * only and scored on both splits; AUCs carry DeLong CIs, and each baseline is compared with the reference model
 * (the PMN when present, else the radiomics model) by DeLong's paired test on the test split. On synthetic
 * cohorts, the oracle ceiling (CONTRACTS.md) says how much signal the images could carry at most.
 */

export interface DetectionModelResult {
  model: string;
  train: DetectionMetrics;
  test: DetectionMetrics;
  /** Against the reference model on the test split. */
  versusReference: { reference: string; deltaAuc: number; ci: [number, number]; p: number } | null;
}

export interface DetectionResult {
  reference: string;
  models: DetectionModelResult[];
  oracle: (Omit<OracleCeiling, 'probabilities'> & { split: 'test' }) | null;
  featureModels: Record<string, Omit<FeatureModel, 'cv'>>;
  /** Cases left out because some model could not score them. */
  excluded: number;
}

export function detectionStage(
  config: StudyConfig,
  resectionCsv: string,
  truthCsv: string | null,
  featuresCsv: string | null,
  pmnScoresCsv: string | null,
  splits: Splits,
  inputHash: string,
): Stage<DetectionResult> {
  return {
    name: '4-detection',
    version: 3,
    inputs: { inputHash, seed: config.seed },
    async run() {
      let frame = CohortFrame.read(resectionCsv);
      const split = splits.cohorts.resection!;
      const train = new Set(split.train);
      const label = frame.num('proliferative');
      if (label.some((v) => v !== 0 && v !== 1)) throw new HccError(`${resectionCsv}: 'proliferative' must be 0 or 1 for every case`);
      const isTrain = frame.ids.map((id) => train.has(id));
      const scores: Array<{ model: string; values: Float64Array; probability: boolean }> = [];
      const featureModels: DetectionResult['featureModels'] = {};
      const fitFeatures = (name: string, rows: Array<Record<string, number>>, features: string[]) => {
        const y = Array.from(label);
        const complete = rows.map((r) => features.every((f) => Number.isFinite(r[f]!)));
        const use = (i: number) => isTrain[i]! && complete[i]!;
        const model = trainFeatureModel(rows.filter((_, i) => use(i)), y.filter((_, i) => use(i)), features, { seed: config.seed });
        const { cv: _cv, ...stored } = model;
        featureModels[name] = stored;
        const p = predictFeatureModel(model, rows);
        scores.push({ model: name, values: p.map((v, i) => (complete[i] ? v : NaN)), probability: true });
      };
      if (pmnScoresCsv) {
        const pmn = CohortFrame.read(pmnScoresCsv);
        const p = pmn.num('probability');
        frame = frame.withColumn('pmn_probability', new Map(pmn.ids.map((id, i) => [id, p[i]!])));
        scores.push({ model: 'pmn', values: frame.num('pmn_probability'), probability: true });
      }
      if (featuresCsv) {
        const features = CohortFrame.read(featuresCsv);
        const names = features.columns.filter((c) => !['id', 'measured_count', 'measured_diameter_cm', 'measured_occupancy', 'crop_scale'].includes(c));
        const byId = new Map(features.ids.map((id, i) => [id, i]));
        const cols = names.map((n) => features.num(n));
        const rows = frame.ids.map((id) => {
          const i = byId.get(id);
          return Object.fromEntries(names.map((n, j) => [n, i === undefined ? NaN : cols[j]![i]!]));
        });
        fitFeatures('radiomics', rows, names);
      }
      const clinicalCols = CLINICAL_FEATURES.map((c) => predictorValues(frame, c));
      fitFeatures('clinical', frame.ids.map((_, i) => Object.fromEntries(CLINICAL_FEATURES.map((c, j) => [c, clinicalCols[j]![i]!]))), CLINICAL_FEATURES);
      // Every model is compared on the same cases: those scored by all of them (a case without a tumour in its
      // predicted mask has no imaging score).
      const scoredByAll = frame.ids.map((_, i) => scores.every((s) => Number.isFinite(s.values[i]!)));
      const excluded = scoredByAll.filter((ok) => !ok).length;
      const pick = (v: ArrayLike<number>, wantTrain: boolean) => Array.from(v).filter((_, i) => scoredByAll[i] && isTrain[i] === wantTrain);
      const evaluated = scores.map((s) => ({
        model: s.model,
        train: detectionMetrics(pick(s.values, true), pick(label, true), s.probability),
        test: detectionMetrics(pick(s.values, false), pick(label, false), s.probability),
      }));
      const reference = evaluated[0]!;
      const models: DetectionModelResult[] = evaluated.map((e) => ({
        model: e.model,
        train: e.train.metrics,
        test: e.test.metrics,
        versusReference: e === reference ? null : { reference: reference.model, ...delongTest(reference.test.delong, e.test.delong) },
      }));
      let oracle: DetectionResult['oracle'] = null;
      if (truthCsv) {
        const truth = CohortFrame.read(truthCsv).subset(split.test);
        const xs = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'].map((c) => truth.num(c));
        const testLabels = truth.ids.map((id) => label[frame.rowOf(id)!]!);
        // The ceiling is computed on every test case: it does not depend on the images.
        const { probabilities: _p, ...o } = oracleCeiling(truth.ids.map((_, i) => xs.map((x) => x[i]!)), testLabels, config.seed);
        oracle = { ...o, split: 'test' };
      }
      return { reference: reference.model, models, oracle, featureModels, excluded };
    },
  };
}
