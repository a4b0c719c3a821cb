/** Worker side of DecodePool: decodes JPEG 2000 / JPEG-LS frames with the WASM codecs, one message at a time. */
import { parentPort } from 'node:worker_threads';
import { decodeJpeg2000, decodeJpegLs } from './wasm.js';

parentPort!.on('message', async (job: { id: number; kind: 'j2k' | 'jls'; bytes: Uint8Array }) => {
  try {
    const frame = await (job.kind === 'j2k' ? decodeJpeg2000(job.bytes) : decodeJpegLs(job.bytes));
    parentPort!.postMessage({ id: job.id, frame }, [frame.bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message });
  }
});
