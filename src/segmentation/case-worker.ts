import { parentPort } from 'node:worker_threads';
import * as torch from '@hcc/torch';
import { fingerprintOne, preprocessOne, validateEndToEnd, type CaseJob } from './training-cases.js';

/** Worker thread of segmentation training's per-case passes: one case per message (training-cases.ts). */
parentPort!.on('message', (job: CaseJob) => {
  torch.setNumThreads(job.threads);
  const run = job.kind === 'fingerprint' ? fingerprintOne(job) : job.kind === 'preprocess' ? preprocessOne(job) : validateEndToEnd(job);
  run.then(
    (result) => parentPort!.postMessage({ ok: true, result }),
    (err: Error) => parentPort!.postMessage({ ok: false, error: `${job.kind} ${job.prefix}: ${err.message}` }),
  );
});
