/**
 * Synthetic-cohort throughput, median of several runs. Results go in BENCHMARKS.md, "Synthetic cohorts".
 *
 *   node dist/bench/cohort/generate.js [--n 20000] [--runs 5]
 *       clinical data only: patients per second written to cohort.csv + truth.csv (every stage derived, hashed)
 *   node dist/bench/cohort/generate.js --images small --n 8 --runs 3
 *       with CT phantoms on the given grid, through the worker pool with 1 and with 2 workers
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
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

async function time(cohort: CohortKind, seed: number, workers: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-bench-cohort-'));
  try {
    const t0 = performance.now();
    const pool = grid ? await createImagePool(workers, { grid, site: null }, dir) : null;
    try {
      await writeCohort({ cohort, n, seed, out: dir, progress: false, onPatient: pool ? (g) => pool.submit(g.record) : undefined });
    } finally {
      await pool?.close();
    }
    return (performance.now() - t0) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, n = ${n}, ${runs} runs, ${grid ? `${grid} grid images` : 'no images'}`);
const settings: Array<[CohortKind, number]> = grid ? [['iat', 1], ['iat', 2]] : [['iat', 0], ['resection', 0]];
for (const [cohort, workers] of settings) {
  const seconds: number[] = [];
  for (let r = 0; r < runs; r++) seconds.push(await time(cohort, r, workers));
  const s = median(seconds);
  const label = grid ? `${cohort}, ${workers} worker${workers > 1 ? 's' : ''}` : cohort;
  console.log(`${label.padEnd(16)} median ${s.toFixed(2)} s  ${(n / s).toFixed(grid ? 2 : 0)} patients/s  (runs: ${seconds.map((x) => x.toFixed(2)).join(', ')})`);
}
