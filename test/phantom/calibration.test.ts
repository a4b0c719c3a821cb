import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { blockRng, drawPhenotype } from '../../src/phantom/clinical.js';
import { generatePatient, type GeneratedPatient } from '../../src/phantom/cohort.js';
import { COHORT_MODEL } from '../../src/phantom/model.js';
import { binaryReads } from '../../src/phantom/patient.js';
import { fixture } from '../helpers.js';
import { fitCox } from '../../src/survival/cox.js';
import { kaplanMeier, kmConfInt, kmMedian } from '../../src/survival/km.js';
import { fitLogistic, predictLogistic } from '../../src/survival/logistic.js';
import { auc } from './estimators.js';

/**
 * The acceptance tests of clinical-model.md §6.9, on large seeded cohorts, against the §2 table and the numpy
 * reference generator's numbers (test/fixtures/phantom/reference.json, made by make_reference.py beside it).
 * Both implementations draw from the same model with different random streams, so they agree within
 * Monte-Carlo error; the tolerances are §6.9's.
 */
const reference = JSON.parse(readFileSync(fixture('phantom', 'reference.json'), 'utf8')) as Record<string, any>;
const SEED = 20250;

function cohort(kind: 'resection' | 'iat', n: number): GeneratedPatient[] {
  return Array.from({ length: n }, (_, i) => generatePatient(kind, SEED, i));
}
const column = (rows: GeneratedPatient[], f: (g: GeneratedPatient) => number) => Float64Array.from(rows, f);

/** Linear predictor of a logistic regression of y on the given columns (src/survival/logistic.ts, as R's glm). */
function logisticScores(columns: Float64Array[], y: ArrayLike<number>): Float64Array {
  const rows = Array.from({ length: y.length }, (_, i) => columns.map((c) => c[i]!));
  return predictLogistic(fitLogistic(rows, y), rows);
}

test('§6.9.1 feature prevalence given P is within ±0.01 of the §2 table (n = 10^5)', (t) => {
  const table = { p1: [0.45, 0.6, 0.65, 0.65, 0.55, 0.4, 0.18, 0.25], p0: [0.12, 0.25, 0.35, 0.4, 0.3, 0.2, 0.05, 0.06] };
  const count = { p1: new Array(8).fill(0), p0: new Array(8).fill(0) };
  const n = { p1: 0, p0: 0 };
  for (let i = 0; i < 100_000; i++) {
    // The generator's own phenotype stream for patient i (generatePatient draws exactly this block).
    const ph = drawPhenotype(blockRng(SEED, 'resection', i, 'phenotype'), COHORT_MODEL.prevalence.resection);
    const key = ph.P === 1 ? 'p1' : 'p0';
    n[key]++;
    binaryReads(ph.x).forEach((b, k) => (count[key][k] += Number(b)));
  }
  assert.ok(Math.abs(n.p1 / 100_000 - 0.37) < 0.005, `P prevalence ${n.p1 / 100_000}`);
  let worst = 0;
  for (const key of ['p1', 'p0'] as const) {
    count[key].forEach((c, k) => {
      const observed = c / n[key];
      worst = Math.max(worst, Math.abs(observed - table[key][k]!));
      assert.ok(Math.abs(observed - table[key][k]!) <= 0.01, `feature ${k + 1} given ${key}: ${observed} vs ${table[key][k]}`);
    });
  }
  t.diagnostic(`largest deviation from the §2 table ${worst.toFixed(4)}`);
});

