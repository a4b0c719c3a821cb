import { fitCox } from '../../survival/cox.js';
import { iptwAnalysis } from '../../survival/iptw.js';
import { kaplanMeier, kmAtTimes, kmConfInt, kmMedian, kmRmean } from '../../survival/km.js';
import { survdiff } from '../../survival/logrank.js';
import { HccError } from '../../util/errors.js';
import type { CohortFrame } from '../frame.js';
import { predictorValues } from '../predictors.js';

/**
 * TACE against HAIC within one group of patients (a risk group, or everyone): Kaplan-Meier per arm with numbers
 * at risk, the log-rank test and the Cox HR, unadjusted and IPTW-adjusted (treatment was not randomised).
 * HAIC is the "treated" arm: an HR below 1 favours HAIC.
 */
export interface ArmCurve {
  arm: 'TACE' | 'HAIC';
  n: number;
  events: number;
  time: number[];
  surv: number[];
  lower: number[];
  upper: number[];
  median: { median: number; lower: number; upper: number };
  rmst: { tau: number; rmst: number; se: number };
  atRisk: { times: number[]; n: number[] };
}

export interface HazardRatio {
  hr: number;
  lower: number;
  upper: number;
  p: number;
}

export interface ArmComparison {
  group: string;
  n: number;
  curves: ArmCurve[];
  logrank: { chisq: number; p: number };
  cox: HazardRatio;
  iptw: {
    confounders: string[];
    balance: Array<{ covariate: string; smdBefore: number; smdAfter: number }>;
    overlap: ReturnType<typeof iptwAnalysis>['overlap'];
    effectiveN: number[];
    curves: Array<{ arm: 'TACE' | 'HAIC'; time: number[]; surv: number[] }>;
    logrank: { chisq: number; p: number };
    cox: HazardRatio;
  } | { skipped: string };
}

function armCurve(arm: 'TACE' | 'HAIC', time: number[], event: number[], atTimes: number[], tau: number): ArmCurve {
  const curve = kaplanMeier(time, event);
  const ci = kmConfInt(curve, 'log');
  const atRisk = kmAtTimes(curve, atTimes, ci.lower, ci.upper);
  return {
    arm,
    n: time.length,
    events: event.reduce((s, e) => s + e, 0),
    time: curve.time,
    surv: curve.surv,
    lower: ci.lower,
    upper: ci.upper,
    median: kmMedian(curve, ci.lower, ci.upper),
    rmst: (({ rmean, se }) => ({ tau, rmst: rmean, se }))(kmRmean(curve, tau)),
    atRisk: { times: atTimes, n: atRisk.n_risk },
  };
}

export function compareArms(frame: CohortFrame, group: string, confounders: string[], options: { atTimes: number[]; tau: number }): ArmComparison {
  const time = Array.from(frame.num('os_months'));
  const event = Array.from(frame.num('os_event'));
  const treatment = frame.str('treatment');
  const haic = Uint8Array.from(treatment, (t, i) => {
    if (t !== 'TACE' && t !== 'HAIC') throw new HccError(`treatment comparison: case ${frame.ids[i]} has treatment '${t}', expected TACE or HAIC`);
    return t === 'HAIC' ? 1 : 0;
  });
  const idx = (a: number) => time.map((_, i) => i).filter((i) => haic[i] === a);
  const [tace, haicIdx] = [idx(0), idx(1)];
  if (tace.length === 0 || haicIdx.length === 0) throw new HccError(`treatment comparison in group '${group}': one arm is empty (TACE ${tace.length}, HAIC ${haicIdx.length})`);
  const curves = [
    armCurve('TACE', tace.map((i) => time[i]!), tace.map((i) => event[i]!), options.atTimes, options.tau),
    armCurve('HAIC', haicIdx.map((i) => time[i]!), haicIdx.map((i) => event[i]!), options.atTimes, options.tau),
  ];
  const lr = survdiff(time, event, haic, 2);
  const cox = fitCox({ time, event, columns: [Float64Array.from(haic)], names: ['HAIC'] });
  const result: ArmComparison = {
    group,
    n: time.length,
    curves,
    logrank: { chisq: lr.chisq, p: lr.p },
    cox: { hr: cox.hr[0]!, lower: cox.hrLower[0]!, upper: cox.hrUpper[0]!, p: cox.p[0]! },
    iptw: { skipped: 'not computed' },
  };
  const covariates = confounders.map((c) => predictorValues(frame, c));
  // A propensity model needs a handful of patients per arm and covariate; below that, report why it was skipped.
  if (Math.min(tace.length, haicIdx.length) < 5 * Math.max(1, confounders.length) / 2) {
    result.iptw = { skipped: `too few patients per arm (TACE ${tace.length}, HAIC ${haicIdx.length}) for a propensity model on ${confounders.length} covariates` };
    return result;
  }
  const w = iptwAnalysis(
    { time, event, treated: haic, covariates, names: confounders, levels: ['TACE', 'HAIC'], treatment: 'treatment' },
    { estimand: 'ATE', stabilized: true, trim: [0.01, 0.99] },
  );
  result.iptw = {
    confounders,
    balance: confounders.map((c, j) => ({ covariate: c, smdBefore: w.balance.smd_before[j]!, smdAfter: w.balance.smd_after[j]! })),
    overlap: w.overlap,
    effectiveN: w.weights_summary.effective_n,
    curves: w.weighted_km.map((k, a) => ({ arm: a === 0 ? 'TACE' : 'HAIC', time: k.time, surv: k.surv })),
    logrank: { chisq: w.weighted_logrank.chisq, p: w.weighted_logrank.p },
    cox: { hr: w.weighted_cox.hr[0]!, lower: w.weighted_cox.hr_lower[0]!, upper: w.weighted_cox.hr_upper[0]!, p: w.weighted_cox.p[0]! },
  };
  return result;
}
