// The addon is context-aware: it loads in worker_threads, each with its own thread cap, grad mode and counters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as torch from '../src/index.js';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.index).then((torch) => {
  torch.setNumThreads(1);
  torch.setGradEnabled(false);
  const w = torch.ones([2, 1, 3, 3, 3]).requiresGrad_();
  const y = torch.F.conv3d(torch.ones([1, 1, 4, 4, 4]), w, null, 1, 1);
  parentPort.postMessage({ threads: torch.getNumThreads(), sum: y.sum().item(), requiresGrad: y.requiresGrad,
    live: torch.memory().live });
}).catch((e) => parentPort.postMessage({ error: String(e) }));
`;

function runWorker(): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerSource, { eval: true, workerData: { index: new URL('../src/index.js', import.meta.url).href } });
    w.once('message', (m) => { resolve(m as Record<string, unknown>); void w.terminate(); });
    w.once('error', reject);
  });
}

test('two workers load the addon, cap their own threads and grad mode without touching the main thread', async () => {
  torch.setNumThreads(2);
  const [a, b] = await Promise.all([runWorker(), runWorker()]);
  for (const r of [a, b]) {
    assert.equal(r.error, undefined);
    assert.equal(r.threads, 1);
    assert.equal(r.requiresGrad, false);
    assert.equal(r.sum, 2 * (8 * 27 + 24 * 18 + 24 * 12 + 8 * 8)); // 3x3x3 box sums over a padded 4^3 cube, 2 filters
    assert.equal(r.live, 4);
  }
  assert.equal(torch.getNumThreads(), 2);
  assert.equal(torch.isGradEnabled(), true);
  assert.equal(torch.threadsPerWorker(64) >= 1, true);
});
