// RSS over a 10,000-step training loop of a small 3-D conv net (the prototype's net: conv 1->8, IN, LReLU,
// conv 8->8, IN, LReLU, conv 8->1; input [2,1,16^3]; MSE; SGD written in TS), under four regimes:
//   sync          tidy per step, synchronous loop, glibc malloc
//   yield         trainLoop(): tidy per step and one event-loop turn per step, glibc
//   sync+jemalloc tidy per step, synchronous, LD_PRELOAD=libjemalloc.so.2
//   yield+jemalloc what `hcc` gives by default
// Run: node packages/torch/dist/bench/memory.js [steps=10000] [sampleEvery=500]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/index.js';

const F = torch.F;
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

interface Sample { step: number; rssMb: number; live: number }

async function train(steps: number, every: number, yieldEachStep: boolean): Promise<{ samples: Sample[]; msPerStep: number; firstLoss: number; lastLoss: number }> {
  torch.manualSeed(0);
  const p = (shape: number[], scale: number) => torch.randn(shape).mul(scale).detach().requiresGrad_().keep();
  const params = [p([8, 1, 3, 3, 3], 0.3), p([8], 0), p([8, 8, 3, 3, 3], 0.1), p([8], 0), p([1, 8, 1, 1, 1], 0.3), p([1], 0)];
  const [w1, b1, w2, b2, w3, b3] = params;
  const x = torch.randn([2, 1, 16, 16, 16]).keep();
  const target = torch.tidy(() => x.mul(0.5).add(x.pow(2).mul(0.1))).keep();
  const samples: Sample[] = [];
  let firstLoss = NaN;
  let lastLoss = NaN;
  const step = (i: number) => {
    let h = F.leakyRelu(F.instanceNorm(F.conv3d(x, w1, b1, 1, 1)), 0.01);
    h = F.leakyRelu(F.instanceNorm(F.conv3d(h, w2, b2, 1, 1)), 0.01);
    const loss = F.mseLoss(F.conv3d(h, w3, b3), target);
    loss.backward();
    torch.noGrad(() => {
      for (const q of params) { q.sub_(q.grad!, 0.01); q.grad = null; }
    });
    const l = loss.item();
    if (i === 0) firstLoss = l;
    lastLoss = l;
  };
  const sample = (i: number) => samples.push({ step: i, rssMb: +(process.memoryUsage.rss() / 2 ** 20).toFixed(1), live: torch.memory().live });
  const t0 = performance.now();
  if (yieldEachStep) {
    await torch.trainLoop(steps, step, { onStep: (i) => { if ((i + 1) % every === 0) sample(i + 1); } });
  } else {
    for (let i = 0; i < steps; i++) {
      torch.tidy(() => step(i));
      if ((i + 1) % every === 0) sample(i + 1);
    }
  }
  const msPerStep = (performance.now() - t0) / steps;
  return { samples, msPerStep: +msPerStep.toFixed(2), firstLoss, lastLoss };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[2] === '--child') {
  const [, , , mode, steps, every] = process.argv;
  torch.setNumThreads(1);
  const r = await train(Number(steps), Number(every), mode === 'yield');
  process.stdout.write(JSON.stringify(r));
} else if (process.argv[1] === self) {
  const [steps = 10000, every = 500] = process.argv.slice(2).map(Number);
  const variants: [string, string, boolean][] = [
    ['sync', 'sync', false], ['yield', 'yield', false], ['sync+jemalloc', 'sync', true], ['yield+jemalloc', 'yield', true],
  ];
  const results: Record<string, unknown> = {};
  for (const [name, mode, jemalloc] of variants) {
    if (jemalloc && !existsSync(JEMALLOC)) continue;
    const env = { ...process.env, LD_PRELOAD: jemalloc ? JEMALLOC : '' };
    const out = execFileSync(process.execPath, [self, '--child', mode, String(steps), String(every)], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
    results[name] = JSON.parse(out);
    process.stderr.write(`${name} done\n`);
  }
  process.stdout.write(JSON.stringify({ steps, threads: 1, results }, null, 1) + '\n');
}
