import { join } from 'node:path';
import { writeJsonAtomicSync } from '../../util/atomic.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import { predictorValues } from '../predictors.js';
import type { Stage } from '../stage-runner.js';
import { compareArms, type ArmComparison } from '../analyses/arms.js';
import { bootstrapTreatmentRules, predictArmsWithCi, type ArmPredictionWithCi, type TreatmentModelFit, type TreatmentRule } from '../analyses/treatment-model.js';

/**
 * Stage 8: does HAIC help, and whom? TACE against HAIC within each risk group (unadjusted and IPTW), then the
 * IPTW-weighted treatment model with its per-patient predictions for the test split. Stage 9 (synthetic only)
 * compares all of it with the generator's counterfactual truth.
 */
export const CONFOUNDERS = ['tumour_diameter_cm', 'tumour_count', 'pvtt', 'albi_score', 'ecog', 'afp_log10'];

export interface GroupTruth {
  group: string;
  n: number;
  /** Mean over patients of min(t_haic, tau) - min(t_tace, tau): the true RMST benefit of HAIC. */
  trueDeltaRmst: number;
  /** Mean true log HR of HAIC vs TACE. */
  meanTrueLogHr: number;
  estimatedIptwHr: number | null;
  estimatedDeltaRmst: number | null;
}

/** models/treatment-model.json: what `hcc predict` needs to reproduce the study's predictions and CIs. */
export interface TreatmentRules {
  point: TreatmentRule;
  replicates: TreatmentRule[];
}

export interface TreatmentResult {
  groups: ArmComparison[];
  model: { coef: TreatmentModelFit['coef']; se: TreatmentModelFit['se']; p: TreatmentModelFit['p']; replicatesUsed: number };
  /** Test-split patients: predicted survival under each arm with bootstrap CIs, and the recommendation. */
  predictions: Array<{ id: string; riskGroup: string; lp: number } & Omit<ArmPredictionWithCi, 'times'>>;
  recommendationShare: Record<string, Record<string, number>>;
  truth: { groups: GroupTruth[]; recommendationAgreement: number | null } | null;
}

export function treatmentStage(config: StudyConfig, iatCsv: string, truthCsv: string | null, casesCsv: string, inputHash: string): Stage<TreatmentResult> {
  return {
    name: '8-treatment',
    version: 2,
    inputs: { inputHash, analyses: config.analyses, seed: config.seed },
    async run(dir) {
      const cases = CohortFrame.read(casesCsv);
      const lpById = new Map(cases.ids.map((id, i) => [id, cases.num('nomogram_lp')[i]!]));
      const groupById = new Map(cases.ids.map((id, i) => [id, cases.str('risk_group')[i]!]));
      const splitById = new Map(cases.ids.map((id, i) => [id, cases.str('split')[i]!]));
      const frame = CohortFrame.read(iatCsv).subset(cases.ids).withColumn('nomogram_lp', lpById).withColumn('risk_group', groupById);
      const { horizon, times, bootstrap } = config.analyses;
      const atTimes = [0, ...times];
      const groupNames = ['low', 'high'];
      const groups = [
        compareArms(frame, 'all', CONFOUNDERS, { atTimes, tau: horizon }),
        ...groupNames.map((g) => compareArms(frame.filter((i) => frame.str('risk_group')[i] === g), g, CONFOUNDERS, { atTimes, tau: horizon })),
      ];
      const train = frame.filter((i) => splitById.get(frame.ids[i]!) === 'train');
      const test = frame.filter((i) => splitById.get(frame.ids[i]!) === 'test');
      const { fit, replicates } = bootstrapTreatmentRules(
        {
          time: train.num('os_months'),
          event: train.num('os_event'),
          haic: Uint8Array.from(train.str('treatment'), (t) => (t === 'HAIC' ? 1 : 0)),
          lp: train.num('nomogram_lp'),
          confounders: CONFOUNDERS.map((c) => predictorValues(train, c)),
        },
        bootstrap,
        config.seed,
      );
      const predictions = predictArmsWithCi(fit.rule, replicates, Array.from(test.num('nomogram_lp')), times, horizon);
      writeJsonAtomicSync(join(dir, 'treatment-model.json'), { point: fit.rule, replicates } satisfies TreatmentRules);
      const testGroups = test.str('risk_group');
      const testLp = test.num('nomogram_lp');
      const rows = predictions.map(({ times: _t, ...p }, i) => ({ id: test.ids[i]!, riskGroup: testGroups[i]!, lp: testLp[i]!, ...p }));
      const recommendationShare: Record<string, Record<string, number>> = {};
      for (const g of groupNames) {
        const inGroup = rows.filter((r) => r.riskGroup === g);
        recommendationShare[g] = Object.fromEntries(
          ['HAIC', 'TACE', 'no clear difference'].map((rec) => [rec, inGroup.length ? inGroup.filter((r) => r.recommendation === rec).length / inGroup.length : 0]),
        );
      }
      return {
        groups,
        model: { coef: fit.coef, se: fit.se, p: fit.p, replicatesUsed: replicates.length },
        predictions: rows,
        recommendationShare,
        truth: truthCsv ? compareWithTruth(frame, CohortFrame.read(truthCsv), groups, rows, horizon) : null,
      };
    },
  };
}

function compareWithTruth(frame: CohortFrame, truthAll: CohortFrame, groups: ArmComparison[], predictions: TreatmentResult['predictions'], tau: number): NonNullable<TreatmentResult['truth']> {
  const truth = truthAll.subset(frame.ids);
  const tTace = truth.num('t_tace');
  const tHaic = truth.num('t_haic');
  const logHr = truth.num('log_hr_haic');
  const groupOf = new Map(frame.ids.map((id, i) => [id, frame.str('risk_group')[i]!]));
  const out: GroupTruth[] = groups.map((g) => {
    const idx = truth.ids.map((id, i) => (g.group === 'all' || groupOf.get(id) === g.group ? i : -1)).filter((i) => i >= 0);
    const mean = (f: (i: number) => number) => idx.reduce((s, i) => s + f(i), 0) / idx.length;
    const preds = predictions.filter((p) => g.group === 'all' || p.riskGroup === g.group);
    return {
      group: g.group,
      n: idx.length,
      trueDeltaRmst: mean((i) => Math.min(tHaic[i]!, tau) - Math.min(tTace[i]!, tau)),
      meanTrueLogHr: mean((i) => logHr[i]!),
      estimatedIptwHr: 'cox' in g.iptw ? g.iptw.cox.hr : null,
      estimatedDeltaRmst: preds.length ? preds.reduce((s, p) => s + p.deltaRmst, 0) / preds.length : null,
    };
  });
  // Agreement of the recommendation with the sign of the true effect, among test patients given a firm one.
  const firm = predictions.filter((p) => p.recommendation !== 'no clear difference');
  const truthIndex = new Map(truth.ids.map((id, i) => [id, i]));
  const agree = firm.filter((p) => (logHr[truthIndex.get(p.id)!]! < 0) === (p.recommendation === 'HAIC')).length;
  return { groups: out, recommendationAgreement: firm.length ? agree / firm.length : null };
}
