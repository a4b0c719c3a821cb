/**
 * Checkpoint save/load speed at nnU-Net scale: a state dict shaped like nnU-Net's 3d_fullres PlainConvUNet
 * (6 stages, 32..320 features, two 3x3x3 convs per stage, InstanceNorm, transposed-conv decoder; ~31 M float32
 * parameters, ~125 MB), saved with our writer and loaded with our reader, against python3-torch's torch.save /
 * torch.load of the same file when /usr/bin/python3 has torch.
 *
 *   node packages/torch/dist/bench/serialization.js [--runs 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { manualSeed } from '../src/runtime.js';
import { randn } from '../src/gen/ops.js';
import { dispose, tidy } from '../src/scope.js';
import type { Tensor } from '../src/tensor.js';
import { load, loadRaw, save } from '../src/serialization/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

function plainConvUNetStateDict(): Record<string, Tensor> {
  const features = [32, 64, 128, 256, 320, 320];
  const sd: Record<string, Tensor> = {};
  const conv = (prefix: string, cin: number, cout: number): void => {
    sd[`${prefix}.conv.weight`] = randn([cout, cin, 3, 3, 3]);
    sd[`${prefix}.conv.bias`] = randn([cout]);
    sd[`${prefix}.norm.weight`] = randn([cout]);
    sd[`${prefix}.norm.bias`] = randn([cout]);
  };
  features.forEach((f, s) => {
    conv(`encoder.stages.${s}.0.convs.0`, s === 0 ? 1 : features[s - 1], f);
    conv(`encoder.stages.${s}.0.convs.1`, f, f);
  });
  for (let s = 0; s < features.length - 1; s++) {
    const below = features[features.length - 1 - s];
    const f = features[features.length - 2 - s];
    sd[`decoder.transpconvs.${s}.weight`] = randn([below, f, 2, 2, 2]);
    sd[`decoder.transpconvs.${s}.bias`] = randn([f]);
    conv(`decoder.stages.${s}.convs.0`, 2 * f, f);
    conv(`decoder.stages.${s}.convs.1`, f, f);
    sd[`decoder.seg_layers.${s}.weight`] = randn([3, f, 1, 1, 1]);
    sd[`decoder.seg_layers.${s}.bias`] = randn([3]);
  }
  return sd;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const dir = mkdtempSync(join(tmpdir(), 'hcc-torch-bench-'));
try {
  manualSeed(0);
  const sd = tidy(() => plainConvUNetStateDict());
  const ours = join(dir, 'ours.pth');
  const numel = Object.values(sd).reduce((n, t) => n + t.numel(), 0);
  const rows: Array<[string, number]> = [];
  rows.push(['save (ours)', median(Array.from({ length: runs }, () => time(() => save({ network_weights: sd }, ours))))]);
  rows.push(['loadRaw (ours, host data)', median(Array.from({ length: runs }, () => time(() => loadRaw(ours))))]);
  rows.push(['load (ours, native tensors)', median(Array.from({ length: runs }, () => time(() => tidy(() => void load(ours)))))]);
  let python = '';
  try {
    const script = `
import sys, time, torch
path, runs = sys.argv[1], int(sys.argv[2])
def med(f):
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); f(); ts.append((time.perf_counter() - t) * 1000)
    return sorted(ts)[len(ts) // 2]
ck = torch.load(path)
print(med(lambda: torch.load(path)), med(lambda: torch.save(ck, path + '.py')))`;
    const [pyLoad, pySave] = execFileSync('/usr/bin/python3', ['-c', script, ours, String(runs)], { encoding: 'utf8' }).trim().split(' ').map(Number);
    rows.push(['torch.load (python3-torch) of our file', pyLoad], ['torch.save (python3-torch)', pySave]);
    rows.push(['load (ours) of the python-written file', median(Array.from({ length: runs }, () => time(() => tidy(() => void load(ours + '.py')))))]);
    python = `, python3-torch ${execFileSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).trim()}`;
  } catch {
    python = ' (python3-torch not available: no reference)';
  }
  const mb = statSync(ours).size / 1e6;
  process.stdout.write(`state dict: ${Object.keys(sd).length} tensors, ${(numel / 1e6).toFixed(1)} M parameters, ${mb.toFixed(0)} MB; median of ${runs} runs${python}\n`);
  process.stdout.write('| operation | median ms | MB/s |\n|---|---|---|\n');
  for (const [name, ms] of rows) process.stdout.write(`| ${name} | ${ms.toFixed(0)} | ${(mb / (ms / 1000)).toFixed(0)} |\n`);
  dispose(sd);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
