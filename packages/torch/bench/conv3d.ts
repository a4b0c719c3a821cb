// conv3d forward/backward throughput at U-Net shapes: this binding against the same ops in a plain C++ libtorch
// program (bench/reference.cc). Alternates the two processes for `rounds` rounds and reports the best time of all repetitions.
// Run: node packages/torch/dist/bench/conv3d.js [rounds=3] [reps=5] [threads=1]
// Ratios are reference/ours (1.0 = as fast as C++). On a loaded shared machine compare the CPU-time ratio at
// 1 thread (work done); wall-clock ratios there mostly measure the neighbours.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/index.js';
import { runReference } from './reference.js';

// Best of all repetitions and rounds: on a shared machine interference only ever adds time.
const median = (xs: number[]): number => Math.min(...xs);

// Same list as bench/reference.cc: nnU-Net-like 3d_fullres stages, batch 2, 3x3x3 kernels, padding 1.
const SHAPES = [
  { name: 'enc0 1->32 @64^3', n: 2, cin: 1, cout: 32, d: 64, h: 64, w: 64 },
  { name: 'enc1 32->32 @32^3', n: 2, cin: 32, cout: 32, d: 32, h: 32, w: 32 },
  { name: 'enc2 64->64 @16^3', n: 2, cin: 64, cout: 64, d: 16, h: 16, w: 16 },
  { name: 'bott 128->128 @8^3', n: 2, cin: 128, cout: 128, d: 8, h: 8, w: 8 },
];

interface Timing { name: string; fwdMs: number; bwdMs: number; fwdCpuMs: number; bwdCpuMs: number }

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };

function measureOurs(threads: number, reps: number): Timing[] {
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  return SHAPES.map((s) => torch.tidy(() => {
    const x = torch.randn([s.n, s.cin, s.d, s.h, s.w]).requiresGrad_();
    const w = torch.randn([s.cout, s.cin, 3, 3, 3]).mul(0.1).detach().requiresGrad_();
    const b = torch.zeros([s.cout]).requiresGrad_();
    const fwd: number[] = [];
    const bwd: number[] = [];
    const fwdCpu: number[] = [];
    const bwdCpu: number[] = [];
    for (let r = 0; r < reps + 2; r++) {
      torch.tidy(() => {
        const c0 = cpuMs();
        const t0 = performance.now();
        const y = torch.F.conv3d(x, w, b, 1, 1);
        const t1 = performance.now();
        const c1 = cpuMs();
        const g = torch.onesLike(y);
        const c2 = cpuMs();
        const t2 = performance.now();
        y.backward(g);
        const t3 = performance.now();
        const c3 = cpuMs();
        x.grad = null; w.grad = null; b.grad = null;
        if (r >= 2) { fwd.push(t1 - t0); bwd.push(t3 - t2); fwdCpu.push(c1 - c0); bwdCpu.push(c3 - c2); }
      });
    }
    return { name: s.name, fwdMs: median(fwd), bwdMs: median(bwd), fwdCpuMs: median(fwdCpu), bwdCpuMs: median(bwdCpu) };
  }));
}

function gflop(s: (typeof SHAPES)[number]): number {
  return (2 * s.n * s.cout * s.d * s.h * s.w * s.cin * 27) / 1e9;
}

function main(): void {
  const [rounds = 3, reps = 5, threads = 1] = process.argv.slice(2).map(Number);
  const ours: Timing[][] = [];
  const ref: Timing[][] = [];
  for (let r = 0; r < rounds; r++) {
    ref.push((runReference('conv', String(threads), String(reps)) as { shapes: Timing[] }).shapes);
    // A fresh process per round, like the reference, so allocator state is comparable.
    ours.push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(threads), String(reps)], { encoding: 'utf8' })) as Timing[]);
  }
  const med = (runs: Timing[][], i: number, k: keyof Omit<Timing, 'name'>) => median(runs.map((o) => o[i][k]));
  const side = (flop: number, i: number, wall: 'fwdMs' | 'bwdMs', cpu: 'fwdCpuMs' | 'bwdCpuMs') => ({
    oursMs: +med(ours, i, wall).toFixed(2), refMs: +med(ref, i, wall).toFixed(2),
    oursGflops: +(flop / med(ours, i, wall) * 1e3).toFixed(2), refGflops: +(flop / med(ref, i, wall) * 1e3).toFixed(2),
    wallRatio: +(med(ref, i, wall) / med(ours, i, wall)).toFixed(3),
    oursCpuMs: +med(ours, i, cpu).toFixed(2), refCpuMs: +med(ref, i, cpu).toFixed(2),
    cpuRatio: +(med(ref, i, cpu) / med(ours, i, cpu)).toFixed(3),
  });
  const rows = SHAPES.map((s, i) => ({ shape: s.name, gflopFwd: +gflop(s).toFixed(3),
    fwd: side(gflop(s), i, 'fwdMs', 'fwdCpuMs'), bwd: side(2 * gflop(s), i, 'bwdMs', 'bwdCpuMs') }));
  process.stdout.write(JSON.stringify({ threads, rounds, reps, rows }, null, 1) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--child') {
    process.stdout.write(JSON.stringify(measureOurs(Number(process.argv[3]), Number(process.argv[4]))));
  } else {
    main();
  }
}
