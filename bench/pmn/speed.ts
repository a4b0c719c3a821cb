/**
 * PMN training-step and inference time on random crops (no data loading), for BENCHMARKS.md.
 *
 *   TORCH_NUM_THREADS=1 node dist/bench/pmn/speed.js [--config default|xs] [--batch 8] [--steps 5]
 *   OMP_WAIT_POLICY=passive node dist/bench/pmn/speed.js ...
 *
 * A step is what trainPmn does per resection batch: forward, CE + cluster − separation + Breslow Cox, backward,
 * gradient clipping left out, AdamW step. Inference is one case (batch 1) forward under noGrad. One warm-up
 * step is not timed; medians are reported.
 */
import { parseArgs } from 'node:util';
import * as torch from '@hcc/torch';
import { DEFAULT_CONFIG, type PmnConfig } from '../../src/pmn/config.js';
import { clusterSeparation, coxBreslowLoss, weightedCrossEntropy } from '../../src/pmn/losses.js';
import { PrototypeMambaNet } from '../../src/pmn/model.js';

const CONFIGS: Record<string, PmnConfig> = {
  default: DEFAULT_CONFIG,
  // PMN-XS (pmn-design.md §5.6): 48x48x24 input (216 tokens), 2 blocks.
  xs: { ...DEFAULT_CONFIG, inputSize: [48, 48, 24], depth: 2 },
};

const { values } = parseArgs({ options: { config: { type: 'string', default: 'default' }, batch: { type: 'string', default: '8' }, steps: { type: 'string', default: '5' } } });
const config = CONFIGS[values.config!];
if (!config) throw new Error(`--config must be one of ${Object.keys(CONFIGS).join(', ')}`);
const batch = Number(values.batch);
const steps = Number(values.steps);
torch.manualSeed(0);
const net = new PrototypeMambaNet(config);
const opt = new torch.optim.AdamW(net.parameters(), { lr: 1e-3 });
const [nx, ny, nz] = config.inputSize;
const input = (b: number) => {
  const x = torch.randn([b, config.inChannels, nz, ny, nx]);
  // A centred cube tumour in the mask channel.
  torch.noGrad(() => x.narrow(1, 2, 1).zero_().narrow(2, nz / 4, nz / 2).narrow(3, ny / 4, ny / 2).narrow(4, nx / 4, nx / 2).fill_(1));
  return x;
};
const labels = Array.from({ length: batch }, (_, i) => i % 2);
const times = Array.from({ length: batch }, (_, i) => 1 + (i % 5));
const events = Array.from({ length: batch }, (_, i) => (i % 3 === 2 ? 0 : 1));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const stepMs: number[] = [];
for (let s = 0; s <= steps; s++) {
  const t0 = performance.now();
  torch.tidy(() => {
    opt.zeroGrad();
    const o = net.forward(input(batch));
    const { cluster, separation } = clusterSeparation(o.minDistance, labels, net.prototypeClass, net.maxDist, [1, 1]);
    weightedCrossEntropy(o.logits, labels, [1, 1]).add(cluster.mul(0.8)).sub(separation.mul(0.08)).add(coxBreslowLoss(o.risk, times, events).mul(0.5)).backward();
    opt.step();
  });
  await torch.yieldToEventLoop();
  if (s > 0) stepMs.push(performance.now() - t0);
}
net.eval();
const inferMs: number[] = [];
for (let s = 0; s <= steps; s++) {
  const t0 = performance.now();
  torch.tidy(() => torch.noGrad(() => net.forward(input(1)).logits.sum().item()));
  if (s > 0) inferMs.push(performance.now() - t0);
}
console.log(JSON.stringify({
  config: values.config, params: net.numParameters(), batch, threads: torch.getNumThreads(), ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null,
  stepMs: median(stepMs), perSampleMs: median(stepMs) / batch, inferenceMsPerCase: median(inferMs), steps,
}));
