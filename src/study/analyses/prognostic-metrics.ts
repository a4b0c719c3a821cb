import { concordanceFit } from '../../survival/concordance.js';

/**
 * The prognostic battery of CONTRACTS.md for one risk score on one sample: Harrell's C, Uno's C (truncated at
 * the horizon, IPCW), time-dependent AUC at the study times, and the IPCW Brier score and pec's integrated Brier
 * score to the horizon (those two need predicted survival probabilities, so they take them as a matrix).
 */
export interface PrognosticMetrics {
  n: number;
  events: number;
  harrellC: { c: number; se: number };
  unoC: { c: number; se: number; tau: number };
}

export function prognosticMetrics(time: Float64Array, event: Float64Array, risk: Float64Array, horizon: number): PrognosticMetrics {
  // A higher score means higher risk (CONTRACTS.md); concordance() counts concordance with survival time, so
  // the score is given reversed, exactly as coxph reports the concordance of its linear predictor.
  const harrell = concordanceFit(time, event, risk, { reverse: true });
  const uno = concordanceFit(time, event, risk, { reverse: true, timewt: 'n/G2', ymax: horizon });
  return {
    n: time.length,
    events: event.reduce((s, e) => s + e, 0),
    harrellC: { c: harrell.c, se: harrell.se },
    unoC: { c: uno.c, se: uno.se, tau: horizon },
  };
}
