import { tumourComponents } from '../imaging/tumour.js';
import type { Volume } from '../imaging/volume.js';
import { componentContact } from './postprocess.js';

/**
 * Lesion-level detection of tumours of at least 1 cm (largest axial diameter, as CONTRACTS.md counts tumours),
 * the measure of the segmentation issue's F1 target. A reference lesion is found when any predicted tumour voxel
 * overlaps it; a predicted lesion of at least 1 cm is a true positive when it overlaps any reference tumour voxel,
 * else a false positive. A tumour predicted in several pieces is therefore one hit, not several false alarms.
 */
export interface Detection {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** One case's predicted and reference lesions, from which detection under any liver-contact rule follows. */
export interface DetectionRecord {
  /** Every predicted tumour component: its liver contact, whether it is ≥ 1 cm, whether it touches reference tumour. */
  predicted: Array<{ contact: number; counted: boolean; correct: boolean }>;
  /** Every reference lesion ≥ 1 cm: the predicted components (indices into `predicted`) that overlap it. */
  references: number[][];
}

export function detectionRecord(pred: Volume, ref: Volume, minDiameterMm = 10): DetectionRecord {
  const p = tumourComponents(pred);
  const contact = componentContact(pred, p, 1);
  const r = tumourComponents(ref);
  const correct = new Array<boolean>(p.count + 1).fill(false);
  const overlapping = Array.from({ length: r.count + 1 }, () => new Set<number>());
  for (let i = 0; i < p.labels.length; i++) {
    const a = p.labels[i]!, b = r.labels[i]!;
    if (a && ref.data[i] === 2) correct[a] = true;
    if (a && b) overlapping[b]!.add(a - 1);
  }
  return {
    predicted: contact.slice(1).map((c, k) => ({ contact: c, counted: p.diametersMm[k + 1]! >= minDiameterMm, correct: correct[k + 1]! })),
    references: overlapping.slice(1).filter((_, k) => r.diametersMm[k + 1]! >= minDiameterMm).map((s) => [...s]),
  };
}

/** Detection pooled over cases, with the predicted components below `minLiverContact` removed. */
export function detectionAt(records: DetectionRecord[], minLiverContact = 0): Detection {
  let tp = 0, fp = 0, fn = 0;
  for (const { predicted, references } of records) {
    const kept = predicted.map((c) => c.contact >= minLiverContact);
    for (const [k, c] of predicted.entries()) if (kept[k] && c.counted && !c.correct) fp++;
    for (const hits of references) {
      if (hits.some((k) => kept[k])) tp++;
      else fn++;
    }
  }
  const precision = tp / Math.max(1, tp + fp), recall = tp / Math.max(1, tp + fn);
  return { tp, fp, fn, precision, recall, f1: (2 * precision * recall) / Math.max(1e-12, precision + recall) };
}

/** How far above the largest contact it removes a chosen threshold sits (a fraction of the boundary). */
export const CONTACT_MARGIN = 0.01;

/**
 * The liver-contact threshold for tumour components chosen on validation predictions, as nnU-Net's
 * determine_postprocessing chooses its steps: every cut between two observed contact values that loses no
 * validation lesion is tried, the one with the best lesion F1 wins, and of equal ones the least removal. A cut
 * that trades a true lesion for false ones is never taken: a false lesion is there to be seen on the overlay, a
 * missed one changes the tumour count and the stage. The threshold sits `CONTACT_MARGIN` above the largest
 * contact it removes (at most halfway to the next one kept), not halfway: a handful of validation cases says
 * little about how low a true lesion's contact can go elsewhere, so the rule removes no more than validation
 * showed it must. 0 (the rule off) unless some cut raises F1.
 */
export function chooseTumourMinLiverContact(records: DetectionRecord[]): { tumourMinLiverContact: number; before: Detection; after: Detection } {
  const before = detectionAt(records, 0);
  const values = [...new Set(records.flatMap((r) => r.predicted.map((c) => c.contact)))].sort((a, b) => a - b);
  let best = { tumourMinLiverContact: 0, after: before };
  for (const [k, v] of values.entries()) {
    const threshold = Math.min(v + CONTACT_MARGIN, ((values[k + 1] ?? 1) + v) / 2);
    const after = detectionAt(records, threshold);
    if (after.tp === before.tp && after.f1 > best.after.f1) best = { tumourMinLiverContact: threshold, after };
  }
  return { ...best, before };
}
