import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { hashJson } from '../util/hash.js';
import { HccError } from '../util/errors.js';

/**
 * The study's stages are cached by the hash of their inputs: the config slice a stage reads plus the result
 * hashes of the stages it depends on. A stage folder holds `result.json` (its JSON-serializable result) and
 * `stage.json` (written last, so a killed stage is never mistaken for a finished one). Rerunning a study
 * reuses every stage whose inputs are unchanged and recomputes the rest downstream.
 */
export interface StageRecord {
  stage: string;
  inputHash: string;
  resultHash: string;
  startedAt: string;
  /** Wall time of the sitting that finished the stage. */
  seconds: number;
  /** All sittings together (a killed stage resumed later adds its earlier sittings); absent in stage folders written before it was recorded. */
  compute?: StageCompute;
}

/**
 * Compute spent on a stage. CPU seconds are the whole process's (worker threads and libtorch's threads included),
 * so they measure the work whatever the core count; wall seconds measure the wait.
 */
export interface StageCompute {
  wallSeconds: number;
  cpuSeconds: number;
  sittings: number;
}

/** The study's total compute; stages from before compute was recorded count their last sitting's wall time only. */
export function sumCompute(records: StageRecord[]): StageCompute {
  return records.reduce<StageCompute>(
    (t, r) => ({ wallSeconds: t.wallSeconds + (r.compute?.wallSeconds ?? r.seconds), cpuSeconds: t.cpuSeconds + (r.compute?.cpuSeconds ?? 0), sittings: Math.max(t.sittings, r.compute?.sittings ?? 1) }),
    { wallSeconds: 0, cpuSeconds: 0, sittings: 0 },
  );
}

/** How often an unfinished stage saves its running compute total, so a kill loses at most this much of it. */
const COMPUTE_SAVE_MS = 30_000;

function cpuSecondsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface StageOutcome<T> {
  result: T;
  record: StageRecord;
  cached: boolean;
}

export interface Stage<T> {
  name: string;
  /** Bumped whenever the stage's code changes what it computes, so older cached results are not reused. */
  version: number;
  /** Everything the stage's output depends on; hashed to decide whether a cached result is still valid. */
  inputs: unknown;
  /** Does the work; files go under `dir`, which is empty at the start unless an interrupted run is resumed. */
  run(dir: string): Promise<T>;
}

export function stageDir(outDir: string, name: string): string {
  return join(outDir, 'stages', name);
}

export async function runStage<T>(outDir: string, stage: Stage<T>, log: (line: string) => void): Promise<StageOutcome<T>> {
  const dir = stageDir(outDir, stage.name);
  const inputHash = hashJson({ inputs: stage.inputs, version: stage.version });
  const marker = join(dir, 'stage.json');
  if (existsSync(marker)) {
    const record = JSON.parse(readFileSync(marker, 'utf8')) as StageRecord;
    if (record.inputHash === inputHash) {
      const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as T;
      if (hashJson(result) !== record.resultHash) {
        throw new HccError(`${join(dir, 'result.json')}: its content does not match the hash recorded in stage.json; delete ${dir} to recompute the stage`);
      }
      log(`stage ${stage.name}: cached (inputs ${inputHash.slice(0, 12)})`);
      return { result, record, cached: true };
    }
  }
  // A folder started with the same inputs but never finished (killed) is kept, so stages that checkpoint (PMN
  // and segmentation training) resume; a folder from other inputs is cleared.
  const startedWith = join(dir, 'stage.inputs');
  const resuming = existsSync(startedWith) && readFileSync(startedWith, 'utf8') === inputHash && !existsSync(marker);
  if (!resuming) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(startedWith, inputHash);
  }
  log(`stage ${stage.name}: ${resuming ? 'resuming' : 'running'}`);
  const started = new Date();
  const computeFile = join(dir, 'compute.json');
  const earlier: StageCompute = resuming && existsSync(computeFile) ? (JSON.parse(readFileSync(computeFile, 'utf8')) as StageCompute) : { wallSeconds: 0, cpuSeconds: 0, sittings: 0 };
  const t0 = performance.now();
  const c0 = cpuSecondsNow();
  const compute = (): StageCompute => ({
    wallSeconds: earlier.wallSeconds + (performance.now() - t0) / 1000,
    cpuSeconds: earlier.cpuSeconds + cpuSecondsNow() - c0,
    sittings: earlier.sittings + 1,
  });
  const saveCompute = () => writeJsonAtomicSync(computeFile, compute());
  const timer = setInterval(saveCompute, COMPUTE_SAVE_MS);
  timer.unref();
  let result: T;
  try {
    result = await stage.run(dir);
  } finally {
    clearInterval(timer);
    saveCompute();
  }
  const record: StageRecord = {
    stage: stage.name,
    inputHash,
    resultHash: hashJson(result),
    startedAt: started.toISOString(),
    seconds: (performance.now() - t0) / 1000,
    compute: compute(),
  };
  writeJsonAtomicSync(join(dir, 'result.json'), result);
  writeJsonAtomicSync(marker, record);
  log(`stage ${stage.name}: done in ${record.seconds.toFixed(1)} s (${compute().cpuSeconds.toFixed(0)} CPU-s${earlier.sittings > 0 ? ` over ${earlier.sittings + 1} sittings` : ''})`);
  return { result, record, cached: false };
}
