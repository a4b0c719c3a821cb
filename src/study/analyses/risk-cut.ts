import { maxstatTest, pLausen94 } from '../../survival/maxstat.js';

/**
 * The risk-group cut-off on the nomogram's linear predictor, chosen on the training split only: the maximally
 * selected log-rank statistic (maxstat, 10%-90% of the cases in each group) with Lausen 1994's p-value adjusted
 * for the search, or the training median when `median` is configured.
 */
export interface RiskCut {
  method: 'maxstat' | 'median';
  cutoff: number;
  statistic?: number;
  p?: number;
  /** Share of training patients at or below the cut (the low-risk group). */
  lowShare: number;
}

export function chooseRiskCut(method: 'maxstat' | 'median', time: Float64Array, event: Float64Array, lp: Float64Array): RiskCut {
  const share = (cut: number) => lp.filter((v) => v <= cut).length / lp.length;
  if (method === 'median') {
    const sorted = [...lp].sort((a, b) => a - b);
    const cutoff = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return { method, cutoff, lowShare: share(cutoff) };
  }
  const m = maxstatTest(time, event, lp, { minprop: 0.1, maxprop: 0.9 });
  return { method, cutoff: m.cutpoint, statistic: m.statistic, p: pLausen94(m.statistic, m.n, m.m), lowShare: share(m.cutpoint) };
}
