import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { usageError } from '../../util/errors.js';
import { printJson, type Command } from '../command.js';
import { cohortFiles, loadPmn, positiveInt } from './pmn-shared.js';

const USAGE = `hcc train pmn --resection DIR --out MODEL_DIR [--iat DIR] [--splits splits.json] [--epochs N]
                [--resume] [--folds K] [--seed S] [--baselines none|features|all] [--masks DIR]
                [--seg-model DIR] [--config config.json] [--json]

Trains the Prototype Mamba Net (docs/pmn.md): proliferative-subtype classification on the resection cohort
(pathology label) and a Cox risk on the iat cohort, with prototype pushes and a last-layer refit. Cohort
folders hold cohort.csv and images/<id>_{art,pv,label}.nii.gz (or pre-stored crops/<id>.crop); crops made from
the NIfTIs are cached in MODEL_DIR/cache by content hash.

  --resection DIR   resection cohort (needs the 'proliferative' column)
  --iat DIR         iat cohort (os_months, os_event) for the Cox head; without it the Cox head stays 0
  --out DIR         model folder: model.json, model.pth (torch.load-able), prototypes/*.png, checkpoint.pth
  --splits FILE     a study's splits.json; default: a stratified 7:3 split from --seed, kept in model.json
  --epochs N        training epochs (default 60; pushes at 20, 40 and the last epoch)
  --resume          continue from MODEL_DIR/checkpoint.pth
  --folds K         also K-fold cross-validation on the training split (models in MODEL_DIR/fold_<k>)
  --seed S          seed for the split, the initial weights, batches and augmentation (default 0)
  --baselines B     also train baselines on the same cases: 'features' (radiomics, clinical), 'all' (+ 3D CNN)
  --masks DIR       predicted masks DIR/<id>.nii.gz instead of the cohort's label maps
  --seg-model DIR   masks predicted by a segmentation model ('hcc train seg'); use the same at scoring time
  --config FILE     JSON {"model": {...PmnConfig}, "training": {...TrainingConfig}} overrides (docs/pmn.md)
  --json            print the summary as JSON`;

export const trainPmnCommand: Command = {
  name: 'train pmn',
  summary: 'Train the Prototype Mamba Net (proliferative subtype + imaging risk score, with prototypes)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        resection: { type: 'string' }, iat: { type: 'string' }, out: { type: 'string' }, splits: { type: 'string' },
        epochs: { type: 'string' }, resume: { type: 'boolean', default: false }, folds: { type: 'string' }, seed: { type: 'string' },
        baselines: { type: 'string', default: 'none' }, masks: { type: 'string' }, 'seg-model': { type: 'string' },
        config: { type: 'string' }, json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'\n\n${USAGE}`);
    if (!values.resection || !values.out) throw usageError(`--resection and --out are required\n\n${USAGE}`);
    if (values['seg-model'] && values.masks) throw usageError('give either --masks or --seg-model, not both');
    if (!['none', 'features', 'all'].includes(values.baselines!)) throw usageError(`--baselines must be none, features or all, got '${values.baselines}'`);
    let overrides: { model?: object; training?: object } = {};
    if (values.config) {
      try {
        overrides = JSON.parse(readFileSync(values.config, 'utf8')) as typeof overrides;
      } catch (err) {
        throw usageError(`--config ${values.config}: ${(err as Error).message}`);
      }
    }
    const epochs = positiveInt(values.epochs, '--epochs');
    const seed = positiveInt(values.seed, '--seed');
    const { api } = await loadPmn();
    const summary = await api.trainPmnModel({
      resection: cohortFiles(values.resection, '--resection', values.masks, values['seg-model']),
      ...(values.iat ? { iat: cohortFiles(values.iat, '--iat', values.masks, values['seg-model']) } : {}),
      out: resolve(values.out),
      ...(values.splits ? { splits: resolve(values.splits) } : {}),
      folds: positiveInt(values.folds, '--folds'),
      config: overrides.model,
      training: { ...overrides.training, ...(epochs !== undefined ? { epochs } : {}), ...(seed !== undefined ? { seed } : {}) },
      resume: values.resume,
      baselines: values.baselines as 'none' | 'features' | 'all',
    });
    const m = summary.model.metrics as Record<string, { auc?: number; ci?: number[]; c?: number } | null | number>;
    if (values.json) printJson({ dir: summary.dir, seconds: summary.seconds, metrics: m, split: Object.fromEntries(Object.entries(summary.split).map(([k, s]) => [k, { train: s.train.length, test: s.test.length }])) });
    else {
      const auc = (k: string) => {
        const v = m[k] as { auc: number; ci: number[] } | null | undefined;
        return v ? `${v.auc.toFixed(3)} (${v.ci[0]!.toFixed(3)}-${v.ci[1]!.toFixed(3)})` : 'n/a';
      };
      process.stdout.write(`model written to ${summary.dir} in ${summary.seconds.toFixed(0)} s\n`);
      process.stdout.write(`resection AUC train ${auc('resection_train_auc')}, test ${auc('resection_test_auc')}\n`);
      const c = m.iat_test_cindex as { c: number } | null | undefined;
      if (c) process.stdout.write(`iat C-index (test) ${c.c.toFixed(3)}\n`);
    }
    return 0;
  },
};
