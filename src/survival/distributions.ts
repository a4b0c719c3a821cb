/**
 * Distribution functions for p-values and confidence intervals, accurate to full double precision where R's are
 * (normal: the same algorithms as R's pnorm/qnorm), and to ~1e-14 relative for chi-square and t.
 *
 * Exports:
 * - `pnorm(x)`, `pnormUpper(x)`: lower / upper tail of N(0,1) (Cody 1993, as R's pnorm_both; no cancellation in
 *   the tails).
 * - `qnorm(p)`: quantile of N(0,1) (Wichura AS 241, as R's qnorm), p in [0, 1].
 * - `Z975`: qnorm(0.975), the multiplier of every 95% Wald interval.
 * - `pchisq(x, df)`, `pchisqUpper(x, df)`: chi-square cdf / survival function (regularised incomplete gamma).
 * - `pt(x, df)`, `ptUpper(x, df)`: Student t cdf / survival function.
 * - `pTwoSidedNormal(z)`: 2 * P(Z > |z|).
 * - `gammaP(a, x)`, `gammaQ(a, x)`: regularised incomplete gamma; `betaI(x, a, b)`: regularised incomplete beta.
 * - `lgamma(x)`: log Gamma for x > 0.
 * - `pAdjust(p, method)`: R's p.adjust for 'holm' | 'BH' | 'bonferroni' | 'none' (NaN entries kept as NaN).
 */

const SQRT_32 = 5.656854249492380195206754896838;
const ONE_OVER_SQRT_2PI = 0.398942280401432677939946059934;

const A = [2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249, 0.065682337918207449113];
const B = [47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956];
const C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226, 2494.5375852903726711,
  6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8,
];
const D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755, 18615.571640885098091,
  34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
];
const P = [0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303];
const Q = [1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244, 7.29751555083966205e-5];

/** Both tails of the standard normal at x: [lower, upper]. */
function pnormBoth(x: number): [number, number] {
  if (Number.isNaN(x)) return [NaN, NaN];
  const y = Math.abs(x);
  let cum: number;
  let ccum: number;
  if (y <= 0.67448975) {
    let xnum = 0;
    let xden = 0;
    if (y > 1.1102230246251565e-16) {
      const xsq = x * x;
      xnum = A[4]! * xsq;
      xden = xsq;
      for (let i = 0; i < 3; i++) {
        xnum = (xnum + A[i]!) * xsq;
        xden = (xden + B[i]!) * xsq;
      }
    }
    const temp = (x * (xnum + A[3]!)) / (xden + B[3]!);
    return [0.5 + temp, 0.5 - temp];
  }
  let tail: number;
  if (y <= SQRT_32) {
    let xnum = C[8]! * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]!) * y;
      xden = (xden + D[i]!) * y;
    }
    const temp = (xnum + C[7]!) / (xden + D[7]!);
    tail = expTail(y) * temp;
  } else if (y < 50) {
    const xsq = 1 / (x * x);
    let xnum = P[5]! * xsq;
    let xden = xsq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + P[i]!) * xsq;
      xden = (xden + Q[i]!) * xsq;
    }
    let temp = (xsq * (xnum + P[4]!)) / (xden + Q[4]!);
    temp = (ONE_OVER_SQRT_2PI - temp) / y;
    tail = expTail(y) * temp;
  } else tail = 0;
  cum = tail;
  ccum = 1 - tail;
  if (x > 0) [cum, ccum] = [ccum, cum];
  return [cum, ccum];
}

/** exp(-y^2/2) computed in two parts so the square does not lose digits (R's do_del). */
function expTail(y: number): number {
  const xsq = Math.trunc(y * 16) / 16;
  const del = (y - xsq) * (y + xsq);
  return Math.exp(-xsq * xsq * 0.5) * Math.exp(-del * 0.5);
}

export function pnorm(x: number): number {
  return pnormBoth(x)[0];
}

export function pnormUpper(x: number): number {
  return pnormBoth(x)[1];
}

export function pTwoSidedNormal(z: number): number {
  return 2 * pnormUpper(Math.abs(z));
}

export function qnorm(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  let val: number;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    val =
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1);
    return val;
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}

export const Z975 = qnorm(0.975);

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-16;
const TINY = 1e-300;

/** Series for P(a, x), used when x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let sum = 1 / a;
  let del = sum;
  let ap = a;
  for (let n = 0; n < 10000; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lgamma(a));
}

/** Continued fraction for Q(a, x) (modified Lentz), used when x >= a + 1. */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lgamma(a)) * h;
}

export function gammaP(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

export function gammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

export function pchisq(x: number, df: number): number {
  return gammaP(df / 2, x / 2);
}

export function pchisqUpper(x: number, df: number): number {
  if (df === 1 && x >= 0) return pTwoSidedNormal(Math.sqrt(x));
  return gammaQ(df / 2, x / 2);
}

/** Continued fraction of the incomplete beta (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

export function betaI(x: number, a: number, b: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T > t) for Student's t with df degrees of freedom. */
export function ptUpper(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  const tail = 0.5 * betaI(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? tail : 1 - tail;
}

export function pt(t: number, df: number): number {
  return ptUpper(-t, df);
}

export type PAdjustMethod = 'holm' | 'BH' | 'bonferroni' | 'none';

/** R's p.adjust (n = number of non-NaN p-values). */
export function pAdjust(p: ArrayLike<number>, method: PAdjustMethod): number[] {
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i]!)) idx.push(i);
  const out = Array.from(p as ArrayLike<number>);
  const n = idx.length;
  if (n <= 1 || method === 'none') return out;
  if (method === 'bonferroni') {
    for (const i of idx) out[i] = Math.min(1, n * p[i]!);
    return out;
  }
  if (method === 'holm') {
    const o = [...idx].sort((a, b) => p[a]! - p[b]!);
    let run = 0;
    o.forEach((i, k) => {
      run = Math.max(run, (n - k) * p[i]!);
      out[i] = Math.min(1, run);
    });
    return out;
  }
  const o = [...idx].sort((a, b) => p[b]! - p[a]!);
  let run = Infinity;
  o.forEach((i, k) => {
    run = Math.min(run, (n / (n - k)) * p[i]!);
    out[i] = Math.min(1, run);
  });
  return out;
}
