/**
 * Cox proportional hazards, numerically as survival::coxph (coxfit6.c: centring and scaling, Newton-Raphson with
 * step-halving, relative log-likelihood change <= eps, LDL' with rank detection; coxexact.c for ties = 'exact',
 * in cox-exact.ts), so coefficients, variances, tests, baseline hazards and predicted curves equal R's to round-off.
 *
 * Exports:
 * - `CoxData` {time, event, columns (column-major X), names, strata?, strataLevels?, weights?}.
 * - `CoxOptions` {ties: 'efron'|'breslow'|'exact', maxIter (20), eps (1e-9), tolerChol, tolerInf, robust, centerAll}.
 * - `fitCox(data, options) -> CoxFit`: plain JSON-serialisable result: coefficients (NaN for aliased columns),
 *   se, z, p, hr with 95% CI, vcov (robust when weighted, naive kept), means, loglik, tests (LR, Wald, score;
 *   robust score when robust), concordance (Harrell C of the fit), iterations, warnings as R words them.
 * - `coxLinearPredictor(fit, data, {centered})`: X beta, or predict(type='lp') (per-stratum centring).
 * - `coxBaseline(fit, data)`: per-stratum hazard increments (Breslow, or Efron-corrected after an Efron fit, as
 *   survfit.coxph's default ctype) with the pieces needed for curve variances.
 * - `coxBasehaz(fit, data, centered)`: survival::basehaz().
 * - `coxSurvfit(fit, data, x, stratum?)`: survfit.coxph for one covariate row: time, surv, cumhaz, std_err
 *   (se of the cumulative hazard = se of log S), log-scale CI.
 * - `stepAt(times, values, t, before)`: the step function lookup summary.survfit(times, extend=TRUE) uses.
 * - `CoxPHFitter`: lifelines-style wrapper: `new CoxPHFitter(opts).fit(frame, formula, {strata, weights})`,
 *   `.predictSurvival(rows, times)`, `.summary()`.
 */
import { HccError } from '../util/errors.js';
import { lexOrder } from './order.js';
import { coxExactRaw } from './cox-exact.js';
import { cholesky, cholInverse, cholSolve, symMatrix, TOLER_CHOL, type SymMatrix } from './linalg.js';
import { pchisqUpper, pTwoSidedNormal, Z975 } from './distributions.js';
import { concordanceFit } from './concordance.js';
import { designMatrix, groupOf, parseFormula, type Design, type SurvFrame, type Term, requireEvents, frameVariable, applyTransform } from './data.js';

export type Ties = 'efron' | 'breslow' | 'exact';

export interface CoxData {
  time: ArrayLike<number>;
  event: ArrayLike<number>;
  /** Column-major covariates. */
  columns: Float64Array[];
  names: string[];
  /** Stratum code per row (0-based), absent for no strata. */
  strata?: Int32Array;
  strataLevels?: string[];
  weights?: Float64Array;
}

export interface CoxOptions {
  ties?: Ties;
  maxIter?: number;
  eps?: number;
  tolerChol?: number;
  tolerInf?: number;
  /** Sandwich variance; default as coxph: on when any case weight is not an integer. */
  robust?: boolean;
  /** Centre and scale every column, 0/1 dummies included (coxph's nocenter = NULL, as rms::cph fits). */
  centerAll?: boolean;
}

export interface CoxTest {
  statistic: number;
  df: number;
  p: number;
}

export interface CoxFit {
  ties: Ties;
  n: number;
  nevent: number;
  names: string[];
  coef: number[];
  se: number[];
  /** Model-based se when the variance is robust. */
  naiveSe?: number[];
  z: number[];
  p: number[];
  hr: number[];
  hrLower: number[];
  hrUpper: number[];
  vcov: number[][];
  naiveVcov?: number[][];
  robust: boolean;
  /** Centring used by predict/basehaz: column means, 0 for columns coded within {-1, 0, 1} (coxph's nocenter). */
  means: number[];
  loglik: { null: number; model: number; aic: number; iter: number };
  tests: { likelihood_ratio: CoxTest; wald: CoxTest; score_logrank: CoxTest; robust_score?: CoxTest };
  concordance: { harrell_c: number; se: number; concordant: number; discordant: number; tied_x: number; tied_y: number; tied_xy: number };
  converged: boolean;
  warnings: string[];
  strataLevels?: string[];
}

interface Sorted {
  order: Int32Array;
  time: Float64Array;
  status: Uint8Array;
  weights: Float64Array;
  /** 1 where the sorted row is the last of its stratum (coxph's newstrat). */
  last: Uint8Array;
}

function sortForFit(data: CoxData): Sorted {
  const n = data.time.length;
  const s = data.strata;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = data.time[i]!;
  const order = lexOrder(n, s ? [s, t] : [t]);
  const last = new Uint8Array(n);
  for (let k = 0; k < n; k++) last[k] = k === n - 1 || (s !== undefined && s[order[k]!] !== s[order[k + 1]!]) ? 1 : 0;
  const time = new Float64Array(n);
  const status = new Uint8Array(n);
  const weights = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    time[k] = t[i]!;
    status[k] = data.event[i]!;
    weights[k] = data.weights ? data.weights[i]! : 1;
  }
  return { order, time, status, weights, last };
}

