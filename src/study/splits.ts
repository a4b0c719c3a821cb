import { Rng } from '../util/rng.js';
import { HccError } from '../util/errors.js';

/**
 * splits.json, as CONTRACTS.md defines it: case ids per split and per fold, read by segmentation, the PMN and
 * the nomogram alike. The test split is drawn once, stratified, and nothing trains or tunes on it.
 */
export interface CohortSplit {
  train: string[];
  test: string[];
  /** Cross-validation folds over the training split: fold k validates on `folds[k]` and trains on the rest. */
  folds: string[][];
}

export interface Splits {
  seed: number;
  testFraction: number;
  /** What each cohort was stratified on, e.g. "proliferative" or "os_event x treatment". */
  stratifiedBy: Record<string, string>;
  cohorts: Record<string, CohortSplit>;
}

/**
 * Stratified split: within each stratum the ids are shuffled and the first round(n * testFraction) go to test,
 * so every stratum keeps its share in both splits; training ids are dealt round-robin into folds per stratum.
 */
export function stratifiedSplit(ids: string[], strata: string[], testFraction: number, folds: number, rng: Rng): CohortSplit {
  if (ids.length !== strata.length) throw new HccError(`split: ${ids.length} ids but ${strata.length} strata labels`);
  if (new Set(ids).size !== ids.length) throw new HccError('split: case ids are not unique');
  const groups = new Map<string, string[]>();
  ids.forEach((id, i) => {
    const key = strata[i]!;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(id);
  });
  const train: string[] = [];
  const test: string[] = [];
  const foldLists: string[][] = Array.from({ length: folds }, () => []);
  let dealt = 0;
  for (const key of [...groups.keys()].sort()) {
    const members = rng.shuffle([...groups.get(key)!].sort());
    const nTest = Math.round(members.length * testFraction);
    test.push(...members.slice(0, nTest));
    for (const id of members.slice(nTest)) {
      train.push(id);
      foldLists[dealt++ % folds]!.push(id);
    }
  }
  return { train: train.sort(), test: test.sort(), folds: foldLists.map((f) => f.sort()) };
}