test('§6.9.2 resection oracle AUC 0.85 ± 0.01, binary reads + size 0.82 ± 0.01, label noise 5%', (t) => {
  const rows = cohort('resection', 20_000);
  const P = column(rows, (g) => g.record.truth.P);
  const logD = column(rows, (g) => Math.log(g.record.clinical.tumour_diameter_cm));
  const multiple = column(rows, (g) => Number(g.record.clinical.tumour_count > 1));
  const x = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => column(rows, (g) => g.record.truth.x[k]!));
  const reads = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => column(rows, (g) => Number(binaryReads(g.record.truth.x)[k])));
  const oracle = auc(logisticScores([...x, logD, multiple], P), P);
  const binary = auc(logisticScores([...reads, logD, multiple], P), P);
  t.diagnostic(`oracle ${oracle.toFixed(4)}, binary + size ${binary.toFixed(4)}`);
  assert.ok(Math.abs(oracle - 0.85) <= 0.01 && Math.abs(oracle - reference.oracle_auc) <= 0.01, `oracle AUC ${oracle}`);
  assert.ok(Math.abs(binary - 0.82) <= 0.01 && Math.abs(binary - reference.binary_size_auc) <= 0.01, `binary + size AUC ${binary}`);
  const observed = column(rows, (g) => g.record.clinical.proliferative!);
  const flipped = observed.reduce((s, v, i) => s + Number(v !== P[i]), 0) / rows.length;
  assert.ok(Math.abs(flipped - 0.05) < 0.005, `label flips ${flipped}`);
  const noisy = auc(logisticScores([...x, logD, multiple], P), observed);
  t.diagnostic(`label flips ${flipped.toFixed(4)}, oracle vs observed label ${noisy.toFixed(4)}`);
  assert.ok(Math.abs(noisy - 0.811) <= 0.01, `oracle AUC against the observed label ${noisy} (§6.6: 0.811)`);
});

