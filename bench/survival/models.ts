/**
 * Survival models (Cox, Kaplan-Meier, log-rank, concordance) on a cohort the size of the paper's IAT cohort
 * (1749 patients, times in half months so ties occur), against R's survival package on the same CSV in the same
 * run: per-call CPU time (user + system, both sides), median of 3 batches of >= 0.2 s each (the oracle's
 * bench_primitives.R rule). Results go in
 * BENCHMARKS.md, "Statistics". td-AUC, Brier/IBS, ROC/DeLong, maxstat and the bootstrap are timed by their own
 * scripts in bench/survival/.
 *
 *   node dist/bench/survival/models.js [--n 1749] [--seed 1] [--no-r]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../../src/util/rng.js';
import { formatCsv, readCsv } from '../../src/util/csv.js';
import { groupOf, parseFormula, prepare } from '../../src/survival/data.js';
import { coxBaseline, coxDataFromFrame, coxSurvfit, curveAt, fitCox } from '../../src/survival/cox.js';
import { kaplanMeier } from '../../src/survival/km.js';
import { survdiff } from '../../src/survival/logrank.js';
import { concordanceFit } from '../../src/survival/concordance.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '1749' }, seed: { type: 'string', default: '1' }, 'no-r': { type: 'boolean', default: false } } });
const n = Number(values.n);

/** A TACE/HAIC-like cohort: exponential survival in months, uniform censoring, times rounded up to 0.5. */
function cohort(): string {
  const rng = Rng.stream(Number(values.seed), 'bench-survival');
  const rows = [];
  for (let i = 0; i < n; i++) {
    const bclc = ['A', 'B', 'C'][rng.int(3)]!;
    const trt = rng.bernoulli(0.5) ? 'HAIC' : 'TACE';
    const dl = rng.uniform();
    const afp = rng.normal(2, 1);
    const lp = 1.5 * dl + (bclc === 'B' ? 0.5 : bclc === 'C' ? 1 : 0) + 0.2 * afp - 0.3 * (trt === 'HAIC' ? 1 : 0);
    const t = -Math.log(1 - rng.uniform()) / (0.02 * Math.exp(lp));
    const c = 6 + 54 * rng.uniform();
    rows.push({ time: Math.max(0.5, Math.ceil(Math.min(t, c) * 2) / 2), status: t <= c ? 1 : 0, dl_score: dl, bclc, afp_log10: afp, trt });
  }
  return formatCsv(['time', 'status', 'dl_score', 'bclc', 'afp_log10', 'trt'], rows);
}

/** CPU seconds (user + system) per call: wall time is meaningless on a shared, loaded machine. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function perCall(f: () => unknown): number {
  let k = 1;
  for (;;) {
    const t0 = cpuSeconds();
    for (let i = 0; i < k; i++) f();
    if (cpuSeconds() - t0 >= 0.2 || k >= 4096) break;
    k *= 2;
  }
  const batches = [0, 1, 2].map(() => {
    const t0 = cpuSeconds();
    for (let i = 0; i < k; i++) f();
    return (cpuSeconds() - t0) / k;
  });
  return batches.sort((a, b) => a - b)[1]!;
}

const dir = mkdtempSync(join(tmpdir(), 'hcc-bench-surv-'));
const csv = join(dir, 'cohort.csv');
writeFileSync(csv, cohort());
const table = readCsv(csv);
const frame = prepare(table, {}, { columns: ['dl_score', 'bclc', 'afp_log10', 'trt'] });
const full = coxDataFromFrame(frame, parseFormula('dl_score + bclc + afp_log10 + trt')).data;
const strat = coxDataFromFrame(frame, parseFormula('dl_score + afp_log10 + trt'), 'bclc').data;
const trt = groupOf(frame, 'trt');
const bclc = groupOf(frame, 'bclc');
const dl = Float64Array.from(frame.index, (i) => Number(table.rows[i]![table.columns.indexOf('dl_score')]));

const work: Record<string, () => unknown> = {
  cox_efron: () => fitCox(full),
  cox_breslow: () => fitCox(full, { ties: 'breslow' }),
  cox_strata: () => fitCox(strat),
  cox_survfit_100rows: () => {
    const fit = fitCox(full);
    const base = coxBaseline(fit, full);
    for (let i = 0; i < 100; i++) curveAt(coxSurvfit(fit, base, full.columns.map((c) => c[i]!)), [12, 24, 36]);
  },
  km_trt: () => [0, 1].map((g) => {
    const idx = Array.from(trt.codes.keys()).filter((i) => trt.codes[i] === g);
    return kaplanMeier(idx.map((i) => frame.time[i]!), idx.map((i) => frame.event[i]!));
  }),
  logrank_bclc: () => survdiff(frame.time, frame.event, bclc.codes, 3),
  logrank_trt_strata: () => survdiff(frame.time, frame.event, trt.codes, 2, { strata: bclc.codes }),
  harrell_c: () => concordanceFit(frame.time, frame.event, dl, { reverse: true }),
  uno_c_tau36: () => concordanceFit(frame.time, frame.event, dl, { reverse: true, timewt: 'n/G2', ymax: 36 }),
};
// Warm-up: the JIT's compile threads count as CPU time, so compile everything before measuring.
for (const f of Object.values(work)) for (let i = 0; i < 30; i++) f();
const ours: Record<string, number> = Object.fromEntries(Object.entries(work).map(([k, f]) => [k, perCall(f)]));

let r: Record<string, number> | undefined;
if (!values['no-r']) {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'survival', 'models.R');
  r = JSON.parse(execFileSync('Rscript', [script, csv], { encoding: 'utf8' })) as Record<string, number>;
}
rmSync(dir, { recursive: true, force: true });

const ms = (s: number) => (s * 1000).toFixed(3).padStart(9);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, n = ${n}, events = ${frame.event.reduce((a, b) => a + b, 0)}`);
console.log(`${'primitive'.padEnd(22)} ${'ours ms'.padStart(9)} ${r ? 'R ms'.padStart(9) + '  R/ours' : ''}`);
for (const [k, v] of Object.entries(ours)) {
  console.log(`${k.padEnd(22)} ${ms(v)} ${r ? ms(r[k]!) + '  ' + (r[k]! / v).toFixed(1).padStart(6) : ''}`);
}
