/**
 * PMN training-step and inference time on random crops (no data loading), for BENCHMARKS.md, with the step
 * broken down by stage in wall and CPU time (process.cpuUsage: all threads) and the load average, so that runs
 * on the shared machine can be read. bench/pmn/reference_speed.py times the same thing in python3-torch.
 *
 *   OMP_WAIT_POLICY=passive node dist/bench/pmn/speed.js [--config default|xs] [--batch 8] [--steps 5]
 *                           [--threads 1] [--scan kernel|standin] [--profile]
 *
 * For the allocator `hcc` runs with (bin/hcc.js), prefix LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
 * MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1.
 *
 * A step is what trainPmn does per resection batch: forward, CE + cluster − separation + Breslow Cox, backward,
 * gradient clipping left out, AdamW step. `--scan standin` swaps the selective scan for the reference script's
 * elementwise stand-in (same inputs and output), so the "dense" part can be compared with python3-torch.
 * Inference is one case (batch 1) forward under noGrad. One warm-up step is not timed; medians are reported.
 * `--profile` adds the 40 ops with the most self time in one more step (libtorch's autograd profiler; the
 * reference script's --profile lists the same op names).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { DEFAULT_CONFIG, type PmnConfig } from '../../src/pmn/config.js';
import { clusterSeparation, coxBreslowLoss, weightedCrossEntropy } from '../../src/pmn/losses.js';
import { drawAugmentation, fillInput } from '../../src/pmn/input.js';
import { PrototypeMambaNet, type BiMamba } from '../../src/pmn/model.js';
import type { TumourCrop } from '../../src/pmn/crop.js';
import { Rng } from '../../src/util/rng.js';

const CONFIGS: Record<string, PmnConfig> = {
  default: DEFAULT_CONFIG,
  // PMN-XS (pmn-design.md §5.6): 48x48x24 input (216 tokens), 2 blocks.
  xs: { ...DEFAULT_CONFIG, inputSize: [48, 48, 24], depth: 2 },
};

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'default' }, batch: { type: 'string', default: '8' }, steps: { type: 'string', default: '5' },
    threads: { type: 'string' }, scan: { type: 'string', default: 'kernel' }, profile: { type: 'boolean', default: false },
  },
});
const config = CONFIGS[values.config!];
if (!config) throw new Error(`--config must be one of ${Object.keys(CONFIGS).join(', ')}`);
if (values.scan !== 'kernel' && values.scan !== 'standin') throw new Error('--scan must be kernel or standin');
if (values.threads) torch.setNumThreads(Number(values.threads));
const batch = Number(values.batch);
const steps = Number(values.steps);
torch.manualSeed(0);
const net = new PrototypeMambaNet(config);

/** reference_speed.py's scan_standin: a few elementwise ops on the scan's inputs, differentiable in all of them. */
const standin: BiMamba['scan'] = (u, delta, A, B, C, o = {}) => {
  const dt = torch.F.softplus(delta.add(o.deltaBias!));
  const y = u.mul(dt).mul(A.sum([-1])).add(B.sum([-1], true).add(C.sum([-1], true)).mul(u)).add(o.D!.mul(u));
  return y.mul(torch.F.silu(o.z!));
};

/** Accumulates wall and CPU ms per label over one step. */
class Timer {
  wall: Record<string, number> = {};
  cpu: Record<string, number> = {};
  run<T>(label: string, fn: () => T): T {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    const out = fn();
    const c = process.cpuUsage(c0);
    this.wall[label] = (this.wall[label] ?? 0) + performance.now() - w0;
    this.cpu[label] = (this.cpu[label] ?? 0) + (c.user + c.system) / 1000;
    return out;
  }
}
let timer: Timer | null = null;

/** Times a module's forward under `label` (an own property shadows the class method). */
function timeForward(m: { forward: (...a: never[]) => unknown }, label: string): void {
  const original = m.forward.bind(m) as (...a: unknown[]) => unknown;
  (m as { forward: unknown }).forward = (...args: unknown[]) => (timer ? timer.run(label, () => original(...args)) : original(...args));
}
const stem = net.stem.children();
timeForward(stem[0] as never, 'stem conv1');
timeForward(stem[1] as never, 'stem GN+GELU');
timeForward(stem[2] as never, 'stem GN+GELU');
timeForward(stem[3] as never, 'stem conv2');
timeForward(stem[4] as never, 'stem GN+GELU');
timeForward(stem[5] as never, 'stem GN+GELU');
timeForward(net.patch_embed as never, 'patch embed');
for (const block of net.layers) {
  timeForward(block.norm as never, 'layer norm');
  timeForward(block.mixer as never, 'BiMamba (all)');
  for (const [name, child] of block.mixer.namedChildren()) {
    if (/^(in_proj|x_proj|x_proj_b|out_proj)$/.test(name)) timeForward(child as never, name.replace(/_b$/, ''));
  }
  const scan = values.scan === 'standin' ? standin : block.mixer.scan;
  block.mixer.scan = (...args) => (timer ? timer.run('selective scan', () => scan(...args)) : scan(...args));
}
timeForward(net.norm_f as never, 'norm_f, add-on');
timeForward(net.add_on as never, 'norm_f, add-on');

