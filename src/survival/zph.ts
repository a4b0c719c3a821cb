/**
 * Proportional-hazards test as survival::cox.zph (zph1.c): score test of beta(t) = beta + theta * g(t) with the
 * Kaplan-Meier time transform (g = 1 - S(t-), centred over the events), per term and GLOBAL.
 *
 * Exports:
 * - `coxZph(fit, data, design)` -> {transform: 'km', term, chisq, df, p} (the oracle's `cox_zph` block).
 */
import { cholesky, cholSolve, symMatrix } from './linalg.js';
import { pchisqUpper } from './distributions.js';
import { kaplanMeier } from './km.js';
import type { CoxData, CoxFit } from './cox.js';
import type { Design } from './data.js';

export interface ZphTable {
  transform: 'km';
  term: string[];
  chisq: number[];
  df: number[];
  p: number[];
}

export function coxZph(fit: CoxFit, data: CoxData, design: Design): ZphTable {
  const keepCols = fit.coef.map((c, j) => (Number.isNaN(c) ? -1 : j)).filter((j) => j >= 0);
  const nvar = keepCols.length;
  const n = data.time.length;
  const beta = keepCols.map((j) => fit.coef[j]!);
  const X = keepCols.map((j) => {
    const col = data.columns[j]!;
    let m = 0;
    for (let i = 0; i < n; i++) m += col[i]!;
    m /= n;
    return col.map((x) => x - m);
  });
  const lp = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < nvar; k++) lp[i] += beta[k]! * X[k]![i]!;
  let lpMean = 0;
  for (let i = 0; i < n; i++) lpMean += lp[i]!;
  lpMean /= n;
  const eta = lp.map((v) => v - lpMean);
  const w = (i: number) => (data.weights ? data.weights[i]! : 1);
  // g(t) = 1 - S(t-) from the pooled Kaplan-Meier, centred over the events.
  const km = kaplanMeier(data.time, data.event);
  const gOf = (t: number) => {
    let k = -1;
    for (let i = 0; i < km.time.length && km.time[i]! < t; i++) k = i;
    return 1 - (k < 0 ? 1 : km.surv[k]!);
  };
  const tt = Float64Array.from(data.time, gOf);
  let gm = 0;
  let ne = 0;
  for (let i = 0; i < n; i++) if (data.event[i] === 1) {
    gm += tt[i]!;
    ne++;
  }
  gm /= ne;
  const gt = tt.map((v) => v - gm);
  const strata = data.strata;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (strata ? strata[a]! - strata[b]! : 0) || data.time[a]! - data.time[b]! || a - b);
  const p2 = 2 * nvar;
  const u = new Float64Array(p2);
  const imat = Array.from({ length: p2 }, () => new Float64Array(p2));
  const a = new Float64Array(nvar);
  const a2 = new Float64Array(nvar);
  const cmat = Array.from({ length: nvar }, () => new Float64Array(nvar));
  const cmat2 = Array.from({ length: nvar }, () => new Float64Array(nvar));
  const efron = fit.ties === 'efron';
  let cstrat = -1;
  let denom = 0;
  for (let ip = n - 1; ip >= 0; ) {
    let person = order[ip]!;
    const s = strata ? strata[person]! : 0;
    if (s !== cstrat) {
      cstrat = s;
      denom = 0;
      a.fill(0);
      cmat.forEach((r) => r.fill(0));
    }
    const dtime = data.time[person]!;
    const timewt = gt[person]!;
    let ndead = 0;
    let deadwt = 0;
    let denom2 = 0;
    for (; ip >= 0; ip--) {
      person = order[ip]!;
      if (data.time[person] !== dtime || (strata ? strata[person]! : 0) !== cstrat) break;
      const risk = Math.exp(eta[person]!) * w(person);
      if (data.event[person] === 0) {
        denom += risk;
        for (let i = 0; i < nvar; i++) {
          a[i] += risk * X[i]![person]!;
          for (let j = 0; j <= i; j++) cmat[i]![j] += risk * X[i]![person]! * X[j]![person]!;
        }
      } else {
        ndead++;
        deadwt += w(person);
        denom2 += risk;
        for (let i = 0; i < nvar; i++) {
          u[i] += w(person) * X[i]![person]!;
          u[i + nvar] += timewt * w(person) * X[i]![person]!;
          a2[i] += risk * X[i]![person]!;
          for (let j = 0; j <= i; j++) cmat2[i]![j] += risk * X[i]![person]! * X[j]![person]!;
        }
      }
    }
    if (ndead === 0) continue;
    const steps = efron ? ndead : 1;
    const wtave = efron ? deadwt / ndead : deadwt;
    for (let k = 0; k < steps; k++) {
      denom += efron ? denom2 / ndead : denom2;
      for (let i = 0; i < nvar; i++) {
        a[i] += efron ? a2[i]! / ndead : a2[i]!;
        const temp2 = a[i]! / denom;
        u[i] -= wtave * temp2;
        u[i + nvar] -= timewt * wtave * temp2;
        for (let j = 0; j <= i; j++) {
          cmat[i]![j] += efron ? cmat2[i]![j]! / ndead : cmat2[i]![j]!;
          const temp = (wtave * (cmat[i]![j]! - temp2 * a[j]!)) / denom;
          imat[j]![i] += temp;
          imat[j]![i + nvar] += temp * timewt;
          imat[j + nvar]![i + nvar] += temp * timewt * timewt;
        }
      }
    }
    a2.fill(0);
    cmat2.forEach((r) => r.fill(0));
  }
  for (let i = 0; i < nvar; i++) {
    for (let j = 0; j < i; j++) {
      imat[i]![j] = imat[j]![i]!;
      imat[i]![j + nvar] = imat[j]![i + nvar]!;
      imat[i + nvar]![j + nvar] = imat[j + nvar]![i + nvar]!;
    }
  }
  for (let i = 0; i < nvar; i++) for (let j = 0; j < nvar; j++) imat[i + nvar]![j] = imat[j]![i + nvar]!;
  const test = (cols: number[]): number => {
    const kk = [...Array.from({ length: nvar }, (_, i) => i), ...cols.map((c) => c + nvar)];
    const m = symMatrix(kk.length);
    kk.forEach((r, i) => kk.forEach((c, j) => (m.data[i * kk.length + j] = imat[r]![c]!)));
    const uu = kk.map((r, i) => (i < nvar ? 0 : u[r]!));
    const x = cholSolve(cholesky(m, 0), uu);
    return uu.reduce((s, v, i) => s + v * x[i]!, 0);
  };
  const termIdx = [...new Set(keepCols.map((j) => design.assign[j]!))];
  const out: ZphTable = { transform: 'km', term: [], chisq: [], df: [], p: [] };
  for (const t of termIdx) {
    const cols = keepCols.map((j, k) => (design.assign[j] === t ? k : -1)).filter((k) => k >= 0);
    const chi = test(cols);
    out.term.push(design.terms[t]!.label);
    out.chisq.push(chi);
    out.df.push(cols.length);
    out.p.push(pchisqUpper(chi, cols.length));
  }
  const all = Array.from({ length: nvar }, (_, i) => i);
  const g = test(all);
  out.term.push('GLOBAL');
  out.chisq.push(g);
  out.df.push(nvar);
  out.p.push(pchisqUpper(g, nvar));
  return out;
}
