import { HccError } from '../util/errors.js';
import { pTwoSidedNormal, Z975 } from './distributions.js';
import { cholesky, cholInverse, cholSolve, symMatrix } from './linalg.js';

/**
 * Logistic regression by Newton-Raphson (IRLS), as R's glm(family = binomial), with optional case weights and
 * an optional ridge (L2) penalty on the slopes, never on the intercept. Used for propensity models (IPTW), the
 * clinical and radiomics baselines, and the oracle ceiling on the synthetic phenotype.
 *
 * With `ridge > 0` the slopes are penalised on the standardised scale (each column divided by its SD), as
 * glmnet does, so one lambda means the same for every predictor; coefficients are returned on the original scale.
 */
export interface LogisticOptions {
  weights?: ArrayLike<number>;
  ridge?: number;
  maxIter?: number;
  /** Convergence on the relative change in deviance, as glm's epsilon. */
  epsilon?: number;
  names?: string[];
}

export interface LogisticFit {
  names: string[];
  /** Intercept first, then one per column. */
  coefficients: number[];
  /** From the inverse observed information (unpenalised fits only; null with a ridge penalty). */
  se: number[] | null;
  z: number[] | null;
  p: number[] | null;
  lower: number[] | null;
  upper: number[] | null;
  deviance: number;
  nullDeviance: number;
  logLik: number;
  aic: number;
  iterations: number;
  converged: boolean;
  /** Fitted probabilities separate the classes perfectly (glm's "fitted probabilities numerically 0 or 1"). */
  separation: boolean;
  ridge: number;
}

function columnStats(x: ArrayLike<number>[], k: number, n: number, w: ArrayLike<number>): { mean: number; sd: number } {
  let sw = 0, s = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i]!;
    s += w[i]! * x[i]![k]!;
  }
  const mean = s / sw;
  for (let i = 0; i < n; i++) s2 += w[i]! * (x[i]![k]! - mean) ** 2;
  return { mean, sd: Math.sqrt(s2 / sw) };
}

