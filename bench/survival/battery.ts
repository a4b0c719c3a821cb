/**
 * The full evaluation battery of the study on a cohort the size of the paper's IAT cohort (1749 patients, times
 * in half months so ties occur): Cox fits (nomogram and staging), predicted risks at 12/24/36 months, td-AUC and
 * Brier with influence-function SE and contrasts (riskRegression::Score), pec's IBS to 36 months, Uno's C, 1000
 * bootstrap replicates of td-AUC at three times, DeLong's paired test, and maxstat (Lau94). The same steps run in
 * R (bench/survival/battery.R) on the same CSV in the same run; each step's CPU time (user + system) is compared,
 * and so are the numbers (to 1e-6; bootstrap CIs within Monte-Carlo error). Ours: median of 3 runs; R: 1 run.
 *
 *   node dist/bench/survival/battery.js [--n 1749] [--seed 1] [--boot 1000] [--workers 1] [--no-r]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../../src/util/rng.js';
import { formatCsv, readCsv } from '../../src/util/csv.js';
import { frameVariable, prepare } from '../../src/survival/data.js';
import { concordanceFit } from '../../src/survival/concordance.js';
import { bootstrap, percentileCi } from '../../src/survival/bootstrap.js';
import { statistic } from '../../src/survival/bootstrap-statistics.js';
import { ipcwSample } from '../../src/survival/ipcw.js';
import { maxstatTest, pLausen94 } from '../../src/survival/maxstat.js';
import { aucDelong, delongPaired, splitByOutcome } from '../../src/survival/roc.js';
import { pecCurves, scoreAuc, scoreBrier, type ScoreModel } from '../../src/survival/score.js';
import { coxRiskAt, fitCoxModel } from '../../src/survival/tasks/models.js';

const { values: args } = parseArgs({
  options: { n: { type: 'string', default: '1749' }, seed: { type: 'string', default: '1' }, boot: { type: 'string', default: '1000' }, workers: { type: 'string', default: '1' }, 'no-r': { type: 'boolean', default: false } },
});
const n = Number(args.n);
const B = Number(args.boot);
const times = [12, 24, 36];

/** A TACE/HAIC-like cohort: a latent tumour biology drives the imaging score and the hazard. */
function cohortCsv(): string {
  const rng = Rng.stream(Number(args.seed), 'bench-battery');
  const rows = Array.from({ length: n }, () => {
    const u = rng.uniform();
    const bclc = u < 0.3 ? 'A' : u < 0.75 ? 'B' : 'C';
    const latent = rng.normal();
    const afp = Math.round(rng.normal(2 + 0.4 * (bclc === 'C' ? 1 : 0), 1) * 100) / 100;
    const dl = Math.round(1e4 / (1 + Math.exp(-(0.9 * latent + 0.3 * (bclc === 'C' ? 1 : 0) - 0.2)))) / 1e4;
    const lp = 0.9 * latent + (bclc === 'B' ? 0.5 : bclc === 'C' ? 1 : 0) + 0.15 * afp;
    const t = -Math.log(1 - rng.uniform()) / (0.025 * Math.exp(lp));
    const c = Math.min(48, 6 + 54 * rng.uniform());
    return { time: Math.ceil(Math.min(t, c) * 2) / 2, status: t <= c ? 1 : 0, dl_score: dl, bclc, afp_log10: afp };
  });
  return formatCsv(['time', 'status', 'dl_score', 'bclc', 'afp_log10'], rows);
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function battery(csv: string) {
  const cpu: Record<string, number> = {};
  const values: Record<string, unknown> = {};
  const step = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = cpuSeconds();
    const v = await f();
    cpu[name] = cpuSeconds() - t0;
    return v;
  };
  const frame = prepare(readCsv(csv), {}, { columns: ['dl_score', 'bclc', 'afp_log10'] });
  const dl = (frameVariable(frame, 'dl_score') as { values: Float64Array }).values;
  const fits = await step('cox', () => ({ nomogram: fitCoxModel(frame, 'dl_score + bclc + afp_log10', 'efron'), staging: fitCoxModel(frame, 'bclc', 'efron') }));
  values['cox_coef'] = fits.nomogram.fit.coef;
  const risks = await step('predict', () => Object.fromEntries(Object.entries(fits).map(([k, f]) => [k, times.map((t) => coxRiskAt(f, t))])));
  const models: ScoreModel[] = Object.keys(fits).map((name) => ({ name, kind: 'risk', at: (t) => risks[name]![times.indexOf(t)]! }));
  await step('score_auc_brier', () => {
    const sample = ipcwSample(frame.time, frame.event);
    const a = scoreAuc(frame.time, frame.event, models, { times }, sample);
    const b = scoreBrier(frame.time, frame.event, models, { times }, sample);
    values['auc'] = a.auc['AUC'];
    values['auc_se'] = a.auc['se'];
    values['auc_contrast_p'] = a.contrasts!['p'];
    values['brier'] = b.brier['Brier'];
    values['brier_se'] = b.brier['se'];
  });
  const coxModels: ScoreModel[] = Object.keys(fits).map((name) => ({ name, kind: 'risk', at: (t) => coxRiskAt(fits[name as 'nomogram']!, t) }));
  await step('pec_ibs36', () => {
    const p = pecCurves(frame.time, frame.event, coxModels, [36]);
    values['ibs36'] = Object.values(p.ibs).map((v) => v[0]);
  });
  await step('uno_c', () => {
    const lp = fits.nomogram.relRisk.map((r) => Math.log(r));
    const c = concordanceFit(frame.time, frame.event, lp, { reverse: true, timewt: 'n/G2', ymax: 36 });
    values['uno_c'] = c.c;
    values['uno_se'] = c.se;
  });
  await step('bootstrap_tdauc', async () => {
    const b = await bootstrap(statistic('timeDependentAuc'), { time: frame.time, event: frame.event, markers: [dl], times }, frame.time.length, { replicates: B, seed: 1, workers: Number(args.workers) });
    values['boot_ci'] = times.map((_, k) => percentileCi(b.replicates, k));
  });
  await step('delong', () => {
    const keep: number[] = [];
    frame.time.forEach((t, i) => ((t <= 24 && frame.event[i] === 1) || t > 24) && keep.push(i));
    const y = keep.map((i) => (frame.time[i]! <= 24 && frame.event[i] === 1 ? 1 : 0));
    const a = splitByOutcome(keep.map((i) => dl[i]!), y);
    const r = splitByOutcome(keep.map((i) => risks['nomogram']![1]![i]!), y);
    const t = delongPaired(aucDelong(a.cases, a.controls), aucDelong(r.cases, r.controls));
    values['delong_z'] = t.z;
    values['delong_p'] = t.p;
  });
  await step('maxstat_lau94', () => {
    const m = maxstatTest(frame.time, frame.event, dl);
    values['maxstat'] = [m.statistic, m.cutpoint, pLausen94(m.statistic, m.n, m.m)];
  });
  return { cpu, values };
}

