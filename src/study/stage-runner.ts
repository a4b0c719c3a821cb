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
  seconds: number;
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
  const t0 = performance.now();
  const result = await stage.run(dir);
  const record: StageRecord = {
    stage: stage.name,
    inputHash,
    resultHash: hashJson(result),
    startedAt: started.toISOString(),
    seconds: (performance.now() - t0) / 1000,
  };
  writeJsonAtomicSync(join(dir, 'result.json'), result);
  writeJsonAtomicSync(marker, record);
  log(`stage ${stage.name}: done in ${record.seconds.toFixed(1)} s`);
  return { result, record, cached: false };
}
