/**
 * Time to render one two-phase CT phantom (arterial + portal-venous + label, in memory, no NIfTI writing) on a
 * grid: the median wall and CPU time over several patients, in one thread.
 *
 *   node dist/bench/phantom/render.js [--grid small|clinical|tiny] [--n 5]
 */
import { parseArgs } from 'node:util';
import { examplePatient } from '../../src/phantom/ct/example.js';
import { renderPatient } from '../../src/phantom/ct/render.js';
import type { ImageGrid } from '../../src/phantom/patient.js';

const { values } = parseArgs({ options: { grid: { type: 'string', default: 'small' }, n: { type: 'string', default: '5' } } });
const grid = values.grid as ImageGrid;
const n = Number(values.n);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;

// One warm-up render so that the timings measure optimised code, not the JIT.
renderPatient(examplePatient({ seed: 1000 }), { grid, site: null });
const wall: number[] = [];
const cpu: number[] = [];
let voxels = 0;
for (let i = 0; i < n; i++) {
  // Patients vary in body size, tumour burden and slice thickness (clinical grid), as a cohort does.
  const record = examplePatient({ seed: 2000 + i, tumourDiametersCm: [3 + 2 * i, 2].slice(0, 1 + (i % 2)), x: [i - 2, 1 - i, 0.5, 0, 1, -1, i - 1, 0] });
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const c = renderPatient(record, { grid, site: null });
  const used = process.cpuUsage(u0);
  wall.push(performance.now() - t0);
  cpu.push((used.user + used.system) / 1000);
  voxels += c.art.data.length;
}
const result = {
  grid,
  cases: n,
  meanVoxelsPerPhase: Math.round(voxels / n),
  medianWallMs: Math.round(median(wall)),
  medianCpuMs: Math.round(median(cpu)),
  node: process.version,
};
console.log(JSON.stringify(result));