const opt = new torch.optim.AdamW(net.parameters(), { lr: 1e-3 });
const [nx, ny, nz] = config.inputSize;
const input = (b: number): Tensor => {
  const x = torch.randn([b, config.inChannels, nz, ny, nx]);
  // A centred cube tumour in the mask channel.
  torch.noGrad(() => x.narrow(1, 2, 1).zero_().narrow(2, nz / 4, nz / 2).narrow(3, ny / 4, ny / 2).narrow(4, nx / 4, nx / 2).fill_(1));
  return x;
};
const labels = Array.from({ length: batch }, (_, i) => i % 2);
const times = Array.from({ length: batch }, (_, i) => 1 + (i % 5));
const events = Array.from({ length: batch }, (_, i) => (i % 3 === 2 ? 0 : 1));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const round = (v: number) => Math.round(v * 100) / 100;

function step(t: Timer): void {
  torch.tidy(() => {
    const x = t.run('input', () => input(batch));
    t.run('zero_grad', () => opt.zeroGrad());
    const o = t.run('forward', () => net.forward(x));
    const loss = t.run('losses', () => {
      const { cluster, separation } = clusterSeparation(o.minDistance, labels, net.prototypeClass, net.maxDist, [1, 1]);
      return weightedCrossEntropy(o.logits, labels, [1, 1]).add(cluster.mul(0.8)).sub(separation.mul(0.08)).add(coxBreslowLoss(o.risk, times, events).mul(0.5));
    });
    t.run('backward', () => loss.backward());
    t.run('optimizer step', () => opt.step());
  });
}

const runs: Array<{ t: Timer; wall: number; cpu: number; sys: number }> = [];
for (let s = 0; s <= steps; s++) {
  const t = new Timer();
  timer = t;
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  step(t);
  await torch.yieldToEventLoop();
  const c = process.cpuUsage(c0);
  if (s > 0) runs.push({ t, wall: performance.now() - w0, cpu: (c.user + c.system) / 1000, sys: c.system / 1000 });
}
timer = new Timer();
const profiled = values.profile ? torch.profile(() => step(timer!)).ops.slice(0, 40) : null;
timer = null;
net.eval();
const inferMs: number[] = [];
for (let s = 0; s <= steps; s++) {
  const t0 = performance.now();
  torch.tidy(() => torch.noGrad(() => net.forward(input(1)).logits.sum().item()));
  if (s > 0) inferMs.push(performance.now() - t0);
}
// What trainPmn adds per case before the forward: the augmented, normalised input cut from a stored crop
// (72x72x36, crop.ts), in JS: median of 20 after a warm-up, on a synthetic crop; reading the file is left out.
const cropSize: [number, number, number] = [72, 72, 36];
const nCrop = cropSize[0] * cropSize[1] * cropSize[2];
const rng = Rng.stream(0, 'speed');
const crop: TumourCrop = {
  size: cropSize, spacing: [1.5, 1.5, 2.5], scale: 1, centre: [0, 0, 0], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
  art: Float32Array.from({ length: nCrop }, () => rng.normal(60, 40)), pv: Float32Array.from({ length: nCrop }, () => rng.normal(80, 40)),
  tumour: Uint8Array.from({ length: nCrop }, (_, i) => (i % 7 === 0 ? 1 : 0)), liver: new Uint8Array(nCrop).fill(1),
};
const norm = { clipHu: config.clipHu, art: { mean: 60, sd: 40 }, pv: { mean: 80, sd: 40 } };
const inputCpuMs: number[] = [];
const out = new Float32Array(config.inChannels * nx * ny * nz);
for (let s = 0; s <= 20; s++) {
  const c0 = process.cpuUsage();
  fillInput(out, crop, norm, config, drawAugmentation(config, cropSize, rng), rng);
  const c = process.cpuUsage(c0);
  if (s > 0) inputCpuMs.push((c.user + c.system) / 1000);
}

const stepMs = median(runs.map((r) => r.wall));
const stepCpuMs = median(runs.map((r) => r.cpu));
console.log(JSON.stringify({
  config: values.config, params: net.numParameters(), batch, threads: torch.getNumThreads(), scan: values.scan,
  ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null, loadavg: round(loadavg()[0]!),
  stepMs: round(stepMs), stepCpuMs: round(stepCpuMs), stepSystemCpuMs: round(median(runs.map((r) => r.sys))), perSampleMs: round(stepMs / batch), perSampleCpuMs: round(stepCpuMs / batch),
  // Forward parts are nested in 'forward'; 'BiMamba (all)' contains in_proj, x_proj, scan and out_proj.
  parts: Object.fromEntries(Object.keys(runs[0]!.t.wall).map((k) => [k, { ms: round(median(runs.map((r) => r.t.wall[k]!))), cpuMs: round(median(runs.map((r) => r.t.cpu[k]!))) }])),
  inferenceMsPerCase: round(median(inferMs)), augmentedInputCpuMsPerCase: round(median(inputCpuMs)), steps,
}, null, 1));
if (profiled) console.log(JSON.stringify(profiled.map((o) => ({ name: o.name, count: o.count, selfMs: round(o.selfUs / 1000), totalMs: round(o.totalUs / 1000) }))));