interface IterState {
  u: Float64Array;
  imat: SymMatrix;
  loglik: number;
}

/**
 * One pass of coxfit6_iter: log-likelihood, score and information at beta. X holds the centred, scaled covariates
 * row-major (person * nvar + i), so each person's values are contiguous in the inner loops.
 */
function coxIter(X: Float64Array, nvar: number, sd: Sorted, efron: boolean, beta: Float64Array): IterState {
  const n = sd.time.length;
  const u = new Float64Array(nvar);
  const imat = symMatrix(nvar);
  const I = imat.data;
  const a = new Float64Array(nvar);
  const a2 = new Float64Array(nvar);
  const cmat = new Float64Array(nvar * nvar);
  const cmat2 = new Float64Array(nvar * nvar);
  let loglik = 0;
  let denom = 0;
  for (let person = n - 1; person >= 0; ) {
    if (sd.last[person] === 1) {
      denom = 0;
      a.fill(0);
      cmat.fill(0);
    }
    const dtime = sd.time[person]!;
    let ndead = 0;
    let deadwt = 0;
    let denom2 = 0;
    while (person >= 0 && sd.time[person] === dtime) {
      const row = person * nvar;
      let zbeta = 0;
      for (let i = 0; i < nvar; i++) zbeta += beta[i]! * X[row + i]!;
      const w = sd.weights[person]!;
      const risk = Math.exp(zbeta) * w;
      if (sd.status[person] === 0) {
        denom += risk;
        for (let i = 0; i < nvar; i++) {
          const xi = X[row + i]!;
          a[i] += risk * xi;
          for (let j = 0; j <= i; j++) cmat[i * nvar + j] += risk * xi * X[row + j]!;
        }
      } else {
        ndead++;
        deadwt += w;
        denom2 += risk;
        loglik += w * zbeta;
        for (let i = 0; i < nvar; i++) {
          const xi = X[row + i]!;
          u[i] += w * xi;
          a2[i] += risk * xi;
          for (let j = 0; j <= i; j++) cmat2[i * nvar + j] += risk * xi * X[row + j]!;
        }
      }
      person--;
      if (person >= 0 && sd.last[person] === 1) break;
    }
    if (ndead > 0) {
      if (!efron || ndead === 1) {
        denom += denom2;
        loglik -= deadwt * Math.log(denom);
        for (let i = 0; i < nvar; i++) {
          a[i] += a2[i]!;
          const temp2 = a[i]! / denom;
          u[i] -= deadwt * temp2;
          for (let j = 0; j <= i; j++) {
            cmat[i * nvar + j] += cmat2[i * nvar + j]!;
            I[j * nvar + i] += (deadwt * (cmat[i * nvar + j]! - temp2 * a[j]!)) / denom;
          }
        }
      } else {
        const wtave = deadwt / ndead;
        for (let k = 0; k < ndead; k++) {
          denom += denom2 / ndead;
          loglik -= wtave * Math.log(denom);
          for (let i = 0; i < nvar; i++) {
            a[i] += a2[i]! / ndead;
            const temp2 = a[i]! / denom;
            u[i] -= wtave * temp2;
            for (let j = 0; j <= i; j++) {
              cmat[i * nvar + j] += cmat2[i * nvar + j]! / ndead;
              I[j * nvar + i] += (wtave * (cmat[i * nvar + j]! - temp2 * a[j]!)) / denom;
            }
          }
        }
      }
      a2.fill(0);
      cmat2.fill(0);
    }
  }
  return { u, imat, loglik };
}

function isZeroOne(col: Float64Array): boolean {
  return col.every((x) => x === 0 || x === 1 || x === -1);
}

interface RawFit {
  beta: Float64Array;
  means: Float64Array;
  u: Float64Array;
  variance: SymMatrix;
  loglik: [number, number];
  sctest: number;
  iter: number;
  flag: number;
}

