import { parentPort } from 'node:worker_threads';
import { processImagingCase, type ImagingJob } from './imaging.js';

/** Worker thread of the study's imaging stage: one case per message (imaging.ts, processImagingCase). */
parentPort!.on('message', (job: ImagingJob) => {
  try {
    parentPort!.postMessage({ ok: true, result: processImagingCase(job) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: `${job.kind} case ${job.id}: ${(err as Error).message}` });
  }
});