/** `x` is rows of covariates (no intercept column); `y` is 0/1. */
export function fitLogistic(x: ArrayLike<number>[], y: ArrayLike<number>, options: LogisticOptions = {}): LogisticFit {
  const n = y.length;
  if (x.length !== n) throw new HccError(`logistic: ${x.length} covariate rows but ${n} outcomes`);
  if (n === 0) throw new HccError('logistic: no observations');
  const k = n > 0 ? x[0]!.length : 0;
  const p = k + 1;
  const w = options.weights ?? new Float64Array(n).fill(1);
  const ridge = options.ridge ?? 0;
  const names = ['(Intercept)', ...(options.names ?? Array.from({ length: k }, (_, j) => `x${j + 1}`))];
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new HccError(`logistic: outcome in row ${i + 1} is ${y[i]}, expected 0 or 1`);
    for (let j = 0; j < k; j++) {
      if (!Number.isFinite(x[i]![j]!)) throw new HccError(`logistic: covariate '${names[j + 1]}' in row ${i + 1} is not a finite number`);
    }
  }
  // Standardise so the penalty and the Newton steps are well scaled; map back at the end.
  const stats = Array.from({ length: k }, (_, j) => columnStats(x, j, n, w));
  const z = (i: number, j: number) => (stats[j]!.sd > 0 ? (x[i]![j]! - stats[j]!.mean) / stats[j]!.sd : 0);
  const beta = new Float64Array(p);
  let sw = 0, sy = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i]!;
    sy += w[i]! * y[i]!;
  }
  const ybar = sy / sw;
  if (ybar === 0 || ybar === 1) throw new HccError(`logistic: every outcome is ${ybar}; both classes are needed`);
  beta[0] = Math.log(ybar / (1 - ybar));
  const nullDeviance = -2 * sw * (ybar * Math.log(ybar) + (1 - ybar) * Math.log(1 - ybar));
  const maxIter = options.maxIter ?? 25;
  const epsilon = options.epsilon ?? 1e-8;
  const row = new Float64Array(p);
  const deviance = (b: Float64Array): number => {
    let d = 0;
    for (let i = 0; i < n; i++) {
      let eta = b[0]!;
      for (let j = 0; j < k; j++) eta += b[j + 1]! * z(i, j);
      // log(1 + exp(eta)) computed without overflow.
      const softplus = eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
      d += 2 * w[i]! * (softplus - y[i]! * eta);
    }
    for (let j = 1; j < p; j++) d += ridge * beta[j]! * beta[j]!;
    return d;
  };
  let dev = deviance(beta);
  let iterations = 0;
  let converged = false;
  let info = symMatrix(p);
  for (; iterations < maxIter; iterations++) {
    const grad = new Float64Array(p);
    info = symMatrix(p);
    for (let i = 0; i < n; i++) {
      row[0] = 1;
      for (let j = 0; j < k; j++) row[j + 1] = z(i, j);
      let eta = 0;
      for (let j = 0; j < p; j++) eta += beta[j]! * row[j]!;
      const mu = 1 / (1 + Math.exp(-eta));
      const v = w[i]! * mu * (1 - mu);
      const r = w[i]! * (y[i]! - mu);
      for (let a = 0; a < p; a++) {
        grad[a] += r * row[a]!;
        for (let b = 0; b <= a; b++) info.data[a * p + b] += v * row[a]! * row[b]!;
      }
    }
    for (let a = 1; a < p; a++) {
      grad[a] -= ridge * beta[a]!;
      info.data[a * p + a] += ridge;
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) info.data[b * p + a] = info.data[a * p + b]!;
    const step = cholSolve(cholesky(info), grad);
    // Step halving keeps the deviance from increasing, as glm.fit does.
    let scale = 1;
    let candidate = new Float64Array(p);
    let newDev = Infinity;
    for (let halving = 0; halving < 30; halving++) {
      for (let j = 0; j < p; j++) candidate[j] = beta[j]! + scale * step[j]!;
      const saved = Float64Array.from(beta);
      beta.set(candidate);
      newDev = deviance(beta);
      beta.set(saved);
      if (newDev <= dev + 1e-12 * Math.abs(dev)) break;
      scale /= 2;
    }
    beta.set(candidate);
    const change = Math.abs(newDev - dev) / (Math.abs(newDev) + 0.1);
    dev = newDev;
    if (change < epsilon) {
      converged = true;
      iterations++;
      break;
    }
  }
  let separation = false;
  for (let i = 0; i < n && !separation; i++) {
    let eta = beta[0]!;
    for (let j = 0; j < k; j++) eta += beta[j + 1]! * z(i, j);
    if (Math.abs(eta) > 30) separation = true;
  }
  // Back to the original scale: slope_j = b_j / sd_j, intercept = b_0 - sum b_j mean_j / sd_j.
  const coefficients = new Array<number>(p);
  const jac = new Float64Array(p * p);
  coefficients[0] = beta[0]!;
  jac[0] = 1;
  for (let j = 0; j < k; j++) {
    const { mean, sd } = stats[j]!;
    const slope = sd > 0 ? beta[j + 1]! / sd : 0;
    coefficients[j + 1] = slope;
    coefficients[0] -= slope * mean;
    if (sd > 0) {
      jac[(j + 1) * p + (j + 1)] = 1 / sd;
      jac[0 * p + (j + 1)] = -mean / sd;
    }
  }
  let se: number[] | null = null;
  if (ridge === 0) {
    const cov = cholInverse(cholesky(info)).data;
    se = [];
    for (let a = 0; a < p; a++) {
      let v = 0;
      for (let b = 0; b < p; b++) for (let c = 0; c < p; c++) v += jac[a * p + b]! * cov[b * p + c]! * jac[a * p + c]!;
      se.push(Math.sqrt(v));
    }
  }
  const zs = se ? coefficients.map((b, j) => b / se![j]!) : null;
  let devUnpenalised = dev;
  for (let j = 1; j < p; j++) devUnpenalised -= ridge * beta[j]! * beta[j]!;
  return {
    names,
    coefficients,
    se,
    z: zs,
    p: zs ? zs.map(pTwoSidedNormal) : null,
    lower: se ? coefficients.map((b, j) => b - Z975 * se![j]!) : null,
    upper: se ? coefficients.map((b, j) => b + Z975 * se![j]!) : null,
    deviance: devUnpenalised,
    nullDeviance,
    logLik: -devUnpenalised / 2,
    aic: devUnpenalised + 2 * p,
    iterations,
    converged,
    separation,
    ridge,
  };
}

export function predictLogistic(fit: LogisticFit, x: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(x.length);
  x.forEach((row, i) => {
    let eta = fit.coefficients[0]!;
    for (let j = 1; j < fit.coefficients.length; j++) eta += fit.coefficients[j]! * row[j - 1]!;
    out[i] = 1 / (1 + Math.exp(-eta));
  });
  return out;
}