/** coxfit6: centre and scale, Newton-Raphson from beta = 0 with step-halving. */
function coxfit6(data: CoxData, sd: Sorted, efron: boolean, maxIter: number, eps: number, toler: number, centerAll: boolean): RawFit {
  const nvar = data.columns.length;
  const n = sd.time.length;
  const means = new Float64Array(nvar);
  const scale = new Float64Array(nvar).fill(1);
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += sd.weights[i]!;
  const covar = data.columns.map((col, v) => {
    const c = new Float64Array(n);
    for (let k = 0; k < n; k++) c[k] = col[sd.order[k]!]!;
    if (!centerAll && isZeroOne(col)) return c;
    let m = 0;
    for (let i = 0; i < n; i++) m += sd.weights[i]! * c[i]!;
    m /= wsum;
    means[v] = m;
    let abs = 0;
    for (let i = 0; i < n; i++) {
      c[i] -= m;
      abs += sd.weights[i]! * Math.abs(c[i]!);
    }
    const s = abs > 0 ? wsum / abs : 1;
    scale[v] = s;
    for (let i = 0; i < n; i++) c[i] *= s;
    return c;
  });
  let beta: Float64Array = new Float64Array(nvar);
  const X = new Float64Array(n * nvar);
  for (let v = 0; v < nvar; v++) for (let k = 0; k < n; k++) X[k * nvar + v] = covar[v]![k]!;
  let st = coxIter(X, nvar, sd, efron, beta);
  const loglik: [number, number] = [st.loglik, st.loglik];
  let chol = cholesky(st.imat, toler);
  let flag = chol.rank * (chol.nonNegative ? 1 : -1);
  const a = cholSolve(chol, st.u);
  let sctest = 0;
  for (let i = 0; i < nvar; i++) sctest += st.u[i]! * a[i]!;
  const unscale = (b: Float64Array, u: Float64Array, ch: typeof chol): { beta: Float64Array; u: Float64Array; variance: SymMatrix } => {
    const v = cholInverse(ch);
    for (let i = 0; i < nvar; i++) for (let j = 0; j < nvar; j++) v.data[i * nvar + j] *= scale[i]! * scale[j]!;
    return { beta: b.map((x, i) => x * scale[i]!), u: u.map((x, i) => x / scale[i]!), variance: v };
  };
  if (maxIter === 0 || !Number.isFinite(loglik[0])) {
    const r = unscale(beta, st.u, chol);
    return { ...r, means, loglik, sctest, iter: 0, flag };
  }
  let newbeta = beta.map((b, i) => b + a[i]!);
  let halving = 0;
  for (let iter = 1; iter <= maxIter; iter++) {
    st = coxIter(X, nvar, sd, efron, newbeta);
    chol = cholesky(st.imat, toler);
    flag = chol.rank * (chol.nonNegative ? 1 : -1);
    const notFinite = !Number.isFinite(st.loglik) || st.u.some((x) => !Number.isFinite(x)) || st.imat.data.some((x) => !Number.isFinite(x));
    if (!notFinite && Math.abs(1 - loglik[1] / st.loglik) <= eps) {
      loglik[1] = st.loglik;
      const r = unscale(newbeta, st.u, chol);
      return { ...r, means, loglik, sctest, iter, flag: halving ? -2 : flag };
    }
    if (notFinite || st.loglik < loglik[1]) {
      halving++;
      newbeta = newbeta.map((nb, i) => (nb + halving * beta[i]!) / (halving + 1));
    } else {
      halving = 0;
      loglik[1] = st.loglik;
      const step = cholSolve(chol, st.u);
      beta = newbeta;
      newbeta = newbeta.map((nb, i) => nb + step[i]!);
    }
  }
  if (maxIter > 1) {
    st = coxIter(X, nvar, sd, efron, beta);
    loglik[1] = st.loglik;
    chol = cholesky(st.imat, toler);
  }
  const r = unscale(beta, st.u, chol);
  return { ...r, means, loglik, sctest, iter: maxIter, flag: 1000 };
}

/** Score residuals (coxscore2.c) for the rows in sorted order; x raw, score = exp(lp). */
function scoreResiduals(data: CoxData, sd: Sorted, efron: boolean, score: Float64Array): Float64Array[] {
  const nvar = data.columns.length;
  const n = sd.time.length;
  const x = data.columns.map((col) => Float64Array.from(sd.order, (i) => col[i]!));
  const sc = Float64Array.from(sd.order, (i) => score[i]!);
  const resid = x.map(() => new Float64Array(n));
  const a = new Float64Array(nvar);
  const a2 = new Float64Array(nvar);
  const xhaz = new Float64Array(nvar);
  let denom = 0;
  let cumhaz = 0;
  let stratumStart = n - 1;
  for (let i = n - 1; i >= 0; ) {
    const newtime = sd.time[i]!;
    let deaths = 0;
    let eDenom = 0;
    let meanwt = 0;
    a2.fill(0);
    const top = i;
    for (; i >= 0 && sd.time[i] === newtime && (i === top || sd.last[i] === 0); i--) {
      const risk = sc[i]! * sd.weights[i]!;
      denom += risk;
      for (let j = 0; j < nvar; j++) {
        resid[j]![i] = sc[i]! * (x[j]![i]! * cumhaz - xhaz[j]!);
        a[j] += risk * x[j]![i]!;
      }
      if (sd.status[i] === 1) {
        deaths++;
        eDenom += risk;
        meanwt += sd.weights[i]!;
        for (let j = 0; j < nvar; j++) a2[j] += risk * x[j]![i]!;
      }
    }
    if (deaths > 0) {
      if (deaths < 2 || !efron) {
        const hazard = meanwt / denom;
        cumhaz += hazard;
        for (let j = 0; j < nvar; j++) {
          const xbar = a[j]! / denom;
          xhaz[j] += xbar * hazard;
          for (let k = i + 1; k <= top; k++) if (sd.status[k] === 1) resid[j]![k] += x[j]![k]! - xbar;
        }
      } else {
        meanwt /= deaths;
        for (let dd = 0; dd < deaths; dd++) {
          const downwt = dd / deaths;
          const temp = denom - downwt * eDenom;
          const hazard = meanwt / temp;
          cumhaz += hazard;
          for (let j = 0; j < nvar; j++) {
            const xbar = (a[j]! - downwt * a2[j]!) / temp;
            xhaz[j] += xbar * hazard;
            for (let k = i + 1; k <= top; k++) {
              if (sd.status[k] !== 1) continue;
              const temp2 = x[j]![k]! - xbar;
              resid[j]![k] += temp2 / deaths + temp2 * sc[k]! * hazard * downwt;
            }
          }
        }
      }
    }
    if (i < 0 || sd.last[i] === 1) {
      for (let k = stratumStart; k > i; k--) for (let j = 0; j < nvar; j++) resid[j]![k] += sc[k]! * (xhaz[j]! - x[j]![k]! * cumhaz);
      denom = 0;
      cumhaz = 0;
      a.fill(0);
      xhaz.fill(0);
      stratumStart = i;
    }
  }
  // Back to data order.
  return resid.map((r) => {
    const out = new Float64Array(n);
    sd.order.forEach((orig, k) => (out[orig] = r[k]!));
    return out;
  });
}

