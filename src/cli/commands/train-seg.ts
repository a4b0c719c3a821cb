/**
 * `hcc train seg --data <cohort-dir> --out <model-dir> [--fold k] [--epochs n] [--resume] [--preset P]
 * [--pv-only] [--splits splits.json] [--seed S] [--device D] [--workers n] [--json]`: trains the liver/tumour
 * cascade (or the portal-venous-only liver model) on a cohort's images.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { printJson, type Command } from '../command.js';
import { hashFile } from '../../util/hash.js';
import { HccError, usageError } from '../../util/errors.js';
import { SEG_PRESETS, trainSegmentation } from '../../segmentation/pipeline.js';

const USAGE = `Usage: hcc train seg --data <cohort-dir> --out <model-dir> [--fold k] [--epochs n] [--lowres-epochs n]
                     [--resume] [--preset test|demo|default] [--pv-only] [--stage 1|2] [--splits splits.json] [--seed S]
                     [--cascade-input none|reference|stage1] [--device cpu|cuda[:N]] [--workers n] [--json]

<cohort-dir> holds images/<id>_{art,pv,label}.nii.gz (hcc cohort generate) or is itself that folder. Trains
stage 1 (liver, low resolution, whole scan) and stage 2 (liver + tumour inside the liver box) on arterial +
portal-venous input; --pv-only trains a single-phase liver model instead. Checkpoints are written after every
epoch; --resume continues a killed run exactly where it stopped.

Options:
  --fold k        fold to train (default 0); 'all' trains every fold
  --folds n       number of folds in the k-fold split (default 5), unless --splits is given
  --splits FILE   splits.json of a study: {"folds": [{"train": [ids], "val": [ids]}, ...]}
  --epochs n      epochs of every stage (the preset's by default: test 4, demo 12, default 170 for stage 2 and
                  50 for stage 1)
  --lowres-epochs n  epochs of stage 1, overriding --epochs there (stage 1 only places stage 2's box)
  --iters n       iterations per epoch (test 8, demo 20, default 25)
  --preset P      test (seconds), demo (minutes), default (the benchmarked model: about an hour on 2 cores
                  with 100 cases, validation and the postprocessing choice included)
  --stage s       train only stage s of the cascade (default both): stage 2 learns from the reference liver
                  box, so two processes, one per stage, can train the same model folder at once
  --cascade-input stage 2's extra input channel, stage 1's liver (nnU-Net's 3d_cascade_fullres): none (default;
                  docs/segmentation.md "CPU departures" says why), reference (trained on the reference liver
                  degraded through stage 1's grid, so both stages can train at once) or stage1 (trained on the
                  trained stage 1's own predictions: train stage 1 first)
  --seed S        seed of every random step (default 12345)
  --device D      where the network trains: cpu (default) or cuda[:N] (@hcc/torch built against a CUDA libtorch,
                  docs/torch.md); patches are cut and augmented on the CPU
  --workers n     worker threads reading, fingerprinting and preprocessing the cases before training, and
                  segmenting the validation cases after it (default: the cores); the model does not depend on it
  --json          print the training summary as JSON`;

function casePrefixes(data: string): string[] {
  const dir = existsSync(join(data, 'images')) ? join(data, 'images') : data;
  if (!existsSync(dir)) throw new HccError(`--data ${data}: no such folder`);
  const prefixes = readdirSync(dir).filter((f) => f.endsWith('_label.nii.gz')).sort().map((f) => join(dir, f.slice(0, -'_label.nii.gz'.length)));
  if (prefixes.length < 2) throw new HccError(`--data ${data}: found ${prefixes.length} labelled case(s) (<id>_label.nii.gz); need at least 2`);
  return prefixes;
}

export const trainSegCommand: Command = {
  name: 'train seg',
  summary: 'Train the liver/tumour segmentation cascade (nnU-Net recipe, CPU-sized) on a cohort',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' }, out: { type: 'string' }, fold: { type: 'string' }, folds: { type: 'string' }, splits: { type: 'string' },
        epochs: { type: 'string' }, iters: { type: 'string' }, preset: { type: 'string' }, seed: { type: 'string' },
        stage: { type: 'string' }, resume: { type: 'boolean' }, 'pv-only': { type: 'boolean' }, json: { type: 'boolean' },
        device: { type: 'string' }, 'cascade-input': { type: 'string' }, 'lowres-epochs': { type: 'string' }, workers: { type: 'string' },
      },
    });
    if (!values.data || !values.out) throw usageError('--data <cohort-dir> and --out <model-dir> are required');
    const int = (name: string, v: string | undefined, min: number) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw usageError(`--${name}: expected an integer >= ${min}, got '${v}'`);
      return n;
    };
    const preset = (values.preset ?? 'default') as keyof typeof SEG_PRESETS;
    if (!(preset in SEG_PRESETS)) throw usageError(`--preset: expected test, demo or default, got '${values.preset}'`);
    const cascade = values['cascade-input'];
    if (cascade !== undefined && !['none', 'reference', 'stage1'].includes(cascade)) {
      throw usageError(`--cascade-input: expected none, reference or stage1, got '${cascade}'`);
    }
    const cases = casePrefixes(values.data);
    let splits: Array<{ train: string[]; val: string[] }> | undefined;
    if (values.splits) {
      const parsed = JSON.parse(readFileSync(values.splits, 'utf8'));
      splits = parsed.folds ?? parsed;
      if (!Array.isArray(splits)) throw new HccError(`${values.splits}: expected {"folds": [{"train": [...], "val": [...]}]}`);
    }
    const nFolds = int('folds', values.folds, 2) ?? 5;
    const folds = values.fold === 'all' ? Array.from({ length: splits?.length ?? Math.min(nFolds, cases.length) }, (_, i) => i) : [int('fold', values.fold, 0) ?? 0];
    const cohortJson = join(values.data, 'cohort.json');
    const provenance: Record<string, unknown> = existsSync(cohortJson)
      ? { synthetic: true, cohort: values.data, cohortHash: await hashFile(cohortJson) }
      : { synthetic: false, data: values.data };
    const pvOnly = values['pv-only'] ?? false;
    const result = await trainSegmentation({
      cases, out: values.out, folds, nFolds, splits, preset, resume: values.resume, seed: int('seed', values.seed, 0),
      phases: pvOnly ? ['portal_venous'] : ['arterial', 'portal_venous'], cascade: !pvOnly,
      stages: values.stage === undefined ? undefined : [int('stage', values.stage, 1)!],
      config: {
        ...(values.epochs ? { epochs: int('epochs', values.epochs, 1), lowresEpochs: null } : {}),
        ...(values['lowres-epochs'] ? { lowresEpochs: int('lowres-epochs', values['lowres-epochs'], 1) } : {}), ...(values.iters ? { itersPerEpoch: int('iters', values.iters, 1) } : {}),
        ...(cascade === undefined ? {} : cascade === 'none' ? { cascadeInput: false } : { cascadeInput: true, cascadeInputFrom: cascade as 'reference' | 'stage1' }),
      },
      provenance, device: values.device, workers: int('workers', values.workers, 1),
    });
    const summary = {
      out: result.out, finished: result.finished,
      stages: result.stages.map((s) => ({
        role: s.role, spacing: s.plans.configuration.spacing, patch: s.plans.configuration.patch_size,
        features: s.plans.configuration.architecture.arch_kwargs.features_per_stage,
        folds: Object.fromEntries(Object.entries(s.folds).map(([f, v]) => [f, { finished: v.finished, epochs: v.log.length, last: v.log.at(-1) ?? null, validation: v.validation ?? null }])),
      })),
    };
    if (values.json) printJson(summary);
    else process.stdout.write(`${result.out}: ${result.finished ? 'trained' : 'stopped (resume with --resume)'}\n`);
    return 0;
  },
};