test('§6.8/§6.9.3 IAT cohort: prevalences, median OS within ±1 month, HRs within ±0.03 and oracle td-AUC within ±0.01 of the reference', (t) => {
  const rows = cohort('iat', 100_000);
  const n = rows.length;
  const frac = (f: (g: GeneratedPatient) => boolean) => rows.reduce((s, g) => s + Number(f(g)), 0) / n;
  const c = (g: GeneratedPatient) => g.record.clinical;
  const fractions: Array<[string, number, number]> = [
    ['HAIC', frac((g) => c(g).treatment === 'HAIC'), reference.haic_fraction],
    ['events', frac((g) => c(g).os_event === 1), reference.event_fraction],
    ['PVTT', frac((g) => c(g).pvtt === 1), reference.pvtt],
    ['EHS', frac((g) => c(g).ehs === 1), reference.ehs],
    ['solitary', frac((g) => c(g).tumour_count === 1), reference.solitary],
    ['AFP > 400', frac((g) => c(g).afp_ng_ml > 400), reference.afp_over_400],
    ['ALBI grade 1', frac((g) => g.stages.albi_grade === 1), reference.albi_grade1],
    ['Child-Pugh A', frac((g) => g.stages.child_pugh_class === 'A'), reference.child_pugh.A],
    ['Child-Pugh B', frac((g) => g.stages.child_pugh_class === 'B'), reference.child_pugh.B],
    // The reference's simplified BCLC has no 0 or D: its A is our 0 + A, its C our C + D.
    ['BCLC 0/A', frac((g) => g.stages.bclc === '0' || g.stages.bclc === 'A'), reference.bclc_simplified.A],
    ['BCLC B', frac((g) => g.stages.bclc === 'B'), reference.bclc_simplified.B],
    ['BCLC C/D', frac((g) => g.stages.bclc === 'C' || g.stages.bclc === 'D'), reference.bclc_simplified.C],
  ];
  for (const [name, ours, ref] of fractions) t.diagnostic(`${name}: ${ours.toFixed(4)} (reference ${ref.toFixed(4)})`);
  for (const [name, ours, ref] of fractions) assert.ok(Math.abs(ours - ref) <= 0.01, `${name}: ${ours} vs reference ${ref}`);

  const time = column(rows, (g) => c(g).os_months!);
  const event = column(rows, (g) => c(g).os_event!);
  const haic = column(rows, (g) => Number(c(g).treatment === 'HAIC'));
  const eta = column(rows, (g) => g.record.truth.eta);
  const subset = (keep: (g: GeneratedPatient) => boolean) => rows.flatMap((g, i) => (keep(g) ? [i] : []));
  const median = (ix: number[]) => {
    const curve = kaplanMeier(ix.map((i) => time[i]!), ix.map((i) => event[i]!));
    const ci = kmConfInt(curve, 'log');
    return kmMedian(curve, ci.lower, ci.upper).median;
  };
  // HAIC vs TACE adjusted for the true prognostic index, as the reference does (Breslow ties, as its code).
  const hr = (ix: number[]) =>
    fitCox(
      {
        time: ix.map((i) => time[i]!),
        event: ix.map((i) => event[i]!),
        columns: [Float64Array.from(ix, (i) => haic[i]!), Float64Array.from(ix, (i) => eta[i]!)],
        names: ['haic', 'eta'],
      },
      { ties: 'breslow' },
    ).hr[0]!;
  const li = (g: GeneratedPatient) => c(g).tumour_diameter_cm >= 7 && c(g).pvtt === 0 && c(g).ehs === 0;
  const medians: Array<[string, number, number]> = [
    ['all', median(subset(() => true)), reference.median_os],
    ['Li-like TACE', median(subset((g) => li(g) && c(g).treatment === 'TACE')), reference.median_os_li_tace],
    ['Li-like HAIC', median(subset((g) => li(g) && c(g).treatment === 'HAIC')), reference.median_os_li_haic],
    ['PVTT TACE', median(subset((g) => c(g).pvtt === 1 && c(g).treatment === 'TACE')), reference.median_os_pvtt_tace],
    ['PVTT HAIC', median(subset((g) => c(g).pvtt === 1 && c(g).treatment === 'HAIC')), reference.median_os_pvtt_haic],
  ];
  for (const [name, ours, ref] of medians) t.diagnostic(`${name}: ${ours.toFixed(4)} (reference ${ref.toFixed(4)})`);
  for (const [name, ours, ref] of medians) assert.ok(Math.abs(ours - ref) <= 1, `median OS ${name}: ${ours} vs reference ${ref}`);

  const sortedEta = Float64Array.from(eta).sort();
  const cut = (sortedEta[n / 2 - 1]! + sortedEta[n / 2]!) / 2;
  const hrs: Array<[string, number, number]> = [
    ['Li-like', hr(subset(li)), reference.hr_li],
    ['low-risk', hr(subset((g) => g.record.truth.eta <= cut)), reference.hr_low_risk],
    ['high-risk', hr(subset((g) => g.record.truth.eta > cut)), reference.hr_high_risk],
  ];
  // Oracle prognostic td-AUC as the reference computes it (cases: event by τ; controls: still at risk after τ;
  // no censoring weights), on the true linear predictor including the received treatment's effect.
  const lp = Float64Array.from(rows, (g) => g.record.truth.eta + (c(g).treatment === 'HAIC' ? g.logHrHaic! : 0));
  const tdAuc = [12, 24, 36].map((tau): [string, number, number] => {
    const ix = subset((g) => (c(g).os_months! <= tau && c(g).os_event === 1) || c(g).os_months! > tau);
    return [`oracle td-AUC ${tau} months`, auc(ix.map((i) => lp[i]!), ix.map((i) => Number(time[i]! <= tau))), reference.oracle_tdauc[String(tau)]];
  });
  for (const [name, ours, ref] of [...hrs, ...tdAuc]) t.diagnostic(`${name}: ${ours.toFixed(4)} (reference ${ref.toFixed(4)})`);
  for (const [name, ours, ref] of hrs) assert.ok(Math.abs(ours - ref) <= 0.03, `HR ${name}: ${ours} vs reference ${ref}`);
  for (const [name, ours, ref] of tdAuc) assert.ok(Math.abs(ours - ref) <= 0.01, `${name}: ${ours} vs reference ${ref}`);
});
