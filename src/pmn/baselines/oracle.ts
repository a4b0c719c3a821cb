import { aucDelong, delongCi, splitByOutcome } from '../../survival/roc.js';
import { crossValidatedProbabilities, stratifiedFolds } from './feature-model.js';

/**
 * The synthetic "oracle ceiling" of CONTRACTS.md: the 5-fold cross-validated AUC, on the given (test) cases and
 * their observed labels, of a logistic model on the hidden continuous phenotype x1..x8. No image-based model can
 * do better in expectation, since the images are rendered from those x's (and lose some of them to thresholds).
 */
export interface OracleCeiling {
  auc: number;
  ci: [number, number];
  n: number;
  /** Out-of-fold probabilities, per case in input order. */
  probabilities: Float64Array;
}

export function oracleCeiling(phenotype: number[][], labels: number[], seed: number, folds = 5): OracleCeiling {
  const assignment = stratifiedFolds(labels, folds, seed);
  const p = crossValidatedProbabilities(phenotype, labels, 0, assignment, folds);
  const { cases, controls } = splitByOutcome(p, labels);
  const d = aucDelong(cases, controls, '<');
  return { auc: d.auc, ci: delongCi(d.auc, d.variance), n: labels.length, probabilities: p };
}
