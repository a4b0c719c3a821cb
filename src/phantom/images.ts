import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { constants as zlib, gzipSync } from 'node:zlib';
import { casePaths, type CasePaths } from '../imaging/case.js';
import { decodeNifti } from '../imaging/nifti/read.js';
import { encodeNifti } from '../imaging/nifti/write.js';
import type { Volume } from '../imaging/volume.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import { generatePatient, patientIndex } from './cohort.js';
import { renderPatient } from './ct/render.js';
import type { CohortKind, ImageGrid, PatientRecord, RenderedCase, RenderOptions } from './patient.js';

/**
 * CT phantoms for a cohort: each patient's record goes to one of K worker threads, which renders the two phases
 * and the label map (src/phantom/ct) and writes images/<id>_{art,pv,label}.nii.gz. Rendering is a pure function
 * of the record, so the files are the same bit for bit whatever K is; at most K records are in flight, so
 * memory does not grow with N.
 */

/** A generated patient's case files: <out>/images/<id>_{art,pv,label}.nii.gz. */
export function imagePaths(out: string, id: string): CasePaths {
  return casePaths(join(out, 'images', id));
}

/** How a generated cohort's CT phantoms are rendered again from their seeds instead of being stored. */
export interface PhantomImageSource {
  cohort: CohortKind;
  seed: number;
  grid: ImageGrid;
  site: string | null;
}

/**
 * One case of a generated cohort rendered again from its seed, exactly as a reader of its stored files gets it:
 * the volumes pass through the NIfTI encoder and decoder in memory, which keep the int16/uint8 voxels but store
 * the affine in float32, so crops and measurements equal the stored images' bit for bit.
 */
export function renderStoredCase(source: PhantomImageSource, id: string): RenderedCase {
  const record = generatePatient(source.cohort, source.seed, patientIndex(source.cohort, id)).record;
  const c = renderPatient(record, { grid: source.grid, site: source.site });
  const asStored = (v: Volume) => decodeNifti(encodeNifti(v), `${id} (rendered from seed ${source.seed})`);
  return { art: asStored(c.art), pv: asStored(c.pv), label: asStored(c.label) };
}

/**
 * Writes the cases `ids` of a generated cohort to <out>/images/<id>_{art,pv,label}.nii.gz, the files its stored
 * images would be, rendered by `workers` threads; cases already there (an interrupted run) are kept.
 */
export async function writeCases(source: PhantomImageSource, ids: string[], out: string, workers: number): Promise<void> {
  const pool = await createImagePool(workers, { grid: source.grid, site: source.site }, out);
  try {
    for (const id of ids) {
      const paths = imagePaths(out, id);
      if ([paths.art, paths.pv, paths.label].every((p) => existsSync(p))) continue;
      await pool.submit(generatePatient(source.cohort, source.seed, patientIndex(source.cohort, id)).record);
    }
  } finally {
    await pool.close();
  }
}

/** Renders one patient and writes its three NIfTI files (what each worker does). */
export function renderAndWrite(record: PatientRecord, options: RenderOptions, out: string): void {
  const c = renderPatient(record, options);
  const paths = imagePaths(out, record.id);
  writeNiftiGz(paths.art, c.art);
  writeNiftiGz(paths.pv, c.pv);
  writeNiftiGz(paths.label, c.label);
}

/**
 * .nii.gz with deflate's run-length matching only (Z_RLE): in CT noise the full string search of level 1 finds
 * little to match, so this takes about 35% less CPU for files about 8% larger (BENCHMARKS.md, "Cohort
 * throughput"), and every gzip reader reads them.
 */
function writeNiftiGz(path: string, volume: Volume): void {
  writeFileAtomicSync(path, gzipSync(encodeNifti(volume), { level: 1, strategy: zlib.Z_RLE, chunkSize: 1 << 20 }));
}

export interface ImageJob {
  record: PatientRecord;
  options: RenderOptions;
  out: string;
}

export interface ImagePool {
  /** Queues a patient; resolves once a worker has taken it (backpressure for the generator loop). */
  submit(record: PatientRecord): Promise<void>;
  /** Waits for every queued patient, then stops the workers. Rejects with the first rendering error. */
  close(): Promise<void>;
}

export async function createImagePool(workers: number, options: RenderOptions, out: string): Promise<ImagePool> {
  if (!Number.isInteger(workers) || workers < 1) throw new HccError(`--workers must be a positive whole number, got ${workers}`);
  const script = new URL('./image-worker.js', import.meta.url);
  if (!existsSync(script)) throw new HccError(`image worker script missing: ${script.pathname} (run the TypeScript build)`);
  const pool = Array.from({ length: workers }, () => new Worker(script));
  const idle: Worker[] = [...pool];
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let failure: Error | null = null;
  let drained: (() => void) | null = null;
  const release = (w: Worker) => {
    inFlight--;
    idle.push(w);
    waiting.shift()?.();
    if (inFlight === 0) drained?.();
  };
  for (const w of pool) {
    w.on('message', (msg: { ok: boolean; error?: string }) => {
      if (!msg.ok && !failure) failure = new HccError(msg.error ?? 'CT phantom rendering failed');
      release(w);
    });
    w.on('error', (err) => {
      failure ??= err;
      release(w);
    });
  }
  return {
    async submit(record) {
      if (failure) throw failure;
      while (idle.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
      if (failure) throw failure;
      const w = idle.pop()!;
      inFlight++;
      w.postMessage({ record, options, out } satisfies ImageJob);
    },
    async close() {
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await Promise.all(pool.map((w) => w.terminate()));
      if (failure) throw failure;
    },
  };
}
