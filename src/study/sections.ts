import type { RiskCut } from './analyses/risk-cut.js';
import { HccError } from '../util/errors.js';
import { CohortFrame } from './frame.js';
import type { PrognosisResult, ScoreMetrics } from './stages/prognosis.js';
import type { TreatmentResult } from './stages/treatment.js';

/**
 * The analysis sections of results.json, named as the study issue names them (`nomogram`, `staging_comparison`,
 * `risk_groups`, `treatment_effect`, `truth_comparison`), so a script reads the staging comparison or the
 * truth without knowing which stage computed it. Stages 5-7 are one cached stage (they share the complete cases
 * and the linear predictor); this is where its result is laid out as the paper's sections.
 */
export interface NomogramSection extends Pick<PrognosisResult, 'candidates' | 'completeCases' | 'selection' | 'nomogram' | 'calibration' | 'casesCsv'> {
  /** The nomogram's own td-AUC, Brier, IBS and C on train and test. */
  metrics: ScoreMetrics;
}

export interface StagingComparisonSection {
  /** The nomogram first, then every staging system, each as a Cox model with the stage as a factor. */
  metrics: ScoreMetrics[];
  /** IBS of the Kaplan-Meier null model (pec's "Reference"). */
  nullIbs: PrognosisResult['nullIbs'];
  aucContrasts: PrognosisResult['aucContrasts'];
  /** Test split: bootstrap differences of Uno's C and the IBS, each system minus the nomogram. */
  differences: PrognosisResult['differences'];
  /** Systems left out, with why (e.g. every training case in one stage). */
  skipped: PrognosisResult['skippedSystems'];
}

export interface RiskGroupsSection extends RiskCut {
  /** Patients per risk group in each split (the cut-off is chosen on train only and applied to test). */
  counts: Record<'train' | 'test', Record<'low' | 'high', number>>;
}

export type TreatmentEffectSection = Omit<TreatmentResult, 'truth'>;

/** Null for real cohorts: there is no truth to compare with. */
export type TruthComparisonSection = NonNullable<TreatmentResult['truth']> | null;

export interface AnalysisSections {
  nomogram: NomogramSection;
  staging_comparison: StagingComparisonSection;
  risk_groups: RiskGroupsSection;
  treatment_effect: TreatmentEffectSection;
  truth_comparison: TruthComparisonSection;
}

export function analysisSections(prognosis: PrognosisResult, treatment: TreatmentResult): AnalysisSections {
  const { metrics, nullIbs, aucContrasts, differences, riskCut, skippedSystems, ...nomogram } = prognosis;
  const own = metrics.find((m) => m.score === 'nomogram');
  if (!own) throw new HccError('the prognosis stage produced no metrics for the nomogram; delete its stage folder and rerun the study');
  const cases = CohortFrame.read(prognosis.casesCsv);
  const split = cases.str('split');
  const group = cases.str('risk_group');
  const counts: RiskGroupsSection['counts'] = { train: { low: 0, high: 0 }, test: { low: 0, high: 0 } };
  split.forEach((s, i) => {
    if ((s === 'train' || s === 'test') && (group[i] === 'low' || group[i] === 'high')) counts[s][group[i] as 'low' | 'high']++;
  });
  const { truth, ...effect } = treatment;
  return {
    nomogram: { ...nomogram, metrics: own },
    staging_comparison: { metrics: [own, ...metrics.filter((m) => m !== own)], nullIbs, aucContrasts, differences, skipped: skippedSystems },
    risk_groups: { ...riskCut, counts },
    treatment_effect: effect,
    truth_comparison: truth,
  };
}
