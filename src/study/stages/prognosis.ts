import { join } from 'node:path';
import { selectCoxVariables, type SelectionResult } from '../../survival/selection.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { formatCsv } from '../../util/csv.js';
import { HccError } from '../../util/errors.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import { predictorLabel, predictorValues, withPmnScore } from '../predictors.js';
import type { Stage } from '../stage-runner.js';
import type { Splits } from '../splits.js';
import { baselineCumhaz, fitCoxModel, predictLp, riskFunction, type CoxModel } from '../analyses/cox-model.js';
import { evaluateScores, type PrognosticMetrics, type SampleEvaluation } from '../analyses/prognostic-metrics.js';
import { chooseRiskCut, type RiskCut } from '../analyses/risk-cut.js';
import { calibrationAndDca, type CalibrationAtTime } from '../analyses/calibration-dca.js';
import { compareScoresByBootstrap, type ScoreDifference } from '../analyses/score-comparison.js';
import { fitStageModel, stageDesign, type SkippedSystem } from '../analyses/stage-model.js';

/**
 * Stages 5-7 of the study: the nomogram (Cox with variable selection on the IAT training split), its
 * prognostic metrics on train and test, the same metrics for every staging system (stage as a Cox factor,
 * fitted on train), and risk groups from a cut-off chosen on the training split only.
 */
export interface NomogramTerm {
  name: string;
  label: string;
  coef: number;
  hr: number;
  lower: number;
  upper: number;
  p: number;
  /** Training range, for the nomogram axis. */
  min: number;
  max: number;
}

export interface ScoreMetrics {
  score: string;
  train: PrognosticMetrics;
  test: PrognosticMetrics;
}

export interface PrognosisResult {
  candidates: string[];
  completeCases: { train: number; test: number; dropped: number };
  selection: Pick<SelectionResult, 'screen' | 'steps' | 'selected'>;
  /** `baseline`: cumulative hazard at the centred linear predictor 0, as a step function (for external validation). */
  nomogram: { terms: NomogramTerm[]; means: number[]; concordance: number; baseline: { time: number[]; cumhaz: number[] } };
  metrics: ScoreMetrics[];
  /** IBS of the Kaplan-Meier null model (pec's "Reference"). */
  nullIbs: { train: number; test: number };
  /** td-AUC of every other score minus the nomogram's (Score's influence-function test). */
  aucContrasts: { train: SampleEvaluation['aucContrasts']; test: SampleEvaluation['aucContrasts'] };
  /** Test split: bootstrap differences of Uno's C and the IBS, each score minus the nomogram. */
  differences: ScoreDifference[];
  /** Staging systems left out of the comparison, with why (none on a cohort of useful size). */
  skippedSystems: SkippedSystem[];
  /** The nomogram's calibration and decision curves on the test split, at each study time. */
  calibration: CalibrationAtTime[];
  riskCut: RiskCut;
  /** cases.csv: id, split, nomogram linear predictor, risk group. */
  casesCsv: string;
}

/** Staging systems compared with the nomogram (CONTRACTS.md; HKLC is not implemented, see docs/staging.md). */
export const COMPARED_SYSTEMS = ['bclc', 'cnlc', 'tnm8', 'albi_grade', 'child_pugh_class', 'clip', 'okuda', 'jis', 'hap', 'mhap2', 'six_twelve'] as const;

