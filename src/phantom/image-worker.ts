import { parentPort } from 'node:worker_threads';
import { renderAndWrite, type ImageJob } from './images.js';

/** Worker thread of the image pool (images.ts): renders and writes one patient per message. */
parentPort!.on('message', (job: ImageJob) => {
  try {
    renderAndWrite(job.record, job.options, job.out);
    parentPort!.postMessage({ ok: true });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: `${job.record.id}: ${(err as Error).message}` });
  }
});
