import { join } from 'node:path';
import { selectCoxVariables, type SelectionResult } from '../../survival/selection.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { formatCsv } from '../../util/csv.js';
import { HccError } from '../../util/errors.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import { predictorLabel, predictorValues } from '../predictors.js';
import type { Stage } from '../stage-runner.js';
import type { Splits } from '../splits.js';
import { fitCoxModel, predictLp } from '../analyses/cox-model.js';
import { prognosticMetrics, type PrognosticMetrics } from '../analyses/prognostic-metrics.js';
import { fitStageModel, stageDesign } from '../analyses/stage-model.js';

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
  nomogram: { terms: NomogramTerm[]; means: number[]; concordance: number };
  metrics: ScoreMetrics[];
  riskCut: { method: 'maxstat' | 'median'; cutoff: number; statistic?: number; p?: number };
  /** cases.csv: id, split, nomogram linear predictor, risk group. */
  casesCsv: string;
}

/** Staging systems compared with the nomogram (CONTRACTS.md; HKLC is not implemented, see docs/staging.md). */
export const COMPARED_SYSTEMS = ['bclc', 'cnlc', 'tnm8', 'albi_grade', 'child_pugh_class', 'clip', 'okuda', 'jis', 'hap', 'mhap2', 'six_twelve'] as const;

export function prognosisStage(config: StudyConfig, iatCsv: string, splits: Splits, scoresCsv: string | null, inputHash: string): Stage<PrognosisResult> {
  return {
    name: '5-prognosis',
    inputs: { inputHash, nomogram: config.nomogram, analyses: config.analyses },
    async run(dir) {
      let frame = CohortFrame.read(iatCsv);
      if (scoresCsv) {
        const scores = CohortFrame.read(scoresCsv);
        const risk = scores.num('risk_score');
        frame = frame.withColumn('pmn_score', new Map(scores.ids.map((id, i) => [id, risk[i]!])));
      }
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
        { screenP: config.nomogram.screenP },
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
      const horizon = config.analyses.horizon;
      const metricsFor = (score: string, train: Float64Array, testScore: Float64Array): ScoreMetrics => ({
        score,
        train: prognosticMetrics(tTime, tEvent, train, horizon),
        test: prognosticMetrics(test.num('os_months'), test.num('os_event'), testScore, horizon),
      });
      const metrics: ScoreMetrics[] = [metricsFor('nomogram', lpTrain, lpTest)];
      if (scoresCsv) metrics.push(metricsFor('pmn_score', train.num('pmn_score'), test.num('pmn_score')));
      for (const system of systems) {
        const sm = fitStageModel(train, system, tTime, tEvent);
        metrics.push(metricsFor(system, predictLp(sm.model, stageDesign(sm, train)), predictLp(sm.model, stageDesign(sm, test))));
      }
      const sortedLp = [...lpTrain].sort((a, b) => a - b);
      const cutoff = sortedLp[Math.floor((sortedLp.length - 1) / 2)]!;
      const riskCut: PrognosisResult['riskCut'] = { method: 'median', cutoff };
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
        nomogram: { terms, means: model.fit.means, concordance: model.fit.concordance.harrell_c },
        metrics,
        riskCut,
        casesCsv,
      };
    },
  };
}
