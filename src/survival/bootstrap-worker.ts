/** Worker thread of the bootstrap engine (./bootstrap.ts): runs replicates [from, to) and posts them back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runReplicates, type StatisticRef } from './bootstrap.js';

const w = workerData as { ref: StatisticRef; data: unknown; n: number; from: number; to: number; seed: number; strata?: Int32Array };
let pending = 0;
const result = await runReplicates(w.ref, w.data, w.n, w.from, w.to, w.seed, w.strata, () => {
  if (++pending === 25) {
    parentPort!.postMessage({ progress: pending });
    pending = 0;
  }
});
parentPort!.postMessage({ progress: pending, result });
