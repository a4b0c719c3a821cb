/**
 * CPU time per training sample of a real trainPmn epoch (what the paper-size estimate in BENCHMARKS.md scales):
 * synthetic 72x72x36 crops on disk, 32 resection + 32 iat cases, batch 16, so an epoch is 2 steps of a resection
 * and an iat batch with crop reading, augmentation, both forwards, backward, clipping, AdamW and the checkpoint.
 * Epoch 2 is reported (epoch 1 warms up; the last epoch also pushes).
 *
 *   OMP_WAIT_POLICY=passive TORCH_NUM_THREADS=1 node dist/bench/pmn/train-epoch.js [--config default|xs] [--out DIR]
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { saveCrop } from '../../src/pmn/crop-store.js';
import type { PmnCase } from '../../src/pmn/batches.js';
import { trainPmn } from '../../src/pmn/train.js';
import { Rng } from '../../src/util/rng.js';

const { values } = parseArgs({ options: { config: { type: 'string', default: 'default' }, out: { type: 'string' } } });
const config = values.config === 'xs' ? { inputSize: [48, 48, 24] as [number, number, number], depth: 2 } : {};
const dir = values.out ?? join(tmpdir(), `hcc-pmn-train-epoch-${process.pid}`);
mkdirSync(join(dir, 'crops'), { recursive: true });
const size: [number, number, number] = [72, 72, 36];
const n = size[0] * size[1] * size[2];
const rng = Rng.stream(3, 'train-epoch');
function crop(id: string, label: number): string {
  const tumour = new Uint8Array(n);
  for (let z = 10; z < 26; z++) for (let y = 24; y < 48; y++) for (let x = 24; x < 48; x++) tumour[x + 72 * (y + 72 * z)] = 1;
  const art = Float32Array.from({ length: n }, (_, i) => Math.round(rng.normal(60 + 30 * label * tumour[i]!, 20)));
  const pv = Float32Array.from({ length: n }, () => Math.round(rng.normal(90, 20)));
  const path = join(dir, 'crops', `${id}.crop`);
  saveCrop(path, { size, spacing: [1.5, 1.5, 2.5], scale: 1, centre: [0, 0, 0], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], art, pv, tumour, liver: new Uint8Array(n).fill(1) });
  return path;
}
const resection: PmnCase[] = Array.from({ length: 32 }, (_, i) => ({ id: `r${i}`, crop: crop(`r${i}`, i % 2), label: i % 2 }));
const iat: PmnCase[] = Array.from({ length: 32 }, (_, i) => ({ id: `i${i}`, crop: crop(`i${i}`, 0), time: 1 + (i % 7), event: i % 3 ? 1 : 0 }));
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const perSample: number[] = [];
let last = cpuMs();
await trainPmn(resection, iat, join(dir, 'model'), {
  config, training: { epochs: 3, pushEpochs: [], lastLayerSteps: 10 }, progress: false,
  onEpoch: () => {
    const now = cpuMs();
    perSample.push((now - last) / (2 * 32));
    last = now;
  },
});
if (!values.out) rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ config: values.config, cpuMsPerTrainingSampleEpoch2: Math.round(perSample[1]! * 10) / 10, perEpoch: perSample.map((v) => Math.round(v * 10) / 10) }));
