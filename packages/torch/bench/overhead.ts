// Per-call overhead of the binding on 0-d tensors (1 thread), against libtorch's own floor (bench/reference.cc)
// and python3-torch when /usr/bin/python3 has torch. Run: node packages/torch/dist/bench/overhead.js [iterations]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as torch from '../src/index.js';
import { native } from '../src/native.js';
import { median, runReference } from './reference.js';

const iterations = Number(process.argv[2] ?? 200_000);
torch.setNumThreads(1);

function nsPerCall(body: (n: number) => void): number {
  const runs: number[] = [];
  for (let rep = 0; rep < 7; rep++) {
    const t0 = process.hrtime.bigint();
    body(iterations);
    runs.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  return median(runs.slice(2));
}

const a = torch.ones([]).keep();
const b = torch.ones([]).keep();
const rows: Record<string, number> = {
  emptyNativeCall: nsPerCall((n) => { for (let i = 0; i < n; i++) native.isGradEnabled(); }),
  item: nsPerCall((n) => { for (let i = 0; i < n; i++) a.item(); }),
  addInplace: nsPerCall((n) => { for (let i = 0; i < n; i++) a.add_(b); }),
  addThenDispose: nsPerCall((n) => { for (let i = 0; i < n; i++) a.add(b).dispose(); }),
  addInTidy100: nsPerCall((n) => {
    for (let i = 0; i < n; i += 100) torch.tidy(() => { for (let j = 0; j < 100; j++) a.add(b); });
  }),
  addLeftToGc: nsPerCall((n) => { for (let i = 0; i < n; i++) a.add(b); }),
};
const ref = runReference('overhead', String(iterations)) as { addInplaceNs: number; addNs: number };
let python: { addInplaceNs: number; addNs: number } | null = null;
if (existsSync('/usr/bin/python3')) {
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', `
import timeit, torch, json
torch.set_num_threads(1)
a = torch.ones(()); b = torch.ones(())
n = ${iterations}
ip = min(timeit.repeat('a.add_(b)', globals=globals(), number=n, repeat=5)) / n * 1e9
ad = min(timeit.repeat('a + b', globals=globals(), number=n, repeat=5)) / n * 1e9
print(json.dumps({"addInplaceNs": ip, "addNs": ad}))`], { encoding: 'utf8' });
    python = JSON.parse(out) as { addInplaceNs: number; addNs: number };
  } catch {
    python = null;
  }
}
const round = (x: number) => Math.round(x);
process.stdout.write(JSON.stringify({
  iterations,
  oursNs: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, round(v)])),
  cppNs: { addInplace: round(ref.addInplaceNs), add: round(ref.addNs) },
  pythonNs: python && { addInplace: round(python.addInplaceNs), add: round(python.addNs) },
}, null, 1) + '\n');
a.dispose();
b.dispose();
