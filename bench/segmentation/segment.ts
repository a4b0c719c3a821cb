/**
 * Segmentation accuracy and speed on held-out phantoms, and conv3d throughput for the GFLOP/s comparison.
 *
 *   TORCH_NUM_THREADS=1 node dist/bench/segmentation/segment.js --model DIR --cases DIR/images [--n 5] [--step F] [--save DIR] [--json]
 *
 * Each case is timed end to end as `hcc segment` runs it: reading and decoding both NIfTI phases, segmentCase
 * (with its per-step wall and CPU profile), writing the label NIfTI. CPU is the process's user + system time
 * (all libtorch threads); the load average is printed because wall time on a shared machine depends on it.
 * --save DIR keeps each case's labels (DIR/<id>_seg.nii.gz) to compare runs voxel for voxel.
 *
 * Per case: liver (liver ∪ tumour, the whole organ) Dice and HD95, tumour Dice, detection of tumours ≥ 1 cm
 * (a reference lesion is found when a predicted tumour voxel overlaps it; a predicted lesion ≥ 1 cm is a true
 * positive when it overlaps a reference tumour), wall and CPU time per stage, FLOPs of the network passes
 * (PlainConvUNet.flops × tiles × folds) and the GFLOP/s they imply. Then conv3d alone at the model's first-stage
 * shape and the sliding window's tile batch, the binding's best case, for the ratio.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as torch from '@hcc/torch';
import { maskMetrics } from '../../src/imaging/metrics.js';
import { writeNifti } from '../../src/imaging/nifti/write.js';
import type { Volume } from '../../src/imaging/volume.js';
import { readCase } from '../../src/segmentation/cases.js';
import { segmentCase } from '../../src/segmentation/infer.js';
import { detectionAt, detectionRecord, type DetectionRecord } from '../../src/segmentation/lesions.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';
import { TILE_BATCH } from '../../src/segmentation/sliding-window.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, cases: { type: 'string' }, n: { type: 'string', default: '5' }, step: { type: 'string' }, save: { type: 'string' }, json: { type: 'boolean' } } });
if (!values.model || !values.cases) throw new Error('--model DIR --cases DIR are required');
const model = loadSegmentationModel(values.model);
const prefixes = readdirSync(values.cases).filter((f) => f.endsWith('_label.nii.gz')).sort().slice(0, Number(values.n)).map((f) => join(values.cases!, f.slice(0, -13)));

const rows: Array<Record<string, unknown>> = [];
const records: DetectionRecord[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'hcc-seg-bench-'));
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const load0 = loadavg();
for (const p of prefixes) {
  const tiles: Record<string, number> = {};
  const u0 = cpuNow();
  const t0 = performance.now();
  const images = await readCase(p);
  const read = { wall: (performance.now() - t0) / 1000, cpu: cpuNow() - u0 };
  const res = segmentCase(model, images, { step: values.step === undefined ? undefined : Number(values.step), onTile: (stage, _d, total) => (tiles[stage] = total) });
  const [u1, t1] = [cpuNow(), performance.now()];
  await writeNifti(join(values.save ?? scratch, `${p.split('/').pop()}_seg.nii.gz`), res.labels, { type: 'uint8' });
  const write = { wall: (performance.now() - t1) / 1000, cpu: cpuNow() - u1 };
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuNow() - u0;
  const c = { ...images, labels: (await readCase(p, { labels: true, phases: [] })).labels };
  const ref = c.labels!;
  const organ = (v: Volume) => Uint8Array.from(v.data, (x) => (x > 0 ? 1 : 0));
  const liver = maskMetrics(organ(res.labels), organ(ref), ref.shape, ref.spacing);
  const tum = maskMetrics(Uint8Array.from(res.labels.data, (x) => (x === 2 ? 1 : 0)), Uint8Array.from(ref.data, (x) => (x === 2 ? 1 : 0)), ref.shape, ref.spacing);
  const record = detectionRecord(res.labels, ref);
  records.push(record);
  const { tp: found, fp } = detectionAt([record]);
  const predLesions = record.predicted.filter((l) => l.counted).length;
  let flops = 0;
  let netCpu = 0;
  for (const s of model.stages) {
    flops += (tiles[s.role] ?? 0) * s.nets.length * s.nets[0]!.flops(s.plans.configuration.patch_size);
    netCpu += res.steps[`${s.role}.sliding_window.network`]?.cpu ?? 0;
  }
  const steps = { read, ...res.steps, write };
  rows.push({
    case: p.split('/').pop(), shape: ref.shape, liverDice: liver.dice, liverHd95: liver.hd95, tumourDice: tum.dice, refLesions: record.references.length, found,
    predLesions, correct: predLesions - fp, wall, cpu, timing: res.timing, steps, tiles, gflop: flops / 1e9, gflopsPerCpuS: flops / 1e9 / cpu,
    networkGflopsPerCpuS: flops / 1e9 / netCpu,
  });
  if (!values.json) console.error(JSON.stringify(rows.at(-1)));
}
const mean = (k: string) => rows.reduce((s, r) => s + (r[k] as number), 0) / rows.length;

// conv3d alone at the first stage's shape (f0 -> f0 channels, 3x3x3), the network's dominant layer, batched as
// the sliding window batches tiles.
const patch = model.stages.at(-1)!.plans.configuration.patch_size;
const f0 = model.stages.at(-1)!.plans.configuration.architecture.arch_kwargs.features_per_stage[0]!;
const conv = torch.tidy(() => {
  const x = torch.randn([TILE_BATCH, f0, ...patch]);
  const w = torch.randn([f0, f0, 3, 3, 3]);
  for (let i = 0; i < 2; i++) torch.F.conv3d(x, w, null, 1, 1);
  const u = process.cpuUsage();
  const reps = 5;
  for (let i = 0; i < reps; i++) torch.tidy(() => torch.F.conv3d(x, w, null, 1, 1));
  const s = (process.cpuUsage(u).user + process.cpuUsage(u).system) / 1e6 / reps;
  return { shape: `${TILE_BATCH} x ${f0}->${f0} @${patch.join('x')}`, gflopsPerCpuS: (2 * TILE_BATCH * f0 * f0 * 27 * patch[0]! * patch[1]! * patch[2]!) / 1e9 / s };
});
rmSync(scratch, { recursive: true, force: true });
const summary = {
  threads: torch.getNumThreads(), cases: rows.length, loadavg: { before: load0, after: loadavg() },
  liverDice: mean('liverDice'), liverHd95: mean('liverHd95'), tumourDice: mean('tumourDice'),
  detection: detectionAt(records),
  wall: mean('wall'), cpu: mean('cpu'), gflop: mean('gflop'), gflopsPerCpuS: mean('gflopsPerCpuS'), conv, rows,
};
console.log(JSON.stringify(summary, null, values.json ? 2 : 0));
