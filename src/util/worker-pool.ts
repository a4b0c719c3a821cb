import { Worker } from 'node:worker_threads';
import { HccError } from './errors.js';

/**
 * Per-case work (crops, measurements, segmentation) is a pure function of the case's files, so one machine runs
 * it on K worker threads. `mapInWorkers` sends each job to the module at `script` (a worker that answers every
 * message with `{ ok: true, result }` or `{ ok: false, error }`) and returns the results in job order, so the
 * output never depends on K or on scheduling.
 */
export interface WorkerReply<R> {
  ok: boolean;
  result?: R;
  error?: string;
}

export async function mapInWorkers<J, R>(script: URL, jobs: J[], workers: number, onDone?: () => void): Promise<R[]> {
  const results = new Array<R>(jobs.length);
  if (jobs.length === 0) return results;
  const pool = Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, () => new Worker(script));
  let next = 0;
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= jobs.length) return resolve();
              const index = next++;
              worker.once('message', (reply: WorkerReply<R>) => {
                if (!reply.ok) return reject(new HccError(reply.error ?? 'a worker job failed'));
                results[index] = reply.result as R;
                onDone?.();
                send();
              });
              worker.postMessage(jobs[index]);
            };
            worker.once('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}