/** coxph.wtest: b' V^- b with V's generalised inverse; df = rank. */
function waldTest(v: number[][], b: number[], toler: number): { test: number; df: number } {
  const k = b.length;
  const m = symMatrix(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m.data[i * k + j] = v[i]![j]!;
  const ch = cholesky(m, toler);
  const sol = cholSolve(ch, b);
  let t = 0;
  for (let i = 0; i < k; i++) t += b[i]! * sol[i]!;
  return { test: t, df: ch.rank };
}

function rows(m: SymMatrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.n; i++) out.push(Array.from(m.data.subarray(i * m.n, (i + 1) * m.n)));
  return out;
}

function sub(m: number[][], keep: number[]): number[][] {
  return keep.map((i) => keep.map((j) => m[i]![j]!));
}

/** A small vector from an index function (plain loop: V8 deoptimises map chains over fresh arrays here). */
function vec(n: number, f: (j: number) => number): number[] {
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = f(j);
  return out;
}

export function fitCox(data: CoxData, options: CoxOptions = {}): CoxFit {
  const ties = options.ties ?? 'efron';
  const maxIter = options.maxIter ?? 20;
  const eps = options.eps ?? 1e-9;
  const toler = options.tolerChol ?? TOLER_CHOL;
  const tolerInf = options.tolerInf ?? Math.sqrt(eps);
  const n = data.time.length;
  const nvar = data.columns.length;
  if (nvar === 0) throw new HccError('Cox model: no covariates (give --formula or --covariates)');
  if (data.weights && data.weights.some((w) => !(w > 0) || !Number.isFinite(w))) throw new HccError('Cox model: case weights must be positive and finite');
  let nevent = 0;
  for (let i = 0; i < n; i++) nevent += data.event[i]!;
  if (nevent === 0) throw new HccError('Cox model: no events (all observations censored)');
  const robust = options.robust ?? (data.weights !== undefined && data.weights.some((w) => w !== Math.floor(w)));
  const sd = sortForFit(data);
  const efron = ties === 'efron';
  if (ties === 'exact' && data.weights) throw new HccError('Cox model: case weights are not supported for the exact method (as in R)');
  const raw = ties === 'exact' ? coxExactRaw(data.columns, data.time, data.event, data.strata, { maxIter, eps, toler }) : coxfit6(data, sd, efron, maxIter, eps, toler, options.centerAll ?? false);
  const warnings: string[] = [];
  const naiveV = rows(raw.variance);
  const singular: boolean[] = [];
  for (let j = 0; j < nvar; j++) singular.push(raw.flag < nvar && naiveV[j]![j] === 0);
  const means = Array.from(raw.means);
  const beta = Array.from(raw.beta);
  let xcenter = 0;
  for (let j = 0; j < nvar; j++) xcenter += beta[j]! * means[j]!;
  const lp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = -xcenter;
    for (let j = 0; j < nvar; j++) s += data.columns[j]![i]! * beta[j]!;
    lp[i] = s;
  }
  if (maxIter > 1) {
    // infs = |u %*% var|, as coxph.fit
    const infs = new Float64Array(nvar);
    for (let j = 0; j < nvar; j++) {
      let acc = 0;
      for (let k = 0; k < nvar; k++) acc += raw.u[k]! * naiveV[k]![j]!;
      infs[j] = Math.abs(acc);
    }
    if (raw.flag === 1000) {
      warnings.push('Ran out of iterations and did not converge');
      let maxLp = -Infinity;
      for (let i = 0; i < n; i++) if (lp[i]! > maxLp) maxLp = lp[i]!;
      if (maxLp > 500 || infs.some((x) => !Number.isFinite(x))) warnings.push('one or more coefficients may be infinite');
    } else {
      const bad: number[] = [];
      for (let j = 0; j < nvar; j++) {
        if (!Number.isFinite(raw.u[j]!) || (infs[j]! > eps && infs[j]! > tolerInf * Math.abs(beta[j]!))) bad.push(j + 1);
      }
      if (bad.length > 0) warnings.push(`Loglik converged before variable  ${bad.join(',')} ; ${ties === 'exact' ? 'beta' : 'coefficient'} may be infinite. `);
    }
  }
  singular.forEach((s, j) => {
    if (s) warnings.push(`X matrix deemed to be singular; variable ${j + 1} (${data.names[j]}) has no coefficient`);
  });
  const coef = vec(nvar, (j) => (singular[j] ? NaN : beta[j]!));
  let V = naiveV;
  let robustScore: CoxTest | undefined;
  if (robust) {
    const score = lp.map(Math.exp);
    const res = scoreResiduals(data, sd, efron, score);
    const w = data.weights ?? new Float64Array(n).fill(1);
    // dfbeta = (score residuals) %*% naive var, weighted.
    const dfb = Array.from({ length: nvar }, (_, j) => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < nvar; k++) s += res[k]![i]! * naiveV[k]![j]!;
        out[i] = s * w[i]!;
      }
      return out;
    });
    V = dfb.map((cj) => dfb.map((ck) => cj.reduce((s, x, i) => s + x * ck[i]!, 0)));
    const res0 = scoreResiduals(data, sd, efron, new Float64Array(n).fill(1));
    const r0 = res0.map((c) => c.map((x, i) => x * w[i]!));
    const u0 = r0.map((c) => c.reduce((s, x) => s + x, 0));
    const crossp = r0.map((cj) => r0.map((ck) => cj.reduce((s, x, i) => s + x * ck[i]!, 0)));
    const rt = waldTest(crossp, u0, toler);
    robustScore = { statistic: rt.test, df: rt.df, p: pchisqUpper(rt.test, rt.df) };
  }
  const keep: number[] = [];
  for (let j = 0; j < nvar; j++) if (!singular[j]) keep.push(j);
  const df = keep.length;
  const wald = waldTest(sub(V, keep), keep.map((j) => coef[j]!), toler);
  const lr = 2 * (raw.loglik[1] - raw.loglik[0]);
  const se = vec(nvar, (j) => (singular[j] ? NaN : Math.sqrt(V[j]![j]!)));
  const z = vec(nvar, (j) => coef[j]! / se[j]!);
  const conc = concordanceFit(data.time, data.event, lp, { strata: data.strata, weights: data.weights, reverse: true });
  const fit: CoxFit = {
    ties,
    n,
    nevent,
    names: data.names,
    coef,
    se,
    z,
    p: vec(nvar, (j) => pTwoSidedNormal(z[j]!)),
    hr: vec(nvar, (j) => Math.exp(coef[j]!)),
    hrLower: vec(nvar, (j) => Math.exp(coef[j]! - Z975 * se[j]!)),
    hrUpper: vec(nvar, (j) => Math.exp(coef[j]! + Z975 * se[j]!)),
    vcov: V,
    robust,
    means,
    loglik: { null: raw.loglik[0], model: raw.loglik[1], aic: -2 * raw.loglik[1] + 2 * df, iter: raw.iter },
    tests: {
      likelihood_ratio: { statistic: lr, df, p: pchisqUpper(lr, df) },
      wald: { statistic: wald.test, df, p: pchisqUpper(wald.test, df) },
      score_logrank: { statistic: raw.sctest, df, p: pchisqUpper(raw.sctest, df) },
    },
    concordance: {
      harrell_c: conc.c,
      se: conc.se,
      concordant: conc.count.concordant,
      discordant: conc.count.discordant,
      tied_x: conc.count.tied_x,
      tied_y: conc.count.tied_y,
      tied_xy: conc.count.tied_xy,
    },
    converged: raw.flag !== 1000,
    warnings,
  };
  if (robust) {
    fit.naiveSe = vec(nvar, (j) => (singular[j] ? NaN : Math.sqrt(naiveV[j]![j]!)));
    fit.naiveVcov = naiveV;
    fit.tests.robust_score = robustScore;
  }
  if (data.strataLevels) fit.strataLevels = data.strataLevels;
  return fit;
}

