import { bootstrap, pairedBootstrapTest, type PairedBootstrapTest } from '../../survival/bootstrap.js';
import { statistic } from '../../survival/bootstrap-statistics.js';
import { createProgress } from '../../util/progress.js';
import type { ScoreOnSample } from './prognostic-metrics.js';

/**
 * The bootstrap test of differences between the nomogram (the first score) and every other score on one
 * sample: Uno's C and the integrated Brier score are recomputed on the same resamples for all scores, and each
 * difference gets its percentile CI and a two-sided p (pROC's bootstrap test form). Seeded; replicates are
 * identical whatever the worker count.
 */
export interface ScoreDifference {
  score: string;
  reference: string;
  unoC: PairedBootstrapTest;
  ibs: PairedBootstrapTest;
}

export async function compareScoresByBootstrap(
  time: Float64Array,
  event: Float64Array,
  scores: ScoreOnSample[],
  horizon: number,
  options: { replicates: number; seed: number; workers: number },
): Promise<ScoreDifference[]> {
  if (options.replicates < 2 || scores.length < 2) return [];
  const ev = Uint8Array.from(event);
  // pec's grid is every observed time up to the horizon; for the resampled differences at most 100 of them
  // (evenly spaced in rank) are used, which moves the IBS by far less than its bootstrap SE and makes each
  // replicate several times cheaper. The point estimates in the report stay pec's exact ones.
  const all = [...new Set(Array.from(time).filter((t) => t <= horizon))].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(all.length / 100));
  const grid = all.filter((_, k) => k % step === 0);
  const n = time.length;
  const progress = createProgress({ label: 'bootstrap score comparison', total: 2 * options.replicates, unit: 'replicates' });
  const common = { replicates: options.replicates, seed: options.seed, workers: options.workers, onProgress: () => progress.tick() };
  const uno = await bootstrap(statistic('concordanceC'), { time, event: ev, risks: scores.map((s) => s.marker), timewt: 'n/G2' as const, tau: horizon }, n, common);
  const ibs = await bootstrap(statistic('integratedBrier'), { time, event: ev, risks: scores.map((s) => grid.map((t) => s.risk(t))), grid, horizon }, n, common);
  progress.done();
  return scores.slice(1).map((s, k) => ({
    score: s.name,
    reference: scores[0]!.name,
    unoC: pairedBootstrapTest(uno.estimate, uno.replicates, k + 1, 0),
    ibs: pairedBootstrapTest(ibs.estimate, ibs.replicates, k + 1, 0),
  }));
}
