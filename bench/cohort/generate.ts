/**
 * Synthetic-cohort throughput without images: patients per second written to cohort.csv + truth.csv (every
 * stage derived, files hashed), median of 5 runs per cohort. Results go in BENCHMARKS.md, "Synthetic cohorts".
 *
 *   node dist/bench/cohort/generate.js [--n 20000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCohort } from '../../src/phantom/cohort.js';
import type { CohortKind } from '../../src/phantom/patient.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' }, runs: { type: 'string', default: '5' } } });
const n = Number(values.n);
const runs = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, n = ${n}, ${runs} runs`);
for (const cohort of ['iat', 'resection'] as CohortKind[]) {
  const seconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'hcc-bench-cohort-'));
    const t0 = performance.now();
    await writeCohort({ cohort, n, seed: r, out: dir, progress: false });
    seconds.push((performance.now() - t0) / 1000);
    rmSync(dir, { recursive: true, force: true });
  }
  const s = median(seconds);
  console.log(`${cohort.padEnd(9)} median ${s.toFixed(2)} s  ${Math.round(n / s)} patients/s  (runs: ${seconds.map((x) => x.toFixed(2)).join(', ')})`);
}