/** Coefficients with aliased (NaN) ones as 0, as predict and survfit use them. */
function usableCoef(fit: CoxFit): number[] {
  return fit.coef.map((c) => (Number.isNaN(c) ? 0 : c));
}

function rowDot(columns: Float64Array[], i: number, b: number[]): number {
  let s = 0;
  for (let j = 0; j < b.length; j++) s += columns[j]![i]! * b[j]!;
  return s;
}

/** Weighted column means per stratum (predict.coxph reference = "strata"). */
function strataMeans(data: CoxData): number[][] {
  const k = data.strataLevels?.length ?? 1;
  const sums = Array.from({ length: k }, () => new Array(data.columns.length).fill(0));
  const wsum = new Array(k).fill(0);
  for (let i = 0; i < data.time.length; i++) {
    const s = data.strata ? data.strata[i]! : 0;
    const w = data.weights ? data.weights[i]! : 1;
    wsum[s] += w;
    for (let j = 0; j < data.columns.length; j++) sums[s]![j] += w * data.columns[j]![i]!;
  }
  return sums.map((r, s) => r.map((x) => x / wsum[s]));
}

/** lp_raw = X beta; centred as predict(type = "lp"): minus the means (per stratum when stratified). */
export function coxLinearPredictor(fit: CoxFit, data: CoxData, centered: boolean): Float64Array {
  const b = usableCoef(fit);
  const n = data.time.length;
  const out = new Float64Array(n);
  const sm = data.strata ? strataMeans(data) : undefined;
  const center = b.reduce((s, bj, j) => s + bj * fit.means[j]!, 0);
  for (let i = 0; i < n; i++) {
    const raw = rowDot(data.columns, i, b);
    if (!centered) out[i] = raw;
    else if (sm) out[i] = raw - b.reduce((s, bj, j) => s + bj * sm[data.strata![i]!]![j]!, 0);
    else out[i] = raw - center;
  }
  return out;
}

