import { HccError } from '../../util/errors.js';
import type { CohortFrame } from '../frame.js';
import { fitCoxModel, type CoxModel } from './cox-model.js';
import { mergeRareStages, sortStages, stageOrderKey } from './stage-order.js';

/**
 * A staging system as a risk score (CONTRACTS.md, evaluation conventions): a Cox model with the stage as a factor,
 * fitted on the training split. Levels with too few training cases are merged with their neighbour first, and a
 * test-split level never seen in training is scored as the nearest training level, so every patient gets a score.
 */
export interface StageModel {
  system: string;
  /** Merged group of each training label, in clinical order; the first group is the reference. */
  groups: string[];
  labelToGroup: Record<string, string>;
  model: CoxModel;
}

const MIN_CASES_PER_LEVEL = 5;

/** A system left out of the comparison, with the reason (a small cohort can have every patient in one stage). */
export interface SkippedSystem {
  system: string;
  reason: string;
}

export function fitStageModel(train: CohortFrame, system: string, time: Float64Array, event: Float64Array): StageModel | SkippedSystem {
  const labels = train.str(system);
  const counts = new Map<string, number>();
  labels.forEach((l, i) => {
    if (l === null) throw new HccError(`staging comparison: ${system} is missing for training case ${train.ids[i]}`);
    counts.set(l, (counts.get(l) ?? 0) + 1);
  });
  const merged = mergeRareStages(counts, MIN_CASES_PER_LEVEL);
  const orderedGroups = [...new Set(sortStages(counts.keys()).map((l) => merged.get(l)!))];
  if (orderedGroups.length < 2) {
    const only = [...counts.keys()].join(', ');
    return { system, reason: `every training case is in one ${system} group (${only}${counts.size > 1 ? `, merged: fewer than ${MIN_CASES_PER_LEVEL} cases per stage` : ''}), so it cannot rank patients` };
  }
  const labelToGroup = Object.fromEntries(merged);
  const stageModel: Omit<StageModel, 'model'> = { system, groups: orderedGroups, labelToGroup };
  const model = fitCoxModel(time, event, orderedGroups.slice(1).map((g) => `${system}=${g}`), stageDesign(stageModel, train));
  return { ...stageModel, model };
}

/** Dummy columns (treatment coding, first group the reference) for the rows of `frame`. */
export function stageDesign(m: Pick<StageModel, 'system' | 'groups' | 'labelToGroup'>, frame: CohortFrame): Float64Array[] {
  const known = Object.keys(m.labelToGroup);
  const groupOf = (label: string): string => {
    const direct = m.labelToGroup[label];
    if (direct) return direct;
    const key = stageOrderKey(label);
    const nearest = known.reduce((best, l) => (Math.abs(stageOrderKey(l) - key) < Math.abs(stageOrderKey(best) - key) ? l : best));
    return m.labelToGroup[nearest]!;
  };
  const labels = frame.str(m.system);
  return m.groups.slice(1).map((g) =>
    Float64Array.from(labels, (l) => (l === null ? NaN : groupOf(l) === g ? 1 : 0)),
  );
}
