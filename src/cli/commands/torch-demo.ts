/**
 * `hcc torch-demo [--steps N] [--seed S] [--json]`: trains a tiny 3D conv net with @hcc/torch so a newcomer sees
 * the binding work end to end: nnU-Net-style blocks (Conv3d -> InstanceNorm3d -> LeakyReLU), AdamW with a poly
 * learning-rate schedule, a progress bar with the running loss. The task is synthetic: find a bright sphere in
 * a noisy 16^3 volume (binary segmentation, BCE-with-logits loss).
 */
import { parseArgs } from 'node:util';
import { printJson, type Command } from '../command.js';
import { ExitCode, HccError, usageError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';
import { Rng } from '../../util/rng.js';
import type * as Torch from '@hcc/torch';

const USAGE = `Usage: hcc torch-demo [--steps N] [--seed S] [--json]

Trains a three-layer 3D conv net (Conv3d -> InstanceNorm3d -> LeakyReLU, twice, then a 1x1x1 head) to segment a
bright sphere in noisy 16^3 volumes, with AdamW and nnU-Net's poly learning-rate schedule, and prints the loss.
The same seed gives the same losses. Exit code 1 if the final loss is not below the first one.

Options:
  --steps N   training steps (default 200)
  --seed S    seed for the data and the weights (default 0)
  --json      print the result as one JSON document on stdout`;

const SIZE = 16;
const BATCH = 2;
const POOL = 16;

/** A noisy volume with one bright sphere, and its mask. */
function sample(rng: Rng): { image: Float32Array; mask: Float32Array } {
  const image = new Float32Array(SIZE ** 3);
  const mask = new Float32Array(SIZE ** 3);
  const r = rng.uniformIn(2.5, 4.5);
  const c = [0, 1, 2].map(() => rng.uniformIn(r, SIZE - 1 - r));
  for (let z = 0, i = 0; z < SIZE; z++) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++, i++) {
        const inside = (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r;
        mask[i] = inside ? 1 : 0;
        image[i] = (inside ? 1 : 0) + rng.normal(0, 0.6);
      }
    }
  }
  return { image, mask };
}

/** The binding is loaded on use, so `hcc --help` and every other command work before the addon is built. */
async function loadTorch(): Promise<typeof Torch> {
  try {
    return await import('@hcc/torch');
  } catch (error) {
    throw new HccError(`cannot load @hcc/torch: ${(error as Error).message}`, { exitCode: ExitCode.setup, cause: error });
  }
}

function block(nn: typeof Torch.nn, cin: number, cout: number): Torch.nn.Sequential {
  return new nn.Sequential(new nn.Conv3d(cin, cout, 3, { padding: 1 }), new nn.InstanceNorm3d(cout, { affine: true }), new nn.LeakyReLU(0.01));
}

export const torchDemoCommand: Command = {
  name: 'torch-demo',
  summary: 'Train a tiny 3D conv net with the libtorch binding (a smoke test with a progress bar)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { steps: { type: 'string', default: '200' }, seed: { type: 'string', default: '0' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    const steps = Number(values.steps);
    const seed = Number(values.seed);
    if (!Number.isInteger(steps) || steps < 1) throw usageError(`--steps must be a positive integer, got '${values.steps}'`);
    if (!Number.isInteger(seed) || seed < 0) throw usageError(`--seed must be a non-negative integer, got '${values.seed}'`);

    const torch = await loadTorch();
    const { nn, optim } = torch;
    const rng = Rng.stream(seed, 'torch-demo');
    const pool = Array.from({ length: POOL }, () => sample(rng));
    torch.manualSeed(seed);
    const net = new nn.Sequential(block(nn, 1, 8), block(nn, 8, 8), new nn.Conv3d(8, 1, 1));
    const groups = optim.splitWeightDecay(net, 0.01);
    const opt = new optim.AdamW([groups.decay, groups.noDecay], { lr: 3e-3 });
    const schedule = new optim.PolyLRScheduler(opt, 3e-3, steps);
    const progress = createProgress({ label: 'torch-demo', total: steps, unit: 'steps', mode: values.json ? 'none' : undefined });
    const parameters = net.numParameters();
    const losses: number[] = [];
    const start = performance.now();
    try {
      for (let step = 0; step < steps; step++) {
        const loss = torch.tidy(() => {
          const items = Array.from({ length: BATCH }, (_, b) => pool[(step * BATCH + b) % POOL]);
          const image = torch.fromArray(concat(items.map((s) => s.image)), [BATCH, 1, SIZE, SIZE, SIZE]);
          const mask = torch.fromArray(concat(items.map((s) => s.mask)), [BATCH, 1, SIZE, SIZE, SIZE]);
          opt.zeroGrad();
          const l = torch.binaryCrossEntropyWithLogits(net.forward(image), mask);
          l.backward();
          opt.step();
          return l.item();
        });
        schedule.step();
        losses.push(loss);
        progress.tick(1, `loss ${loss.toFixed(4)}`);
        // Letting the event loop turn once per step is what keeps RSS flat (native finalizers run there).
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      net.dispose();
      opt.dispose();
    }
    const seconds = (performance.now() - start) / 1000;
    const tail = losses.slice(-10);
    const result = {
      steps,
      seed,
      firstLoss: losses[0],
      finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      msPerStep: (seconds * 1000) / steps,
      parameters,
      threads: torch.getNumThreads(),
    };
    progress.done(`final loss ${result.finalLoss.toFixed(4)}`);
    if (values.json) printJson(result);
    else {
      process.stdout.write(
        `trained ${result.parameters} parameters for ${steps} steps in ${seconds.toFixed(1)} s (${result.msPerStep.toFixed(1)} ms/step, ${result.threads} threads)\n` +
          `loss ${result.firstLoss.toFixed(4)} -> ${result.finalLoss.toFixed(4)} (mean of the last ${tail.length} steps)\n`,
      );
    }
    return result.finalLoss < result.firstLoss ? ExitCode.ok : ExitCode.failure;
  },
};

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
