/**
 * The exact partial likelihood for tied event times (coxph ties = "exact", survival's coxexact.c): at each event
 * time with d deaths the denominator is the sum over all d-subsets of the risk set of prod(exp(eta)). That is the
 * elementary symmetric polynomial e_d of the risk scores. Its first and second derivatives come from the same
 * recursion, e_d(m) = e_d(m-1) + r_m e_{d-1}(m-1), and are run forward over the rows in decreasing time.
 *
 * Exports:
 * - `coxExactRaw(columns, time, event, strata, {maxIter, eps, toler})`: coefficients on the original scale,
 *   the score, the variance, loglik [initial, final], the score test, iterations, the rank flag (1000 = did not
 *   converge), and the centring used (column means; 0 for columns coded within {-1, 0, 1}, as coxph's nocenter).
 *   Case weights are not supported, as in R.
 */
import { cholesky, cholInverse, cholSolve, symMatrix, type SymMatrix } from './linalg.js';
import { lexOrder } from './order.js';

export interface ExactRaw {
  beta: Float64Array;
  means: Float64Array;
  u: Float64Array;
  variance: SymMatrix;
  loglik: [number, number];
  sctest: number;
  iter: number;
  flag: number;
}

interface Pass {
  loglik: number;
  u: Float64Array;
  imat: SymMatrix;
}

/** One pass over the data at beta (scaled covariates X, row-major, rows in decreasing time within strata). */
function exactPass(X: Float64Array, nvar: number, time: Float64Array, status: Uint8Array, first: Uint8Array, maxd: number, beta: Float64Array): Pass {
  const n = time.length;
  const npair = (nvar * (nvar + 1)) / 2;
  const E = new Float64Array(maxd + 1);
  const D1 = new Float64Array(nvar * (maxd + 1));
  const D2 = new Float64Array(npair * (maxd + 1));
  const u = new Float64Array(nvar);
  const imat = symMatrix(nvar);
  const d1 = new Float64Array(nvar);
  let loglik = 0;
  for (let i = 0; i < n; ) {
    if (first[i] === 1) {
      E.fill(0);
      E[0] = 1;
      D1.fill(0);
      D2.fill(0);
    }
    const dtime = time[i]!;
    let ndeath = 0;
    do {
      const row = i * nvar;
      let zbeta = 0;
      for (let j = 0; j < nvar; j++) zbeta += X[row + j]! * beta[j]!;
      const s = Math.exp(zbeta);
      if (status[i] === 1) {
        loglik += zbeta;
        for (let j = 0; j < nvar; j++) u[j] += X[row + j]!;
        ndeath++;
      }
      // Add this row to the risk set: update e_d and its derivatives for d = maxd..1 (in place, downwards).
      for (let d = maxd; d >= 1; d--) {
        const eprev = E[d - 1]!;
        let p = 0;
        for (let j = 0; j < nvar; j++) {
          const xj = X[row + j]!;
          for (let k = 0; k <= j; k++, p++) {
            const xk = X[row + k]!;
            D2[p * (maxd + 1) + d] = eprev * s * xj * xk + D2[p * (maxd + 1) + d]! + s * (D2[p * (maxd + 1) + d - 1]! + xj * D1[k * (maxd + 1) + d - 1]! + xk * D1[j * (maxd + 1) + d - 1]!);
          }
        }
        for (let j = 0; j < nvar; j++) {
          D1[j * (maxd + 1) + d] = s * X[row + j]! * eprev + D1[j * (maxd + 1) + d]! + s * D1[j * (maxd + 1) + d - 1]!;
        }
        E[d] = s * eprev + E[d]!;
      }
      i++;
    } while (i < n && time[i] === dtime && first[i] === 0);
    if (ndeath > 0) {
      const d0 = E[ndeath]!;
      loglik -= Math.log(d0);
      for (let j = 0; j < nvar; j++) {
        d1[j] = D1[j * (maxd + 1) + ndeath]! / d0;
        u[j] -= d1[j]!;
      }
      let p = 0;
      for (let j = 0; j < nvar; j++) {
        for (let k = 0; k <= j; k++, p++) {
          const v = D2[p * (maxd + 1) + ndeath]! / d0 - d1[j]! * d1[k]!;
          imat.data[k * nvar + j] += v;
          if (k !== j) imat.data[j * nvar + k] += v;
        }
      }
    }
  }
  return { loglik, u, imat };
}