function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : ArrayBuffer.isView(x) ? Array.from(x as Float64Array) : typeof x === 'number' ? [x] : [];
}

const dir = mkdtempSync(join(tmpdir(), 'hcc-bench-battery-'));
try {
  const csv = join(dir, 'cohort.csv');
  writeFileSync(csv, cohortCsv());
  const runs: Awaited<ReturnType<typeof battery>>[] = [];
  for (let r = 0; r < 3; r++) runs.push(await battery(csv));
  const steps = Object.keys(runs[0]!.cpu);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  const ours: Record<string, number> = Object.fromEntries(steps.map((s) => [s, median(runs.map((r) => r.cpu[s]!))]));
  const oursTotal = median(runs.map((r) => Object.values(r.cpu).reduce((a, b) => a + b, 0)));
  let R: { cpu: Record<string, number>; values: Record<string, unknown> } | undefined;
  if (!args['no-r']) {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'survival', 'battery.R');
    R = JSON.parse(execFileSync('Rscript', [script, csv, String(B)], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  }
  console.log(`battery on n = ${n} (seed ${args.seed}), ${B} bootstrap replicates, ${args.workers} worker(s); CPU seconds`);
  console.log('| step | hcc-iat s | R s | R / ours |');
  console.log('|---|---|---|---|');
  for (const s of steps) console.log(`| ${s} | ${ours[s]!.toFixed(4)} | ${R ? R.cpu[s]!.toFixed(3) : '-'} | ${R ? (R.cpu[s]! / ours[s]!).toFixed(1) : '-'} |`);
  const rTotal = R ? Object.values(R.cpu).reduce((a, b) => a + b, 0) : NaN;
  console.log(`| total | ${oursTotal.toFixed(3)} | ${R ? rTotal.toFixed(2) : '-'} | ${R ? (rTotal / oursTotal).toFixed(1) : '-'} |`);
  if (R) {
    for (const [k, v] of Object.entries(R.values)) {
      const a = flat(runs[0]!.values[k]);
      const e = flat(v);
      const worst = Math.max(...e.map((x, i) => Math.abs(a[i]! - x) / Math.max(Math.abs(x), 1e-300)));
      console.log(`${k}: max relative difference ${worst.toExponential(2)}${k === 'boot_ci' ? ' (Monte-Carlo: different random streams)' : ''}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
