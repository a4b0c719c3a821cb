import { groupedCalibration, netBenefit, smoothedCalibration, treatAll, type CalibrationTable, type SmoothCalibration } from '../../survival/calibration.js';

/**
 * Calibration and clinical usefulness of predicted risks P(T <= t) at each study time: grouped calibration
 * (quintiles of predicted risk against 1 - KM), the smoothed curve with ICI/E50/E90, and decision-curve net
 * benefit against treat-all and treat-none, as riskRegression's plotCalibration and dcurves do.
 */
export interface CalibrationAtTime {
  time: number;
  grouped: CalibrationTable;
  smoothed: SmoothCalibration;
  decisionCurve: { thresholds: number[]; model: number[]; treatAll: number[] };
}

export const DCA_THRESHOLDS = Array.from({ length: 19 }, (_, k) => Number(((k + 1) * 0.05).toFixed(2)));

export function calibrationAndDca(time: Float64Array, event: Float64Array, riskAt: (t: number) => Float64Array, times: number[]): CalibrationAtTime[] {
  return times.map((t) => {
    const risk = riskAt(t);
    const grid = Array.from({ length: 21 }, (_, k) => Math.min(...risk) + ((Math.max(...risk) - Math.min(...risk)) * k) / 20);
    return {
      time: t,
      grouped: groupedCalibration(time, event, risk, t, 5),
      smoothed: smoothedCalibration(time, event, risk, t, grid),
      decisionCurve: { thresholds: DCA_THRESHOLDS, model: netBenefit(time, event, risk, t, DCA_THRESHOLDS), treatAll: treatAll(time, event, t, DCA_THRESHOLDS).netBenefit },
    };
  });
}