export function coxExactRaw(columns: Float64Array[], timeIn: ArrayLike<number>, event: ArrayLike<number>, strata: ArrayLike<number> | undefined, opts: { maxIter: number; eps: number; toler: number }): ExactRaw {
  const n = timeIn.length;
  const nvar = columns.length;
  const negTime = new Float64Array(n);
  for (let i = 0; i < n; i++) negTime[i] = -timeIn[i]!;
  const order = lexOrder(n, strata ? [strata, negTime] : [negTime]);
  const time = new Float64Array(n);
  const status = new Uint8Array(n);
  const first = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    time[k] = timeIn[i]!;
    status[k] = event[i]!;
    first[k] = k === 0 || (strata !== undefined && strata[i] !== strata[order[k - 1]!]) ? 1 : 0;
  }
  // largest number of tied deaths at one time
  let maxd = 1;
  for (let k = 0; k < n; ) {
    let d = 0;
    const t = time[k]!;
    do {
      d += status[k]!;
      k++;
    } while (k < n && time[k] === t && first[k] === 0);
    if (d > maxd) maxd = d;
  }
  // scale(x): centre by the mean and divide by the SD; columns coded within {-1, 0, 1} are left alone.
  const means = new Float64Array(nvar);
  const rescale = new Float64Array(nvar).fill(1);
  const X = new Float64Array(n * nvar);
  columns.forEach((col, j) => {
    const zeroOne = col.every((x) => x === 0 || x === 1 || x === -1);
    let m = 0;
    if (!zeroOne) {
      for (let i = 0; i < n; i++) m += col[i]!;
      m /= n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (col[i]! - m) ** 2;
      const sd = Math.sqrt(ss / (n - 1));
      means[j] = m;
      rescale[j] = sd > 0 ? sd : 1;
    }
    for (let k = 0; k < n; k++) X[k * nvar + j] = (col[order[k]!]! - m) / rescale[j]!;
  });
  let beta = new Float64Array(nvar);
  let pass = exactPass(X, nvar, time, status, first, maxd, beta);
  const loglik: [number, number] = [pass.loglik, pass.loglik];
  let chol = cholesky(pass.imat, opts.toler);
  let flag = chol.rank * (chol.nonNegative ? 1 : -1);
  const step0 = cholSolve(chol, pass.u);
  let sctest = 0;
  for (let j = 0; j < nvar; j++) sctest += step0[j]! * pass.u[j]!;
  const finish = (b: Float64Array, p: Pass, ch: typeof chol, iter: number, fl: number): ExactRaw => {
    const v = cholInverse(ch);
    for (let i = 0; i < nvar; i++) for (let j = 0; j < nvar; j++) v.data[i * nvar + j] /= rescale[i]! * rescale[j]!;
    return { beta: b.map((x, j) => x / rescale[j]!), means, u: p.u.map((x, j) => x * rescale[j]!), variance: v, loglik, sctest, iter, flag: fl };
  };
  if (opts.maxIter === 0 || !Number.isFinite(loglik[0])) return finish(beta, pass, chol, 0, flag);
  let oldbeta = beta;
  beta = beta.map((b, j) => b + step0[j]!);
  let halving = false;
  for (let iter = 1; iter <= opts.maxIter; iter++) {
    pass = exactPass(X, nvar, time, status, first, maxd, beta);
    chol = cholesky(pass.imat, opts.toler);
    flag = chol.rank * (chol.nonNegative ? 1 : -1);
    const notFinite = !Number.isFinite(pass.loglik) || pass.u.some((x) => !Number.isFinite(x)) || pass.imat.data.some((x) => !Number.isFinite(x));
    if (!notFinite && Math.abs(1 - loglik[1] / pass.loglik) <= opts.eps && !halving) {
      loglik[1] = pass.loglik;
      return finish(beta, pass, chol, iter, flag);
    }
    if (iter === opts.maxIter) break;
    if (notFinite || pass.loglik < loglik[1]) {
      halving = true;
      beta = beta.map((b, j) => (oldbeta[j]! + b) / 2);
    } else {
      halving = false;
      loglik[1] = pass.loglik;
      const step = cholSolve(chol, pass.u);
      oldbeta = beta;
      beta = beta.map((b, j) => b + step[j]!);
    }
  }
  if (opts.maxIter > 1) {
    beta = oldbeta;
    pass = exactPass(X, nvar, time, status, first, maxd, beta);
    loglik[1] = pass.loglik;
    chol = cholesky(pass.imat, opts.toler);
  }
  return finish(beta, pass, chol, opts.maxIter, 1000);
}
