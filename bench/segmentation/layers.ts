/**
 * Where one sliding-window network pass spends its time: each stage's PlainConvUNet run on one patch, with the
 * CPU time of every leaf module (conv, InstanceNorm, LeakyReLU, transposed conv, head) summed by kind and
 * input/output channels, next to its FLOPs, so slow layer shapes stand out.
 *
 *   OMP_WAIT_POLICY=PASSIVE node dist/bench/segmentation/layers.js --model DIR [--reps 3] [--batch 1]
 *
 * TORCH_NUM_THREADS sets the intra-op threads. The forward methods of the leaf modules are wrapped with timers;
 * the network itself is unchanged.
 */
import { parseArgs } from 'node:util';
import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { loadSegmentationModel } from '../../src/segmentation/model.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, reps: { type: 'string', default: '3' }, batch: { type: 'string', default: '1' } } });
if (!values.model) throw new Error('--model DIR is required');
const model = loadSegmentationModel(values.model);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

for (const stage of model.stages) {
  const net = stage.nets[0]!;
  const patch = stage.plans.configuration.patch_size;
  const rows = new Map<string, { cpu: number; gflop: number; calls: number }>();
  let active = false;
  for (const [name, m] of net.namedModules()) {
    if (name.includes('all_modules') || name.startsWith('decoder.encoder') || [...m.namedChildren()].length > 0) continue;
    const original = m.forward.bind(m) as (x: Tensor) => Tensor;
    const kind = m.constructor.name;
    (m as { forward: (x: Tensor) => Tensor }).forward = (x: Tensor) => {
      if (!active) return original(x);
      const c0 = cpu();
      const y = original(x);
      const c = cpu() - c0;
      const w = (m as unknown as { weight?: Tensor }).weight;
      const k = w && w.ndim === 5 ? w.shape.slice(2).reduce((a, b) => a * b, 1) : 0;
      const cin = x.shape[1]!, cout = y.shape[1]!;
      const vox = x.shape[0]! * (kind === 'ConvTranspose3d' ? x : y).shape.slice(2).reduce((a, b) => a * b, 1);
      const key = `${kind} ${cin}->${cout} @${y.shape.slice(2).join('x')}`;
      const r = rows.get(key) ?? { cpu: 0, gflop: 0, calls: 0 };
      r.cpu += c;
      r.gflop += k ? (2 * vox * k * cin * cout) / 1e9 : 0;
      r.calls++;
      rows.set(key, r);
      return y;
    };
  }
  const batch = Number(values.batch);
  const x = torch.randn([batch, stage.plans.configuration.normalization_schemes.length, ...patch]);
  torch.noGrad(() => torch.tidy(() => net.forward(x)));
  const reps = Number(values.reps);
  const c0 = cpu();
  active = true;
  for (let r = 0; r < reps; r++) torch.noGrad(() => torch.tidy(() => net.forward(x)));
  active = false;
  const total = (cpu() - c0) / reps;
  const flops = (batch * net.flops(patch)) / 1e9;
  console.log(`\n${stage.role}: batch ${batch} x patch ${patch.join('x')}, ${torch.getNumThreads()} thread(s): ${total.toFixed(3)} CPU-s per pass, ${flops.toFixed(2)} GFLOP, ${(flops / total).toFixed(1)} GFLOP/CPU-s`);
  console.log('| layer | calls/pass | CPU ms/pass | share | GFLOP/CPU-s |\n|---|---|---|---|---|');
  for (const [key, r] of [...rows].sort((a, b) => b[1].cpu - a[1].cpu)) {
    const ms = (r.cpu / reps) * 1000;
    console.log(`| ${key} | ${r.calls / reps} | ${ms.toFixed(1)} | ${((r.cpu / reps / total) * 100).toFixed(1)}% | ${r.gflop ? (r.gflop / r.cpu).toFixed(1) : '-'} |`);
  }
  x.dispose();
}
