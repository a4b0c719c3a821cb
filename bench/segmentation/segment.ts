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
import { connectedComponents } from '../../src/imaging/ops/components.js';
import { applyAffine } from '../../src/imaging/affine.js';
import { maskMetrics } from '../../src/imaging/metrics.js';
import { writeNifti } from '../../src/imaging/nifti/write.js';
import { measureTumours } from '../../src/imaging/tumour.js';
import { makeVolume, type Vec3, type Volume } from '../../src/imaging/volume.js';
import { readCase } from '../../src/segmentation/cases.js';
import { segmentCase } from '../../src/segmentation/infer.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';
import { TILE_BATCH } from '../../src/segmentation/sliding-window.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, cases: { type: 'string' }, n: { type: 'string', default: '5' }, step: { type: 'string' }, save: { type: 'string' }, json: { type: 'boolean' } } });
if (!values.model || !values.cases) throw new Error('--model DIR --cases DIR are required');
const model = loadSegmentationModel(values.model);
const prefixes = readdirSync(values.cases).filter((f) => f.endsWith('_label.nii.gz')).sort().slice(0, Number(values.n)).map((f) => join(values.cases!, f.slice(0, -13)));

/** Tumour components (26-connected) of at least 1 cm largest axial diameter, as voxel index lists. */
function lesions(labels: Volume): Int32Array[] {
  const tumour = Uint8Array.from(labels.data, (v) => (v === 2 ? 1 : 0));
  const cc = connectedComponents(tumour, labels.shape, 26);
  const members: number[][] = Array.from({ length: cc.count + 1 }, () => []);
  for (let i = 0; i < cc.labels.length; i++) if (cc.labels[i]) members[cc.labels[i]!]!.push(i);
  const [nx, ny] = labels.shape;
  const out: Int32Array[] = [];
  for (let c = 1; c <= cc.count; c++) {
    const idx = members[c]!;
    // measured on the component's own box: the same diameter, without scanning the whole volume per component
    const start: Vec3 = [Infinity, Infinity, Infinity];
    const end: Vec3 = [0, 0, 0];
    for (const i of idx) {
      const p = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
      for (let a = 0; a < 3; a++) { start[a] = Math.min(start[a]!, p[a]!); end[a] = Math.max(end[a]!, p[a]! + 1); }
    }
    const [sx, sy, sz] = end.map((e, a) => e - start[a]!);
    const origin = applyAffine(labels.affine, start);
    const affine = [...labels.affine];
    [affine[3], affine[7], affine[11]] = [origin[0]!, origin[1]!, origin[2]!];
    const sub = makeVolume([sx!, sy!, sz!], affine, new Uint8Array(sx! * sy! * sz!));
    for (const i of idx) {
      const p = [i % nx - start[0], Math.floor(i / nx) % ny - start[1], Math.floor(i / (nx * ny)) - start[2]];
      sub.data[p[0]! + sx * (p[1]! + sy * p[2]!)] = 2;
    }
    if (measureTumours(sub).largestDiameterMm >= 10) out.push(Int32Array.from(idx));
  }
  return out;
}
const overlaps = (idx: Int32Array, b: ArrayLike<number>, value: number) => idx.some((i) => b[i] === value);

const rows: Array<Record<string, unknown>> = [];
let tp = 0, fp = 0, fn = 0;
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
  const refLesions = lesions(ref), predLesions = lesions(res.labels);
  const found = refLesions.filter((l) => overlaps(l, res.labels.data, 2)).length;
  const correct = predLesions.filter((l) => overlaps(l, ref.data, 2)).length;
  tp += found; fn += refLesions.length - found; fp += predLesions.length - correct;
  let flops = 0;
  let netCpu = 0;
  for (const s of model.stages) {
    flops += (tiles[s.role] ?? 0) * s.nets.length * s.nets[0]!.flops(s.plans.configuration.patch_size);
    netCpu += res.steps[`${s.role}.sliding_window.network`]?.cpu ?? 0;
  }
  const steps = { read, ...res.steps, write };
  rows.push({
    case: p.split('/').pop(), shape: ref.shape, liverDice: liver.dice, liverHd95: liver.hd95, tumourDice: tum.dice, refLesions: refLesions.length, found,
    predLesions: predLesions.length, correct, wall, cpu, timing: res.timing, steps, tiles, gflop: flops / 1e9, gflopsPerCpuS: flops / 1e9 / cpu,
    networkGflopsPerCpuS: flops / 1e9 / netCpu,
  });
  if (!values.json) console.error(JSON.stringify(rows.at(-1)));
}
const mean = (k: string) => rows.reduce((s, r) => s + (r[k] as number), 0) / rows.length;
const precision = tp / Math.max(1, tp + fp), recall = tp / Math.max(1, tp + fn);

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
  detection: { tp, fp, fn, precision, recall, f1: (2 * precision * recall) / Math.max(1e-12, precision + recall) },
  wall: mean('wall'), cpu: mean('cpu'), gflop: mean('gflop'), gflopsPerCpuS: mean('gflopsPerCpuS'), conv, rows,
};
console.log(JSON.stringify(summary, null, values.json ? 2 : 0));
