/**
 * `hcc cohort generate`: a synthetic cohort from the documented generative model (clinical-model.md §6,
 * docs/cohort.md): cohort.csv (what a study sees), truth.csv (what only the simulation knows), cohort.json
 * (parameters and file hashes) and, unless --no-images, two-phase CT phantoms with label maps.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { usageError } from '../../util/errors.js';
import { generateCohort } from '../../phantom/generate.js';
import { COHORT_KINDS, IMAGE_GRIDS, type CohortKind, type ImageGrid } from '../../phantom/patient.js';

const USAGE = `Usage: hcc cohort generate --cohort resection|iat --n N --seed S --out DIR
         [--grid clinical|small|tiny] [--no-images] [--workers K] [--site NAME] [--json]

Writes DIR/cohort.csv (one row per patient: clinical variables with units in the column names, treatment and
overall survival for iat, the observed pathology label 'proliferative' for resection, and every derived stage),
DIR/truth.csv (P, u, x1..x8, eta; iat also t_tace, t_haic, log_hr_haic), DIR/cohort.json (parameters and
SHA-256 of each file) and DIR/images/<id>_{art,pv,label}.nii.gz. Column dictionary: docs/cohort.md.

  --cohort      resection (pathology label, 5% label noise) or iat (TACE/HAIC with confounding, OS)
  --n           number of patients
  --seed        non-negative integer; the same seed and options give bit-identical files
  --grid        image grid: clinical (512², 0.6-0.9 mm, default), small (1.5x1.5x2.5 mm, for demos), tiny (tests)
  --no-images   clinical data only (fast: tens of thousands of patients per second)
  --workers     worker threads for the images (default: available cores); the output does not depend on it
  --site        scanner site name (noise, kernel, slice thickness, contrast timing) for external cohorts
  --json        print a summary (fractions, file hashes) as JSON`;

function integer(value: string | undefined, name: string, min: number): number {
  if (value === undefined) throw usageError(`--${name} is required\n\n${USAGE}`);
  const x = Number(value);
  if (!Number.isSafeInteger(x) || x < min) throw usageError(`--${name} must be a whole number of at least ${min}, got '${value}'`);
  return x;
}

export const cohortGenerateCommand: Command = {
  name: 'cohort generate',
  summary: 'Synthetic HCC cohort with known truth: clinical data, stages, outcomes and CT phantoms',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        cohort: { type: 'string' },
        n: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        grid: { type: 'string', default: 'clinical' },
        'no-images': { type: 'boolean', default: false },
        workers: { type: 'string' },
        site: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length > 0) throw usageError(`unexpected argument '${positionals[0]}'`);
    const cohort = values.cohort as CohortKind;
    if (!COHORT_KINDS.includes(cohort)) throw usageError(`--cohort must be one of ${COHORT_KINDS.join(', ')}, got '${values.cohort ?? ''}'`);
    const grid = values.grid as ImageGrid;
    if (!IMAGE_GRIDS.includes(grid)) throw usageError(`--grid must be one of ${IMAGE_GRIDS.join(', ')}, got '${values.grid}'`);
    const n = integer(values.n, 'n', 1);
    const seed = integer(values.seed, 'seed', 0);
    if (!values.out) throw usageError(`--out DIR is required\n\n${USAGE}`);
    const workers = values.workers === undefined ? availableParallelism() : integer(values.workers, 'workers', 1);
    const images = !values['no-images'];
    const site = values.site ?? null;
    const summary = await generateCohort({
      cohort,
      n,
      seed,
      out: values.out,
      images,
      grid,
      site,
      workers,
      progress: !values.json || process.stderr.isTTY,
    });
    if (values.json) printJson(summary);
    else {
      const extra = summary.haicFraction !== undefined ? `, HAIC ${(summary.haicFraction * 100).toFixed(1)}%, events ${(summary.eventFraction! * 100).toFixed(1)}%` : '';
      process.stdout.write(`wrote ${n} ${cohort} patients to ${values.out} (proliferative ${(summary.proliferativeTrue * 100).toFixed(1)}%${extra})\n`);
    }
    return 0;
  },
};