export function prognosisStage(config: StudyConfig, iatCsv: string, splits: Splits, scoresCsv: string | null, inputHash: string): Stage<PrognosisResult> {
  return {
    name: '5-prognosis',
    version: 5,
    inputs: { inputHash, nomogram: config.nomogram, analyses: config.analyses },
    async run(dir) {
      let frame = CohortFrame.read(iatCsv);
      if (scoresCsv) frame = withPmnScore(frame, scoresCsv);
      const candidates = config.nomogram.candidates.filter((c) => c !== 'pmn_score' || scoresCsv !== null);
      const values = new Map(candidates.map((c) => [c, predictorValues(frame, c)]));
      const time = frame.num('os_months');
      const event = frame.num('os_event');
      const systems = COMPARED_SYSTEMS.filter((sys) => frame.has(sys));
      const stageLabels = systems.map((sys) => frame.str(sys));
      // Complete cases over everything compared, so the nomogram and every staging system see the same patients.
      const complete = frame.ids.map(
        (_, i) =>
          Number.isFinite(time[i]!) &&
          Number.isFinite(event[i]!) &&
          candidates.every((c) => Number.isFinite(values.get(c)![i]!)) &&
          stageLabels.every((labels) => labels[i] !== null),
      );
      const trainIds = new Set(splits.cohorts.iat!.train);
      const train = frame.filter((i) => complete[i]! && trainIds.has(frame.ids[i]!));
      const test = frame.filter((i) => complete[i]! && !trainIds.has(frame.ids[i]!));
      if (train.length < 20) throw new HccError(`prognosis: only ${train.length} complete training cases in the IAT cohort; at least 20 are needed`);
      const tTime = train.num('os_months');
      const tEvent = train.num('os_event');
      const selection = selectCoxVariables(
        { time: tTime, event: tEvent, candidates: candidates.map((name) => ({ name, values: predictorValues(train, name) })) },
        // A forced term missing from the candidates (pmn_score when no PMN was trained) cannot be kept.
        { screenP: config.nomogram.screenP, force: (config.nomogram.force ?? []).filter((f) => candidates.includes(f)) },
      );
      const selected = selection.selected;
      const columnsOf = (f: CohortFrame) => selected.map((s) => predictorValues(f, s));
      const model = fitCoxModel(tTime, tEvent, selected, columnsOf(train));
      const terms: NomogramTerm[] = selected.map((name, j) => {
        const v = predictorValues(train, name);
        return {
          name,
          label: predictorLabel(name),
          coef: model.fit.coef[j]!,
          hr: model.fit.hr[j]!,
          lower: model.fit.hrLower[j]!,
          upper: model.fit.hrUpper[j]!,
          p: model.fit.p[j]!,
          min: Math.min(...v),
          max: Math.max(...v),
        };
      });
      const lpTrain = predictLp(model, columnsOf(train));
      const lpTest = predictLp(model, columnsOf(test));
      const { horizon, times } = config.analyses;
      type Scored = { name: string; model: CoxModel; design: (f: CohortFrame) => Float64Array[] };
      const scored: Scored[] = [{ name: 'nomogram', model, design: columnsOf }];
      if (scoresCsv) {
        const pmnDesign = (f: CohortFrame) => [f.num('pmn_score')];
        scored.push({ name: 'pmn_score', model: fitCoxModel(tTime, tEvent, ['pmn_score'], pmnDesign(train)), design: pmnDesign });
      }
      const skippedSystems: SkippedSystem[] = [];
      for (const system of systems) {
        const sm = fitStageModel(train, system, tTime, tEvent);
        if ('reason' in sm) skippedSystems.push(sm);
        else scored.push({ name: system, model: sm.model, design: (f) => stageDesign(sm, f) });
      }
      const scoresOn = (f: CohortFrame) =>
        scored.map((sc) => {
          const cols = sc.design(f);
          return { name: sc.name, marker: predictLp(sc.model, cols), risk: riskFunction(sc.model, cols) };
        });
      const evalTrain = evaluateScores(tTime, tEvent, scoresOn(train), times, horizon);
      const testScores = scoresOn(test);
      const evalTest = evaluateScores(test.num('os_months'), test.num('os_event'), testScores, times, horizon);
      const differences = await compareScoresByBootstrap(test.num('os_months'), test.num('os_event'), testScores, horizon, {
        replicates: config.analyses.bootstrap,
        seed: config.seed,
        workers: 2,
      });
      const metrics: ScoreMetrics[] = scored.map((sc) => ({ score: sc.name, train: evalTrain.metrics[sc.name]!, test: evalTest.metrics[sc.name]! }));
      const calibration = calibrationAndDca(test.num('os_months'), test.num('os_event'), riskFunction(model, columnsOf(test)), times);
      const riskCut = chooseRiskCut(config.analyses.riskCut, tTime, tEvent, lpTrain);
      const cutoff = riskCut.cutoff;
      const rows = [
        ...train.ids.map((id, i) => ({ id, split: 'train', nomogram_lp: lpTrain[i]!, risk_group: lpTrain[i]! > cutoff ? 'high' : 'low' })),
        ...test.ids.map((id, i) => ({ id, split: 'test', nomogram_lp: lpTest[i]!, risk_group: lpTest[i]! > cutoff ? 'high' : 'low' })),
      ];
      const casesCsv = join(dir, 'cases.csv');
      writeFileAtomicSync(casesCsv, formatCsv(['id', 'split', 'nomogram_lp', 'risk_group'], rows));
      return {
        candidates,
        completeCases: { train: train.length, test: test.length, dropped: frame.length - train.length - test.length },
        selection: { screen: selection.screen, steps: selection.steps, selected },
        nomogram: { terms, means: model.fit.means, concordance: model.fit.concordance.harrell_c, baseline: baselineCumhaz(model) },
        metrics,
        nullIbs: { train: evalTrain.nullIbs, test: evalTest.nullIbs },
        calibration,
        aucContrasts: { train: evalTrain.aucContrasts, test: evalTest.aucContrasts },
        differences,
        skippedSystems,
        riskCut,
        casesCsv,
      };
    },
  };
}
