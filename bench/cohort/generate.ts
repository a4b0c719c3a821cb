/**
 * Synthetic-cohort throughput, median of several runs. Results go in BENCHMARKS.md, "Synthetic cohorts".
 *
 *   node dist/bench/cohort/generate.js [--n 20000] [--runs 5]
 *       clinical data only: patients per second written to cohort.csv + truth.csv (every stage derived, hashed)
 *   node dist/bench/cohort/generate.js --images small --n 20 --runs 1
 *       with CT phantoms on the given grid (rendered and written as .nii.gz), through the worker pool with 1 and
 *       with 2 workers, as `hcc cohort generate --grid small --workers 1|2` does: wall time, and CPU time of the
 *       whole process (every thread) per patient, which is the fair figure on a shared machine
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCohort } from '../../src/phantom/cohort.js';
import { createImagePool } from '../../src/phantom/images.js';
import type { CohortKind, ImageGrid } from '../../src/phantom/patient.js';

const { values } = parseArgs({
  options: { n: { type: 'string' }, runs: { type: 'string' }, images: { type: 'string' } },
});
const grid = values.images as ImageGrid | undefined;
const n = Number(values.n ?? (grid ? 8 : 20000));
const runs = Number(values.runs ?? (grid ? 3 : 5));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall seconds of one run; its CPU seconds (all threads) go to `cpu`. */
async function time(cohort: CohortKind, seed: number, workers: number, cpu: number[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-bench-cohort-'));
  try {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const pool = grid ? await createImagePool(workers, { grid, site: null }, dir) : null;
    try {
      await writeCohort({ cohort, n, seed, out: dir, progress: false, onPatient: pool ? (g) => pool.submit(g.record) : undefined });
    } finally {
      await pool?.close();
    }
    const used = process.cpuUsage(u0);
    cpu.push((used.user + used.system) / 1e6);
    return (performance.now() - t0) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, n = ${n}, ${runs} runs, ${grid ? `${grid} grid images` : 'no images'}`);
const settings: Array<[CohortKind, number]> = grid ? [['iat', 1], ['iat', 2]] : [['iat', 0], ['resection', 0]];
for (const [cohort, workers] of settings) {
  const seconds: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) seconds.push(await time(cohort, r, workers, cpu));
  const s = median(seconds);
  const label = grid ? `${cohort}, ${workers} worker${workers > 1 ? 's' : ''}` : cohort;
  const perPatient = grid ? `  ${((1000 * s) / n).toFixed(0)} ms wall and ${((1000 * median(cpu)) / n).toFixed(0)} ms CPU per patient` : '';
  console.log(`${label.padEnd(16)} median ${s.toFixed(2)} s  ${(n / s).toFixed(grid ? 2 : 0)} patients/s${perPatient}  (runs: ${seconds.map((x) => x.toFixed(2)).join(', ')}; load average ${loadavg()[0]!.toFixed(1)})`);
}
