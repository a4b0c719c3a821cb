/**
 * One segmentation training step (forward with deep supervision, Dice+CE, backward, Nesterov SGD; the trainer's
 * gradient clipping, a few ms, is left out)
 * on a random batch, for each stage of a model, with conv3d's weight gradient computed as a convolution (the
 * binding's default, packages/torch/native/conv.cc) and with ATen's own. The two alternate step by step, so a
 * neighbour's load falls on both alike; medians of wall and CPU time per step.
 *
 *   node dist/bench/segmentation/train-step.js --model DIR [--steps 12]
 *
 * Run under bin/hcc.js's allocator settings for figures comparable with training (LD_PRELOAD jemalloc,
 * MALLOC_CONF=narenas:1,oversize_threshold:4294967296). TORCH_NUM_THREADS sets the intra-op threads.
 */
import { parseArgs } from 'node:util';
import * as torch from '@hcc/torch';
import { deepSupervisionLoss } from '../../src/segmentation/loss.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';
import { buildNetwork } from '../../src/segmentation/train.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, steps: { type: 'string', default: '12' }, json: { type: 'boolean', default: false } } });
if (!values.model) throw new Error('--model DIR is required');
const steps = Number(values.steps);
const model = loadSegmentationModel(values.model);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results = model.stages.map((stage) => {
  const plans = stage.plans;
  const cfg = plans.configuration;
  torch.manualSeed(0);
  const net = buildNetwork(plans, true).initialize();
  net.train();
  const params = net.parameters();
  const opt = new torch.optim.SGD(params, { lr: 1e-2, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const K = Object.keys(plans.labels).length;
  const x = torch.randn([cfg.batch_size, net.inputChannels, ...cfg.patch_size]);
  const y = torch.randint(0, K, [cfg.batch_size, ...cfg.patch_size]);
  const times = { asConv: { wall: [] as number[], cpu: [] as number[] }, aten: { wall: [] as number[], cpu: [] as number[] } };
  for (let s = 0; s < steps + 1; s++) {
    for (const mode of ['asConv', 'aten'] as const) {
      torch.setConv3dWeightGradAsConv(mode === 'asConv');
      const c0 = cpuMs();
      const t0 = performance.now();
      torch.tidy(() => {
        opt.zeroGrad();
        const loss = deepSupervisionLoss(net.forward(x), y, cfg.batch_dice);
        loss.backward();
        opt.step();
      });
      // The first step of each mode warms oneDNN's kernel caches.
      if (s > 0) {
        times[mode].wall.push(performance.now() - t0);
        times[mode].cpu.push(cpuMs() - c0);
      }
    }
  }
  torch.setConv3dWeightGradAsConv(true);
  const r = {
    stage: stage.role, patch: cfg.patch_size, batch: cfg.batch_size, features: cfg.architecture.arch_kwargs.features_per_stage,
    asConvMs: median(times.asConv.wall), atenMs: median(times.aten.wall), asConvCpuMs: median(times.asConv.cpu), atenCpuMs: median(times.aten.cpu),
  };
  return { ...r, speedup: r.atenMs / r.asConvMs };
});

if (values.json) console.log(JSON.stringify({ threads: torch.getNumThreads(), steps, results }, null, 2));
else {
  console.log(`threads ${torch.getNumThreads()}, ${steps} steps per mode (median)`);
  for (const r of results) {
    console.log(`${r.stage} patch ${r.patch.join('x')} batch ${r.batch}: weight grad as conv ${r.asConvMs.toFixed(0)} ms (CPU ${r.asConvCpuMs.toFixed(0)}), ATen ${r.atenMs.toFixed(0)} ms (CPU ${r.atenCpuMs.toFixed(0)}), ${r.speedup.toFixed(2)}x`);
  }
}
