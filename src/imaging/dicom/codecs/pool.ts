/**
 * JPEG 2000 and JPEG-LS decoding spread over worker threads. These codecs cost 50-250 ms per 512x512 slice,
 * nearly all of a compressed series' read time, and slices are independent, so a series decodes about as many
 * times faster as there are cores (not measured: the development VM has 2 busy cores). HCC_DECODE_THREADS
 * sets the thread count (1 turns the pool off).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DecodedFrame } from './wasm.js';

export type PoolCodec = 'j2k' | 'jls';

interface Pending {
  resolve(frame: DecodedFrame): void;
  reject(err: Error): void;
}

/**
 * Threads to use for `jobs` independent frames. HCC_DECODE_THREADS wins; otherwise one per core up to 8, but
 * none on machines with fewer than 4 cores, where the main thread and other work already fill them.
 */
export function decodeThreads(jobs: number): number {
  const env = Number(process.env.HCC_DECODE_THREADS);
  const cores = availableParallelism();
  const cap = Number.isInteger(env) && env > 0 ? env : cores >= 4 ? Math.min(8, cores) : 1;
  return Math.max(1, Math.min(cap, jobs));
}

export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private turn = 0;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./pool-worker.js', import.meta.url));
      worker.on('message', (msg: { id: number; frame?: DecodedFrame; error?: string }) => {
        const job = this.pending.get(msg.id);
        if (!job) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) job.reject(new Error(msg.error));
        else job.resolve({ info: msg.frame!.info, bytes: new Uint8Array(msg.frame!.bytes) });
      });
      worker.on('error', (err) => {
        for (const job of this.pending.values()) job.reject(err);
        this.pending.clear();
      });
      this.workers.push(worker);
    }
  }

  decode(kind: PoolCodec, bytes: Uint8Array): Promise<DecodedFrame> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A copy: the frame is usually a view into a whole file's buffer, which must not be transferred.
      const copy = bytes.slice();
      worker.postMessage({ id, kind, bytes: copy }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
