// Shared by the PMN commands (train pmn, classify, evaluate pmn): the PMN needs the libtorch binding, which is
// loaded on use so `hcc --help` and every other command work before the addon is built.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode, HccError, usageError } from '../../util/errors.js';
import type { CohortFiles, TumourMode } from '../../pmn/api.js';

export async function loadPmn() {
  try {
    await import('@hcc/torch');
  } catch (error) {
    throw new HccError(`cannot load @hcc/torch (the PMN needs it): ${(error as Error).message}`, { exitCode: ExitCode.setup, cause: error });
  }
  return {
    api: await import('../../pmn/api.js'),
    evaluate: await import('../../pmn/evaluate.js'),
  };
}

/** A cohort folder (cohort.csv, images/ or crops/) as the PMN API takes it; masks from a folder or a segmentation model. */
export function cohortFiles(dir: string, option: string, masksDir?: string, segModel?: string): CohortFiles {
  const abs = resolve(dir);
  const csv = join(abs, 'cohort.csv');
  if (!existsSync(csv)) throw usageError(`${option} ${dir}: no cohort.csv in that folder (expected a cohort made by 'hcc cohort generate' or a study)`);
  const crops = join(abs, 'crops');
  return {
    csv,
    dir: abs,
    ...(existsSync(crops) ? { crops } : {}),
    ...(masksDir ? { masksDir: resolve(masksDir) } : {}),
    ...(segModel ? { segModel: resolve(segModel) } : {}),
  };
}

export function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw usageError(`${option} must be a non-negative integer, got '${value}'`);
  return n;
}

/** `--tumours largest|all`: the largest tumour (as trained, the default) or the mean over every tumour ≥ 1 cm. */
export function tumoursOption(value: string | undefined): TumourMode {
  if (value === undefined || value === 'largest' || value === 'all') return value ?? 'largest';
  throw usageError(`--tumours must be largest or all, got '${value}'`);
}