/** predict(type = "lp") for a new covariate row. */
export function coxPredictLp(fit: CoxFit, data: CoxData, x: ArrayLike<number>, stratum?: number): number {
  const b = usableCoef(fit);
  const m = data.strata && stratum !== undefined ? strataMeans(data)[stratum]! : fit.means;
  return b.reduce((s, bj, j) => s + bj * (x[j]! - m[j]!), 0);
}

export interface StratumHazard {
  stratum: string | undefined;
  /** All distinct observed times in the stratum. */
  time: number[];
  nRisk: number[];
  nEvent: number[];
  nCensor: number[];
  /** Hazard increments for risk = exp(X beta - sum(beta * means)). */
  hazard: number[];
  varhaz: number[];
  /** xbar * hazard (per covariate) as agsurv's xbar. */
  xbar: number[][];
}

/** agsurv per stratum: Breslow increments, or Efron-corrected ones (ctype 2) after an Efron fit. */
export function coxBaseline(fit: CoxFit, data: CoxData): StratumHazard[] {
  const b = usableCoef(fit);
  const nvar = b.length;
  const center = b.reduce((s, bj, j) => s + bj * fit.means[j]!, 0);
  const n = data.time.length;
  const k = data.strataLevels?.length ?? 1;
  const out: StratumHazard[] = [];
  for (let s = 0; s < k; s++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (!data.strata || data.strata[i] === s) idx.push(i);
    idx.sort((p, q) => data.time[p]! - data.time[q]!);
    const times: number[] = [];
    const groups: number[][] = [];
    for (const i of idx) {
      if (times.length === 0 || times[times.length - 1] !== data.time[i]) {
        times.push(data.time[i]!);
        groups.push([]);
      }
      groups[groups.length - 1]!.push(i);
    }
    const T = times.length;
    const nevent = new Array(T).fill(0);
    const ncens = new Array(T).fill(0);
    const ndeath = new Array(T).fill(0);
    const wriskAt = new Array(T).fill(0);
    const wAt = new Array(T).fill(0);
    const xsumAt = Array.from({ length: T }, () => new Array(nvar).fill(0));
    const eriskAt = new Array(T).fill(0);
    const xsum2At = Array.from({ length: T }, () => new Array(nvar).fill(0));
    groups.forEach((g, t) => {
      for (const i of g) {
        const w = data.weights ? data.weights[i]! : 1;
        const risk = Math.exp(rowDot(data.columns, i, b) - center);
        const wr = w * risk;
        wriskAt[t] += wr;
        wAt[t] += w;
        for (let j = 0; j < nvar; j++) xsumAt[t]![j] += wr * data.columns[j]![i]!;
        if (data.event[i] === 1) {
          nevent[t] += w;
          ndeath[t] += 1;
          eriskAt[t] += wr;
          for (let j = 0; j < nvar; j++) xsum2At[t]![j] += wr * data.columns[j]![i]!;
        } else ncens[t] += w;
      }
    });
    // Reverse cumulative sums: risk sets.
    const nrisk = new Array(T).fill(0);
    const irisk = new Array(T).fill(0);
    const xsum = Array.from({ length: T }, () => new Array(nvar).fill(0));
    for (let t = T - 1; t >= 0; t--) {
      nrisk[t] = wriskAt[t] + (t + 1 < T ? nrisk[t + 1] : 0);
      irisk[t] = wAt[t] + (t + 1 < T ? irisk[t + 1] : 0);
      for (let j = 0; j < nvar; j++) xsum[t]![j] = xsumAt[t]![j]! + (t + 1 < T ? xsum[t + 1]![j]! : 0);
    }
    const hazard = new Array(T).fill(0);
    const varhaz = new Array(T).fill(0);
    const xbar = Array.from({ length: T }, () => new Array(nvar).fill(0));
    for (let t = 0; t < T; t++) {
      if (fit.ties === 'efron') {
        const d = ndeath[t];
        let sum1 = 0;
        let sum2 = 0;
        const xb = new Array(nvar).fill(0);
        if (d === 1) {
          const temp = 1 / nrisk[t];
          sum1 = temp;
          sum2 = temp * temp;
          for (let j = 0; j < nvar; j++) xb[j] = xsum[t]![j]! * temp * temp;
        } else {
          for (let r = 0; r < d; r++) {
            const temp = 1 / (nrisk[t] - (eriskAt[t] * r) / d);
            sum1 += temp / d;
            sum2 += (temp * temp) / d;
            for (let j = 0; j < nvar; j++) xb[j] += ((xsum[t]![j]! - (xsum2At[t]![j]! * r) / d) * temp * temp) / d;
          }
        }
        hazard[t] = nevent[t] * sum1;
        varhaz[t] = nevent[t] * sum2;
        for (let j = 0; j < nvar; j++) xbar[t]![j] = nevent[t] * xb[j]!;
      } else {
        hazard[t] = nevent[t] / nrisk[t];
        varhaz[t] = nevent[t] / (nrisk[t] * nrisk[t]);
        for (let j = 0; j < nvar; j++) xbar[t]![j] = (xsum[t]![j]! / nrisk[t]) * hazard[t];
      }
    }
    out.push({ stratum: data.strataLevels?.[s], time: times, nRisk: irisk, nEvent: nevent, nCensor: ncens, hazard, varhaz, xbar });
  }
  return out;
}

