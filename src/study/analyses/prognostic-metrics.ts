import { concordanceFit } from '../../survival/concordance.js';
import { ipcwSample } from '../../survival/ipcw.js';
import { pecCurves, scoreAuc, scoreBrier, type ScoreModel } from '../../survival/score.js';

/**
 * The prognostic battery of CONTRACTS.md for several risk scores on one sample: Harrell's C, Uno's C (truncated
 * at the horizon, IPCW), cumulative/dynamic td-AUC at the study times (riskRegression's Score, with SE and CI),
 * the IPCW Brier score at those times, and pec's integrated Brier score to the horizon against the
 * Kaplan-Meier null model. Contrasts of td-AUC against the first score come from Score's influence functions.
 */
export interface ScoreOnSample {
  name: string;
  /** The linear predictor or marker: higher means higher risk. */
  marker: Float64Array;
  /** P(T <= t | x), for Brier and IBS. */
  risk: (t: number) => Float64Array;
}

export interface PrognosticMetrics {
  n: number;
  events: number;
  harrellC: { c: number; se: number };
  unoC: { c: number; se: number; tau: number };
  tdAuc: Array<{ time: number; auc: number; se: number; lower: number; upper: number }>;
  brier: Array<{ time: number; brier: number; se: number }>;
  ibs: number;
}

export interface SampleEvaluation {
  metrics: Record<string, PrognosticMetrics>;
  nullIbs: number;
  /** td-AUC of each score minus the first score's, with the influence-function test. */
  aucContrasts: Array<{ time: number; score: string; reference: string; delta: number; lower: number; upper: number; p: number }>;
}

export function evaluateScores(time: Float64Array, event: Float64Array, scores: ScoreOnSample[], times: number[], horizon: number): SampleEvaluation {
  const sample = ipcwSample(time, event);
  const markers: ScoreModel[] = scores.map((s) => ({ name: s.name, kind: 'marker', at: () => s.marker }));
  const risks: ScoreModel[] = scores.map((s) => ({ name: s.name, kind: 'risk', at: s.risk }));
  const auc = scoreAuc(time, event, markers, { times }, sample);
  const brier = scoreBrier(time, event, risks, { times }, sample);
  const pec = pecCurves(time, event, risks, [horizon], sample);
  const n = time.length;
  const events = event.reduce((s, e) => s + e, 0);
  const metrics: Record<string, PrognosticMetrics> = {};
  for (const s of scores) {
    // Risk scores are concordant with shorter survival, so concordance() gets reverse = true, as coxph reports it.
    const harrell = concordanceFit(time, event, s.marker, { reverse: true });
    const uno = concordanceFit(time, event, s.marker, { reverse: true, timewt: 'n/G2', ymax: horizon });
    const aucRows = (auc.auc['model'] as string[]).map((m, i) => ({ m, i })).filter(({ m }) => m === s.name);
    const brierRows = (brier.brier['model'] as string[]).map((m, i) => ({ m, i })).filter(({ m }) => m === s.name);
    metrics[s.name] = {
      n,
      events,
      harrellC: { c: harrell.c, se: harrell.se },
      unoC: { c: uno.c, se: uno.se, tau: horizon },
      tdAuc: aucRows.map(({ i }) => ({
        time: (auc.auc['times'] as number[])[i]!,
        auc: (auc.auc['AUC'] as number[])[i]!,
        se: (auc.auc['se'] as number[])[i]!,
        lower: (auc.auc['lower'] as number[])[i]!,
        upper: (auc.auc['upper'] as number[])[i]!,
      })),
      brier: brierRows.map(({ i }) => ({ time: (brier.brier['times'] as number[])[i]!, brier: (brier.brier['Brier'] as number[])[i]!, se: (brier.brier['se'] as number[])[i]! })),
      ibs: pec.ibs[s.name]![0]!,
    };
  }
  const c = auc.contrasts;
  const reference = scores[0]!.name;
  const aucContrasts = c
    ? (c['reference'] as string[])
        .map((ref, i) => ({ ref, i }))
        .filter(({ ref }) => ref === reference)
        .map(({ i }) => ({
          time: (c['times'] as number[])[i]!,
          score: (c['model'] as string[])[i]!,
          reference,
          delta: (c['delta.AUC'] as number[])[i]!,
          lower: (c['lower'] as number[])[i]!,
          upper: (c['upper'] as number[])[i]!,
          p: (c['p'] as number[])[i]!,
        }))
    : [];
  return { metrics, nullIbs: pec.ibs['Reference']![0]!, aucContrasts };
}
