import { fitLogistic, predictLogistic } from '../../survival/logistic.js';
import { HccError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';

/**
 * Penalised logistic regression on named features, the model behind the radiomics and clinical baselines and
 * the oracle ceiling: ridge on standardised features, with the penalty chosen by stratified k-fold
 * cross-validated deviance on the training cases only. Stored as plain JSON (features, coefficients), so a
 * baseline is reapplied exactly.
 */
export interface FeatureModel {
  kind: 'ridge-logistic';
  features: string[];
  /** Intercept first, then one per feature, on the original feature scale. */
  coefficients: number[];
  ridge: number;
  cv: Array<{ ridge: number; deviance: number }>;
  /** Training medians, used for a missing feature at prediction time. */
  medians: number[];
}

export const RIDGE_GRID = [0.01, 0.1, 1, 3, 10, 30, 100, 300];

function matrix(rows: Array<Record<string, number>>, features: string[], medians?: number[]): number[][] {
  return rows.map((r, i) =>
    features.map((f, j) => {
      const v = r[f];
      if (v === undefined || !Number.isFinite(v)) {
        if (medians) return medians[j]!;
        throw new HccError(`feature model: feature '${f}' is missing or not finite in training row ${i + 1}`);
      }
      return v;
    }),
  );
}

/** Stratified fold of each case (0..k-1), balanced within each class. */
export function stratifiedFolds(y: ArrayLike<number>, k: number, seed: number): Int32Array {
  const rng = Rng.stream(seed, 'folds');
  const fold = new Int32Array(y.length);
  for (const cls of [0, 1]) {
    const idx = rng.shuffle(Array.from({ length: y.length }, (_, i) => i).filter((i) => y[i] === cls));
    idx.forEach((i, r) => (fold[i] = r % k));
  }
  return fold;
}

function deviance(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p[i]!));
    d -= 2 * (y[i] ? Math.log(q) : Math.log(1 - q));
  }
  return d;
}

/** Out-of-fold predicted probabilities of a ridge logistic model (every case predicted by a model that never saw it). */
export function crossValidatedProbabilities(x: number[][], y: number[], ridge: number, folds: Int32Array, k: number): Float64Array {
  const out = new Float64Array(y.length);
  for (let f = 0; f < k; f++) {
    const trainIdx = y.map((_, i) => i).filter((i) => folds[i] !== f);
    const testIdx = y.map((_, i) => i).filter((i) => folds[i] === f);
    if (testIdx.length === 0) continue;
    const fit = fitLogistic(trainIdx.map((i) => x[i]!), trainIdx.map((i) => y[i]!), { ridge });
    const p = predictLogistic(fit, testIdx.map((i) => x[i]!));
    testIdx.forEach((i, j) => (out[i] = p[j]!));
  }
  return out;
}

export function trainFeatureModel(rows: Array<Record<string, number>>, y: number[], features: string[], options: { seed: number; folds?: number; grid?: number[] }): FeatureModel {
  const k = options.folds ?? 5;
  const x = matrix(rows, features);
  const folds = stratifiedFolds(y, k, options.seed);
  const cv = (options.grid ?? RIDGE_GRID).map((ridge) => ({ ridge, deviance: deviance(crossValidatedProbabilities(x, y, ridge, folds, k), y) }));
  const best = cv.reduce((a, b) => (b.deviance < a.deviance ? b : a));
  const fit = fitLogistic(x, y, { ridge: best.ridge, names: features });
  const medians = features.map((_, j) => {
    const s = x.map((r) => r[j]!).sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)]!;
  });
  return { kind: 'ridge-logistic', features, coefficients: fit.coefficients, ridge: best.ridge, cv, medians };
}

export function predictFeatureModel(model: FeatureModel, rows: Array<Record<string, number>>): Float64Array {
  const x = matrix(rows, model.features, model.medians);
  return Float64Array.from(x, (r) => 1 / (1 + Math.exp(-(model.coefficients[0]! + r.reduce((s, v, j) => s + v * model.coefficients[j + 1]!, 0)))));
}