export interface Basehaz {
  time: number[];
  hazard: number[];
  strata?: string[];
}

/** survival::basehaz(fit, centered): cumulative hazard at every observed time, per stratum. */
export function coxBasehaz(fit: CoxFit, data: CoxData, centered: boolean, baseline = coxBaseline(fit, data)): Basehaz {
  const b = usableCoef(fit);
  const shift = centered ? 1 : Math.exp(-b.reduce((s, bj, j) => s + bj * fit.means[j]!, 0));
  const out: Basehaz = { time: [], hazard: [] };
  if (data.strataLevels) out.strata = [];
  for (const st of baseline) {
    let H = 0;
    st.time.forEach((t, k) => {
      H += st.hazard[k]!;
      out.time.push(t);
      out.hazard.push(H * shift);
      out.strata?.push(st.stratum!);
    });
  }
  return out;
}

export interface CoxCurve {
  time: number[];
  surv: number[];
  cumhaz: number[];
  /** se of the cumulative hazard (= se of -log S), survfit.coxph's std.err. */
  stdErr: number[];
  lower: number[];
  upper: number[];
}

/** survfit.coxph(fit, newdata = x) with the log-scale 95% CI. */
export function coxSurvfit(fit: CoxFit, baseline: StratumHazard[], x: ArrayLike<number>, stratum = 0): CoxCurve {
  const b = usableCoef(fit);
  const nvar = b.length;
  const center = b.reduce((s, bj, j) => s + bj * fit.means[j]!, 0);
  const risk2 = Math.exp(b.reduce((s, bj, j) => s + bj * x[j]!, 0) - center);
  const st = baseline[stratum]!;
  const V = fit.vcov.map((r) => r.map((v) => (Number.isNaN(v) ? 0 : v)));
  const curve: CoxCurve = { time: st.time, surv: [], cumhaz: [], stdErr: [], lower: [], upper: [] };
  let H = 0;
  let vh = 0;
  const dt = new Array(nvar).fill(0);
  st.time.forEach((_, k) => {
    H += st.hazard[k]!;
    vh += st.varhaz[k]!;
    for (let j = 0; j < nvar; j++) dt[j] += st.hazard[k]! * x[j]! - st.xbar[k]![j]!;
    let q = 0;
    for (let i = 0; i < nvar; i++) for (let j = 0; j < nvar; j++) q += dt[i] * V[i]![j]! * dt[j];
    const se = Math.sqrt((vh + q) * risk2 * risk2);
    const cumhaz = H * risk2;
    const surv = Math.exp(-cumhaz);
    curve.cumhaz.push(cumhaz);
    curve.surv.push(surv);
    curve.stdErr.push(se);
    curve.lower.push(surv === 0 ? NaN : Math.exp(Math.log(surv) - Z975 * se));
    curve.upper.push(surv === 0 ? NaN : Math.min(1, Math.exp(Math.log(surv) + Z975 * se)));
  });
  return curve;
}

