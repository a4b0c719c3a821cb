/**
 * Properties and hand-checked values of the evaluation metrics (the R comparisons are in metrics-fixtures.test.ts):
 * invariance of rank statistics to row order, time units and monotone transforms of the score; bootstrap
 * reproducibility whatever the worker count; threshold summaries checked by counting; maxstat's exactGauss
 * against the deterministic Miwa value; clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../helpers.js';
import { readCsv } from '../../src/util/csv.js';
import { Rng } from '../../src/util/rng.js';
import { prepare, frameVariable } from '../../src/survival/data.js';
import { scoreAuc, scoreBrier, type ScoreModel } from '../../src/survival/score.js';
import { aucDelong, atThreshold, rocCurve, splitByOutcome, youden } from '../../src/survival/roc.js';
import { bootstrap, bootstrapIndices, bcaCi, jackknife, pairedBootstrapTest, percentileCi } from '../../src/survival/bootstrap.js';
import { statistic } from '../../src/survival/bootstrap-statistics.js';
import { maxstatTest, pExactGauss, pLausen94 } from '../../src/survival/maxstat.js';
import { groupedCalibration, netBenefit, smoothedCalibration } from '../../src/survival/calibration.js';
import { readFileSync } from 'node:fs';
import { runTask } from '../../src/survival/tasks/index.js';

function simIat() {
  const table = readCsv(fixture('survival', 'sim_iat.csv'));
  const frame = prepare(table, {}, { columns: ['dl_score', 'staging_lp', 'prolif', 'risk_12', 'risk_24', 'risk_36'] });
  const num = (c: string) => (frameVariable(frame, c) as { values: Float64Array }).values;
  return { time: frame.time, event: frame.event, dl: num('dl_score'), stage: num('staging_lp'), prolif: num('prolif'), risk: [num('risk_12'), num('risk_24'), num('risk_36')] };
}

const marker = (name: string, x: ArrayLike<number>): ScoreModel => ({ name, kind: 'marker', at: () => x });
const close = (a: number, b: number, rel = 1e-12) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

test('td-AUC and its SE do not depend on row order, time units or a monotone transform of the marker', () => {
  const d = simIat();
  const times = [12, 24, 36];
  const base = scoreAuc(d.time, d.event, [marker('dl', d.dl)], { times }).auc;
  const perm = Rng.stream(5, 'perm').shuffle(Array.from({ length: d.time.length }, (_, i) => i));
  const p = (x: ArrayLike<number>) => Float64Array.from(perm, (i) => x[i]!);
  const shuffled = scoreAuc(p(d.time), p(d.event), [marker('dl', p(d.dl))], { times }).auc;
  const days = scoreAuc(d.time.map((t) => t * 30.4375), d.event, [marker('dl', d.dl)], { times: times.map((t) => t * 30.4375) }).auc;
  const logit = scoreAuc(d.time, d.event, [marker('dl', d.dl.map((x) => Math.log(x / (1 - x)) * 3 + 7))], { times }).auc;
  for (const other of [shuffled, days, logit]) {
    (base['AUC'] as number[]).forEach((v, k) => assert.ok(close((other['AUC'] as number[])[k]!, v), `AUC ${k}`));
    (base['se'] as number[]).forEach((v, k) => assert.ok(close((other['se'] as number[])[k]!, v, 1e-9), `se ${k}`));
  }
});

test('Brier score is row-order and time-unit invariant; the true risks beat the Kaplan-Meier null model', () => {
  const d = simIat();
  const times = [12, 24, 36];
  const truth: ScoreModel = { name: 'truth', kind: 'risk', at: (t) => d.risk[times.indexOf(t)]! };
  const b = scoreBrier(d.time, d.event, [truth], { times }).brier;
  const perm = Rng.stream(9, 'perm').shuffle(Array.from({ length: d.time.length }, (_, i) => i));
  const p = (x: ArrayLike<number>) => Float64Array.from(perm, (i) => x[i]!);
  const truthP: ScoreModel = { name: 'truth', kind: 'risk', at: (t) => p(d.risk[times.indexOf(t / 7)]!) };
  const bp = scoreBrier(p(d.time).map((t) => t * 7), p(d.event), [truthP], { times: times.map((t) => t * 7) }).brier;
  (b['Brier'] as number[]).forEach((v, k) => assert.ok(close((bp['Brier'] as number[])[k]!, v), `Brier ${k}`));
  (b['se'] as number[]).forEach((v, k) => assert.ok(close((bp['se'] as number[])[k]!, v, 1e-9), `se ${k}`));
  const ipa = (b['IPA'] as number[]).slice(3);
  assert.ok(ipa.every((x) => x > 0.1), `IPA of the true model: ${ipa.join(', ')}`);
});

test('binary AUC equals the pair count, is invariant to monotone transforms, and flips exactly with the direction', () => {
  const d = simIat();
  const { cases, controls } = splitByOutcome(d.dl, d.prolif);
  let pairs = 0;
  for (const c of cases) for (const k of controls) pairs += c > k ? 1 : c === k ? 0.5 : 0;
  const r = aucDelong(cases, controls, '<');
  assert.ok(close(r.auc, pairs / (cases.length * controls.length)));
  assert.ok(close(aucDelong(cases.map(Math.exp), controls.map(Math.exp)).auc, r.auc));
  assert.ok(close(aucDelong(cases, controls, '>').auc, 1 - r.auc));
  const curve = rocCurve(cases, controls);
  assert.equal(curve.sensitivity[0], 1);
  assert.equal(curve.specificity[curve.specificity.length - 1], 1);
});

test('sensitivity, specificity, PPV and NPV at a threshold agree with counting, and at the Youden cut with the curve', () => {
  const cases = [0.9, 0.8, 0.8, 0.4, 0.3];
  const controls = [0.1, 0.2, 0.4, 0.5, 0.8, 0.05];
  const s = atThreshold(cases, controls, 0.4);
  assert.deepEqual([s.tp, s.fn, s.fp, s.tn], [4, 1, 3, 3]);
  assert.equal(s.ppv, 4 / 7);
  assert.equal(s.npv, 3 / 4);
  const best = youden(rocCurve(cases, controls));
  const at = atThreshold(cases, controls, best.thresholds[0]!);
  assert.equal(at.sensitivity, best.sensitivity[0]);
  assert.equal(at.specificity, best.specificity[0]);
});

test('bootstrap replicates are identical whatever the worker count, stratification keeps stratum sizes', async () => {
  const d = simIat();
  const data = { time: d.time, event: d.event, markers: [d.dl, d.stage], times: [12, 24] };
  const one = await bootstrap(statistic('timeDependentAuc'), data, d.time.length, { replicates: 24, seed: 11, workers: 1 });
  const three = await bootstrap(statistic('timeDependentAuc'), data, d.time.length, { replicates: 24, seed: 11, workers: 3 });
  assert.deepEqual(three.replicates, one.replicates);
  assert.deepEqual(three.estimate, one.estimate);
  const other = await bootstrap(statistic('timeDependentAuc'), data, d.time.length, { replicates: 24, seed: 12 });
  assert.notDeepEqual(other.replicates, one.replicates);
  const strata = Int32Array.from(d.prolif);
  const idx = bootstrapIndices(d.time.length, 3, 0, strata);
  assert.equal(Array.from(idx).filter((i) => strata[i] === 1).length, Array.from(strata).filter((s) => s === 1).length);
  const brierData = { time: d.time, event: d.event, risks: [d.risk], times: [12, 24, 36] };
  const b1 = await bootstrap(statistic('brierScore'), brierData, d.time.length, { replicates: 6, seed: 2, workers: 2 });
  const truth: ScoreModel = { name: 'truth', kind: 'risk', at: (t) => d.risk[[12, 24, 36].indexOf(t)]! };
  const sb = scoreBrier(d.time, d.event, [truth], { times: [12, 24, 36], se: false }).brier['Brier'] as number[];
  b1.estimate.forEach((v, k) => assert.ok(close(v, sb[3 + k]!)));
  // The paired test of dl_score vs the staging score at 24 months (columns 1 and 3).
  const t = pairedBootstrapTest(one.estimate, one.replicates, 1, 3);
  assert.ok(t.difference > 0 && t.p < 0.01, `td-AUC difference ${t.difference}, p ${t.p}`);
});

test('percentile, BCa intervals bracket the estimate; the bootstrap SE is close to DeLong', async () => {
  const d = simIat();
  const y = Uint8Array.from(d.prolif);
  const data = { scores: [d.dl], y, directions: ['<' as const] };
  const b = await bootstrap(statistic('binaryAuc'), data, y.length, { replicates: 400, seed: 3, strata: Int32Array.from(y) });
  const jack = await jackknife(statistic('binaryAuc'), data, y.length);
  const [lo, hi] = percentileCi(b.replicates, 0);
  const [blo, bhi] = bcaCi(b.estimate[0]!, b.replicates, 0, jack);
  const est = b.estimate[0]!;
  assert.ok(lo < est && est < hi && blo < est && est < bhi);
  const reps = b.replicates.map((r) => r[0]!);
  const m = reps.reduce((s, v) => s + v, 0) / reps.length;
  const sd = Math.sqrt(reps.reduce((s, v) => s + (v - m) ** 2, 0) / (reps.length - 1));
  const { cases, controls } = splitByOutcome(d.dl, y);
  const delongSe = Math.sqrt(aucDelong(cases, controls).variance);
  assert.ok(Math.abs(sd / delongSe - 1) < 0.15, `bootstrap sd ${sd} vs DeLong ${delongSe}`);
});

test("maxstat exactGauss agrees with mvtnorm's deterministic Miwa value within its Monte-Carlo error; same seed, same p", () => {
  const table = readCsv(fixture('survival', 'veteran.csv'));
  const frame = prepare(table, {}, { columns: ['karno'] });
  const mt = maxstatTest(frame.time, frame.event, (frameVariable(frame, 'karno') as { values: Float64Array }).values);
  // pmvnorm(algorithm = Miwa(steps = 4096)) on maxstat:::corrmsrs(veteran$karno): 2.038334e-05 (R 4.2.2, mvtnorm 1.1-3).
  const g = pExactGauss(mt.statistic, mt.m, mt.n, { seed: 1 });
  assert.ok(Math.abs(g.p - 2.038334e-5) <= 4 * g.error + 1e-7, `p ${g.p} +- ${g.error}`);
  assert.equal(pExactGauss(mt.statistic, mt.m, mt.n, { seed: 1 }).p, g.p);
});

test('maxstat statistic, cut-point and Lau94 p do not depend on row order or time units', () => {
  const d = simIat();
  const a = maxstatTest(d.time, d.event, d.dl);
  const perm = Rng.stream(2, 'perm').shuffle(Array.from({ length: d.time.length }, (_, i) => i));
  const p = (x: ArrayLike<number>) => Float64Array.from(perm, (i) => x[i]!);
  const b = maxstatTest(p(d.time).map((t) => t * 30), p(d.event), p(d.dl));
  assert.equal(b.cutpoint, a.cutpoint);
  assert.ok(close(b.statistic, a.statistic));
  assert.deepEqual(b.m, a.m);
  assert.ok(close(pLausen94(b.statistic, b.n, b.m), pLausen94(a.statistic, a.n, a.m)));
});

test('calibration groups partition the subjects and net benefit at a tiny threshold approaches treat-all', () => {
  const d = simIat();
  const c = groupedCalibration(d.time, d.event, d.risk[1]!, 24, 10);
  assert.equal(c.table.n.reduce((a, b) => a + b, 0), d.time.length);
  assert.ok(c.table.mean_pred.every((v, k) => k === 0 || v > c.table.mean_pred[k - 1]!));
  const nb = netBenefit(d.time, d.event, d.risk[1]!.map(() => 1), 24, [0.2]);
  assert.ok(close(nb[0]!, 1 - (1 - c.overall_observed) - ((1 - c.overall_observed) * 0.2) / 0.8, 1e-12));
});

test('smoothed calibration (hazard regression on cll with rcs(cll, 3)) matches R to 1e-9', () => {
  const ref = JSON.parse(readFileSync(fixture('survival', 'smooth_calibration.json'), 'utf8')) as { time: number; n: number; grid: number[]; observed: number[]; ici: number; e50: number; e90: number };
  // R's complete cases over every column, then risks below 1.
  const frame = prepare(readCsv(fixture('survival', 'sim_iat.csv')), {}, { columns: ['dl_score', 'afp_log10', 'risk_12'] });
  const risk = (frameVariable(frame, 'risk_12') as { values: Float64Array }).values;
  const keep = [...risk.keys()].filter((i) => risk[i]! < 1);
  assert.equal(keep.length, ref.n);
  const s = smoothedCalibration(keep.map((i) => frame.time[i]!), keep.map((i) => frame.event[i]!), keep.map((i) => risk[i]!), ref.time, ref.grid);
  s.observed.forEach((v, k) => assert.ok(close(v, ref.observed[k]!, 1e-9), `grid ${ref.grid[k]}`));
  for (const key of ['ici', 'e50', 'e90'] as const) assert.ok(close(s[key], ref[key], 1e-9), key);
});

test('metric tasks give clear errors for a missing column, markers where probabilities are needed, bad times', async () => {
  const csv = fixture('survival', 'sim_iat.csv');
  await assert.rejects(runTask('score', csv, { times: '12', marker: 'nope' }), /column\(s\) not found: nope/);
  await assert.rejects(runTask('calibration', csv, { times: '12', marker: 'dl_score' }), /needs probabilities/);
  await assert.rejects(runTask('score', csv, { times: '-3', marker: 'dl_score' }), /--times must be positive/);
  await assert.rejects(runTask('score', csv, { times: '12,24', 'risk-cols': 'risk_12' }), /one column per --times/);
  await assert.rejects(runTask('roc', csv, { score: 'dl_score', outcome: 'bclc' }), /outcome column 'bclc' must be coded 0\/1/);
  await assert.rejects(runTask('maxstat', csv, { score: 'dl_score', pmethod: 'HL' }), /not available/);
  await assert.rejects(runTask('score', csv, { times: '12', marker: 'dl_score', status: 'trt' }), /status column 'trt'/);
  await assert.rejects(runTask('score', csv, { times: '0.25', marker: 'dl_score' }), /no events at or before time 0.25/);
  await assert.rejects(runTask('score', csv, { times: '48', marker: 'dl_score' }), /nobody is followed beyond time 48/);
});

test('score --boot-n: bootstrap IBS estimate is pec IBS, td-AUC estimate is Score AUC, same output for 1 and 2 workers', async () => {
  const csv = fixture('survival', 'sim_iat.csv');
  const opts = { times: '12,36', cox: 'nomogram:dl_score+bclc+afp_log10;staging:bclc', 'boot-n': '20', seed: '4', 'no-se': 'TRUE' };
  const one = (await runTask('score', csv, { ...opts, workers: '1' })).result as Record<string, any>;
  const two = (await runTask('score', csv, { ...opts, workers: '2' })).result as Record<string, any>;
  assert.deepEqual(two['bootstrap'], one['bootstrap']);
  const boot = one['bootstrap'];
  assert.ok(close(boot.ibs.IBS[1], one['pec'].ibs.nomogram[1]));
  (one['auc'].AUC as number[]).forEach((v, k) => assert.ok(close(boot.auc.AUC[k], v)));
  assert.ok(boot.auc_contrasts.p.every((p: number) => p < 0.05));
});
