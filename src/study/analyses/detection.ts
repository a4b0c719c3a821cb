import { aucDelong, delongCi, delongPaired, rocCurve, splitByOutcome, type DelongResult } from '../../survival/roc.js';

/**
 * Proliferative-subtype detection metrics for one score on one split: the AUC with its DeLong 95% CI (scored
 * against the observed pathology label, CONTRACTS.md), the ROC curve for plotting (thinned to at most 200
 * points), and a calibration table by predicted-probability quintile when the score is a probability.
 */
export interface DetectionMetrics {
  n: number;
  positives: number;
  auc: number;
  ci: [number, number];
  roc: { fpr: number[]; tpr: number[] };
  calibration: Array<{ predicted: number; observed: number; n: number }> | null;
}

export function detectionMetrics(score: ArrayLike<number>, label: ArrayLike<number>, isProbability: boolean): { metrics: DetectionMetrics; delong: DelongResult } {
  const { cases, controls } = splitByOutcome(score, label);
  const delong = aucDelong(cases, controls, '<');
  const curve = rocCurve(cases, controls, '<');
  const step = Math.max(1, Math.ceil(curve.sensitivity.length / 200));
  const keep = curve.sensitivity.map((_, k) => k).filter((k) => k % step === 0 || k === curve.sensitivity.length - 1);
  let calibration: DetectionMetrics['calibration'] = null;
  if (isProbability) {
    const order = Array.from(score, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
    const groups = 5;
    calibration = Array.from({ length: groups }, (_, g) => {
      const idx = order.slice(Math.floor((g * order.length) / groups), Math.floor(((g + 1) * order.length) / groups));
      const mean = (f: (i: number) => number) => idx.reduce((s, i) => s + f(i), 0) / idx.length;
      return { predicted: mean((i) => score[i]!), observed: mean((i) => label[i]!), n: idx.length };
    });
  }
  return {
    metrics: {
      n: label.length,
      positives: cases.length,
      auc: delong.auc,
      ci: delongCi(delong.auc, delong.variance),
      roc: { fpr: keep.map((k) => 1 - curve.specificity[k]!), tpr: keep.map((k) => curve.sensitivity[k]!) },
      calibration,
    },
    delong,
  };
}

export function delongTest(a: DelongResult, b: DelongResult): { deltaAuc: number; ci: [number, number]; p: number } {
  const t = delongPaired(a, b);
  return { deltaAuc: t.auc[0] - t.auc[1], ci: t.diffCi, p: t.p };
}
