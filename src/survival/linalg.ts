/**
 * Dense symmetric linear algebra for the survival models, following survival's C routines
 * (cholesky2.c, chsolve2.c, chinv2.c) so that rank decisions and round-off match `coxph`.
 *
 * Exports:
 * - `SymMatrix`: a row-major n x n Float64Array with its size.
 * - `symMatrix(n)`, `fromRows(rows)`, `toRows(m)`: construct / convert.
 * - `cholesky(a, toler?)`: LDL' factor with rank detection (pivots below toler * max diagonal are zeroed,
 *   which is how coxph drops a collinear column: the later of two aliased columns gets a zero pivot).
 *   Returns `{ factor, rank, singular: boolean[], nonNegative }`; does not modify `a`.
 * - `cholSolve(chol, y)`: solves A x = y with the factor; singular directions get 0.
 * - `cholInverse(chol)`: the generalised inverse (rows/columns of singular pivots are 0), symmetric.
 * - `symInverse(a, toler?)`, `symSolve(a, y, toler?)`: one-call conveniences.
 * - `quadForm(a, x)`: x' A x. `matVec(a, x)`: A x.
 * - `TOLER_CHOL` = .Machine$double.eps^0.75, coxph's default `toler.chol`.
 */

export interface SymMatrix {
  n: number;
  /** Row-major, element (i, j) at i * n + j. */
  data: Float64Array;
}

export const TOLER_CHOL = Math.pow(2.220446049250313e-16, 0.75);

export function symMatrix(n: number): SymMatrix {
  return { n, data: new Float64Array(n * n) };
}

export function fromRows(rows: ArrayLike<number>[]): SymMatrix {
  const n = rows.length;
  const m = symMatrix(n);
  for (let i = 0; i < n; i++) {
    if (rows[i]!.length !== n) throw new Error(`fromRows: row ${i} has ${rows[i]!.length} entries, expected ${n}`);
    for (let j = 0; j < n; j++) m.data[i * n + j] = rows[i]![j]!;
  }
  return m;
}

export function toRows(m: SymMatrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.n; i++) out.push(Array.from(m.data.subarray(i * m.n, (i + 1) * m.n)));
  return out;
}

export interface Cholesky {
  n: number;
  /** Lower triangle holds the unit-diagonal factor F, the diagonal holds D (0 for a singular pivot). */
  factor: Float64Array;
  rank: number;
  singular: boolean[];
  /** False when a pivot was clearly negative: the matrix is not positive semi-definite. */
  nonNegative: boolean;
}

/** LDL' decomposition as survival's cholesky2: uses the upper triangle of `a`. */
export function cholesky(a: SymMatrix, toler = TOLER_CHOL): Cholesky {
  const n = a.n;
  const m = new Float64Array(a.data);
  let eps = 0;
  for (let i = 0; i < n; i++) {
    if (m[i * n + i]! > eps) eps = m[i * n + i]!;
    for (let j = i + 1; j < n; j++) m[j * n + i] = m[i * n + j]!;
  }
  eps = eps === 0 ? toler : eps * toler;
  let rank = 0;
  let nonNegative = true;
  const singular: boolean[] = new Array(n).fill(false);
  for (let i = 0; i < n; i++) {
    const pivot = m[i * n + i]!;
    if (!Number.isFinite(pivot) || pivot < eps) {
      m[i * n + i] = 0;
      singular[i] = true;
      if (pivot < -8 * eps) nonNegative = false;
    } else {
      rank++;
      for (let j = i + 1; j < n; j++) {
        const temp = m[j * n + i]! / pivot;
        m[j * n + i] = temp;
        m[j * n + j] -= temp * temp * pivot;
        for (let k = j + 1; k < n; k++) m[k * n + j] -= temp * m[k * n + i]!;
      }
    }
  }
  return { n, factor: m, rank, singular, nonNegative };
}

/** Solves A x = y (chsolve2); components along singular pivots are set to 0. */
export function cholSolve(chol: Cholesky, y: ArrayLike<number>): Float64Array {
  const { n, factor: m } = chol;
  const x = Float64Array.from(y as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    let temp = x[i]!;
    for (let j = 0; j < i; j++) temp -= x[j]! * m[i * n + j]!;
    x[i] = temp;
  }
  for (let i = n - 1; i >= 0; i--) {
    if (m[i * n + i] === 0) x[i] = 0;
    else {
      let temp = x[i]! / m[i * n + i]!;
      for (let j = i + 1; j < n; j++) temp -= x[j]! * m[j * n + i]!;
      x[i] = temp;
    }
  }
  return x;
}

/** The (generalised) inverse from the factor (chinv2), returned as a full symmetric matrix. */
export function cholInverse(chol: Cholesky): SymMatrix {
  const n = chol.n;
  const m = new Float64Array(chol.factor);
  for (let i = 0; i < n; i++) {
    if (m[i * n + i]! > 0) {
      m[i * n + i] = 1 / m[i * n + i]!;
      for (let j = i + 1; j < n; j++) {
        m[j * n + i] = -m[j * n + i]!;
        for (let k = 0; k < i; k++) m[j * n + k] += m[j * n + i]! * m[i * n + k]!;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (m[i * n + i] === 0) {
      for (let j = 0; j < i; j++) m[j * n + i] = 0;
      for (let j = i; j < n; j++) m[i * n + j] = 0;
    } else {
      for (let j = i + 1; j < n; j++) {
        const temp = m[j * n + i]! * m[j * n + j]!;
        m[i * n + j] = temp;
        for (let k = i; k < j; k++) m[i * n + k] += temp * m[j * n + k]!;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i]!;
  return { n, data: m };
}

export function symInverse(a: SymMatrix, toler = TOLER_CHOL): SymMatrix {
  return cholInverse(cholesky(a, toler));
}

export function symSolve(a: SymMatrix, y: ArrayLike<number>, toler = TOLER_CHOL): Float64Array {
  return cholSolve(cholesky(a, toler), y);
}

export function matVec(a: SymMatrix, x: ArrayLike<number>): Float64Array {
  const n = a.n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a.data[i * n + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

export function quadForm(a: SymMatrix, x: ArrayLike<number>): number {
  const ax = matVec(a, x);
  let s = 0;
  for (let i = 0; i < a.n; i++) s += x[i]! * ax[i]!;
  return s;
}
