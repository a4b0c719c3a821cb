// The selective-scan custom op against the same recurrence written op by op (selectiveScanReference), forward
// plus backward, at the PMN block shape (L=512 tokens, D=128 channels, N=8). Run:
//   node packages/torch/dist/bench/scan.js [batch=1] [threads=2]
import * as torch from '../src/index.js';
import { median } from './reference.js';

const [batch = 1, threads = 2] = process.argv.slice(2).map(Number);
torch.setNumThreads(threads);
torch.manualSeed(0);
const [L, D, N] = [512, 128, 8];

function time(fn: typeof torch.selectiveScan, reps: number): { fwdMs: number; bwdMs: number } {
  const fwd: number[] = [];
  const bwd: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    torch.tidy(() => {
      const leaf = (t: torch.Tensor) => t.detach().requiresGrad_();
      const u = leaf(torch.randn([batch, L, D]));
      const delta = leaf(torch.randn([batch, L, D]));
      const A = leaf(torch.rand([D, N]).add(0.5).neg());
      const B = leaf(torch.randn([batch, L, N]));
      const C = leaf(torch.randn([batch, L, N]));
      const opts = { D: leaf(torch.randn([D])), z: leaf(torch.randn([batch, L, D])), deltaBias: leaf(torch.randn([D])) };
      const t0 = performance.now();
      const y = fn(u, delta, A, B, C, opts);
      const t1 = performance.now();
      y.sum().backward();
      const t2 = performance.now();
      if (r > 0) { fwd.push(t1 - t0); bwd.push(t2 - t1); }
    });
  }
  return { fwdMs: +median(fwd).toFixed(2), bwdMs: +median(bwd).toFixed(2) };
}

const custom = time(torch.selectiveScan, 10);
const opByOp = time(torch.selectiveScanReference, 2);
process.stdout.write(JSON.stringify({ shape: { batch, L, D, N }, threads, custom, opByOp,
  speedup: +((opByOp.fwdMs + opByOp.bwdMs) / (custom.fwdMs + custom.bwdMs)).toFixed(1) }, null, 1) + '\n');