/** Index of the last time <= t (-1 if none): the step-function lookup of summary.survfit(times, extend = TRUE). */
export function stepIndex(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export interface CoxPrediction {
  id: string;
  lp_centered: number;
  times: number[];
  surv: number[];
  cumhaz: number[];
  /** se of S (summary.survfit's std.err). */
  std_err: number[];
  lower: number[];
  upper: number[];
}

/** The curve at chosen times: S = 1 and se 0 before the first observed time. */
export function curveAt(curve: CoxCurve, times: number[]): Omit<CoxPrediction, 'id' | 'lp_centered'> {
  const out = { times, surv: [] as number[], cumhaz: [] as number[], std_err: [] as number[], lower: [] as number[], upper: [] as number[] };
  for (const t of times) {
    const k = stepIndex(curve.time, t);
    if (k < 0) {
      out.surv.push(1);
      out.cumhaz.push(0);
      out.std_err.push(0);
      out.lower.push(1);
      out.upper.push(1);
    } else {
      out.surv.push(curve.surv[k]!);
      out.cumhaz.push(curve.cumhaz[k]!);
      out.std_err.push(curve.stdErr[k]! * curve.surv[k]!);
      out.lower.push(curve.lower[k]!);
      out.upper.push(curve.upper[k]!);
    }
  }
  return out;
}

/** Cox data from a prepared frame: design matrix, strata column, optional weights column. */
export function coxDataFromFrame(frame: SurvFrame, terms: Term[], strata?: string, weights?: string): { data: CoxData; design: Design } {
  const design = designMatrix(frame, terms);
  const data: CoxData = { time: frame.time, event: frame.event, columns: design.columns, names: design.names };
  const strataTerms = terms.filter((t) => t.kind === 'strata').map((t) => t.variable);
  const strataCol = strata ?? strataTerms[0];
  if (strataCol !== undefined) {
    const g = groupOf(frame, strataCol);
    data.strata = g.codes;
    // survival's strata(): a factor is labelled by its level, a numeric column as "name=value".
    const isFactor = frame.variables.get(strataCol)?.kind === 'factor';
    data.strataLevels = g.levels.map((l) => (isFactor ? l : `${strataCol}=${l}`));
  }
  if (weights !== undefined) {
    const v = frameVariable(frame, weights);
    if (v.kind !== 'numeric') throw new HccError(`${frame.source}: weights column '${weights}' is not numeric`);
    v.values.forEach((w, i) => {
      if (!(w > 0) || !Number.isFinite(w)) throw new HccError(`${frame.source}: weights column '${weights}', data row ${frame.rows[i]}: ${w} is not a positive weight`);
    });
    data.weights = v.values;
  }
  return { data, design };
}

/** A covariate row for new data given as column -> cell text, coded like the design. */
export function designRow(design: Design, values: (column: string) => string | null, source: string): Float64Array {
  const x: number[] = [];
  for (const term of design.terms) {
    if (term.kind === 'strata') continue;
    const cell = values(term.variable);
    if (cell === null) throw new HccError(`${source}: new data has no value for '${term.variable}'`);
    const levels = design.levels.get(term.label);
    if (levels) {
      const label = Number.isNaN(Number(cell)) || cell.trim() === '' ? cell.trim() : String(Number(Number(cell).toPrecision(15)));
      const k = levels.indexOf(label) >= 0 ? levels.indexOf(label) : levels.indexOf(cell.trim());
      if (k < 0) throw new HccError(`${source}: '${cell}' is not a level of '${term.variable}' (levels: ${levels.join(', ')})`);
      for (let l = 1; l < levels.length; l++) x.push(k === l ? 1 : 0);
    } else {
      const v = Number(cell);
      if (Number.isNaN(v)) throw new HccError(`${source}: '${term.variable}' = '${cell}' is not a number`);
      x.push(applyTransform(term.kind, v));
    }
  }
  return Float64Array.from(x);
}

/** lifelines-style fitter over a prepared frame. */
export class CoxPHFitter {
  readonly options: CoxOptions;
  fitResult?: CoxFit;
  data?: CoxData;
  design?: Design;
  baseline?: StratumHazard[];

  constructor(options: CoxOptions = {}) {
    this.options = options;
  }

  fit(frame: SurvFrame, formula: string, opts: { strata?: string; weights?: string } = {}): CoxFit {
    requireEvents(frame, 'Cox model');
    const { data, design } = coxDataFromFrame(frame, parseFormula(formula), opts.strata, opts.weights);
    this.data = data;
    this.design = design;
    this.fitResult = fitCox(data, this.options);
    this.baseline = coxBaseline(this.fitResult, data);
    return this.fitResult;
  }

  private fitted(): { fit: CoxFit; data: CoxData; design: Design; baseline: StratumHazard[] } {
    if (!this.fitResult || !this.data || !this.design || !this.baseline) throw new HccError('CoxPHFitter: call fit() first');
    return { fit: this.fitResult, data: this.data, design: this.design, baseline: this.baseline };
  }

  /** Survival curves at `times` for covariate rows of the fitted data (0-based indices). */
  predictSurvival(indices: number[], times: number[]): CoxPrediction[] {
    const { fit, data, baseline } = this.fitted();
    return indices.map((i) => {
      const x = data.columns.map((c) => c[i]!);
      const s = data.strata ? data.strata[i]! : 0;
      return { id: `index_${i}`, lp_centered: coxPredictLp(fit, data, x, data.strata ? s : undefined), ...curveAt(coxSurvfit(fit, baseline, x, s), times) };
    });
  }

  summary(): CoxFit {
    return this.fitted().fit;
  }
}
