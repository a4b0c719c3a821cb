/**
 * survival's `timefix` (coxph.control(timefix = TRUE), aeqSurv): coxph, survfit, survdiff and concordance treat
 * event times that differ by less than sqrt(machine epsilon) (absolutely, or relative to the mean distinct time)
 * as tied, so floating-point noise in computed times does not break ties. Each run of near-equal distinct times
 * takes its first value. riskRegression/prodlim do not do this, so only model fitting uses it.
 *
 * Exports: `aeqTimes(time, tolerance?)` -> the fixed times (the input itself when nothing is near-tied).
 */
export function aeqTimes(time: Float64Array, tolerance = Math.sqrt(2.220446049250313e-16)): Float64Array {
  const y = Float64Array.from(new Set(time)).sort();
  let mean = 0;
  for (const v of y) mean += Math.abs(v);
  mean /= y.length;
  const cuts: number[] = [y[0]!];
  let tied = false;
  for (let k = 1; k < y.length; k++) {
    const dy = y[k]! - y[k - 1]!;
    if (dy <= tolerance || dy / mean <= tolerance) tied = true;
    else cuts.push(y[k]!);
  }
  if (!tied) return time;
  return time.map((t) => {
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cuts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return cuts[lo - 1]!;
  });
}
