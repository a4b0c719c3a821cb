import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readCsv } from '../../util/csv.js';
import { HccError, usageError } from '../../util/errors.js';
import { printJson, type Command } from '../command.js';
import { cohortFiles, loadPmn, positiveInt, tumoursOption } from './pmn-shared.js';

const USAGE = `hcc evaluate pmn --model MODEL_DIR --cohort DIR [--masks DIR | --seg-model DIR] [--tumours largest|all]
                 [--tta] [--seed S] [--json]

Evaluates a trained PMN on a cohort folder. A resection cohort (with 'proliferative'): the AUC with its DeLong
95% CI, each baseline trained with the model (--baselines) with DeLong's paired test against the PMN, and on
synthetic cohorts the oracle ceiling (5-fold CV logistic on the hidden x1..x8, same cases). An iat cohort
(os_months, os_event): Harrell's C of the PMN score, of a clinical Cox model, and of clinical + PMN, both
fitted on the model's own iat training cases. On the model's own training cohort only the test split is used.

  --tumours largest|all  score a case's largest tumour (default, as trained) or every tumour of at least 1 cm
                         on its own crop, averaging log-odds and risk (needs the cohort's images; the
                         baselines always read the largest tumour)
  --tta                  test-time augmentation: average the PMN's logits over the 8 axial flips and
                         quarter turns training draws (8 forward passes a case; baselines unchanged)`;

const fmt = (a: { auc: number; ci: [number, number] }) => `${a.auc.toFixed(3)} (${a.ci[0].toFixed(3)}-${a.ci[1].toFixed(3)})`;

export const evaluatePmnCommand: Command = {
  name: 'evaluate pmn',
  summary: 'AUC with DeLong CI against baselines and the oracle ceiling; C-index gain on an iat cohort',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { model: { type: 'string' }, cohort: { type: 'string' }, masks: { type: 'string' }, 'seg-model': { type: 'string' }, tumours: { type: 'string' }, tta: { type: 'boolean', default: false }, seed: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'\n\n${USAGE}`);
    if (!values.model || !values.cohort) throw usageError(`--model and --cohort are required\n\n${USAGE}`);
    const tumours = tumoursOption(values.tumours);
    const cohort = cohortFiles(values.cohort, '--cohort', values.masks, values['seg-model']);
    const columns = readCsv(cohort.csv).columns;
    const { api, evaluate } = await loadPmn();
    const model = resolve(values.model);
    if (columns.includes('proliferative')) {
      const r = await evaluate.evaluateDetection(model, cohort, positiveInt(values.seed, '--seed') ?? 0, tumours, values.tta);
      if (values.json) printJson(r);
      else {
        process.stdout.write(`${r.n} cases (${r.cases}) of ${r.cohort}\nPMN AUC ${fmt(r.pmn)}${tumours === 'all' ? ' (mean over all tumours)' : ''}${r.tta ? ' (test-time augmentation)' : ''}\n`);
        for (const b of r.baselines) process.stdout.write(`${b.model} AUC ${fmt(b)}; PMN - ${b.model} = ${b.versusPmn.deltaAuc.toFixed(3)} (${b.versusPmn.ci[0].toFixed(3)} to ${b.versusPmn.ci[1].toFixed(3)}), DeLong p = ${b.versusPmn.p.toPrecision(3)}\n`);
        if (r.oracle) process.stdout.write(`oracle ceiling AUC ${fmt(r.oracle)}; PMN is ${r.oracle.gap.toFixed(3)} below it\n`);
      }
      return 0;
    }
    if (columns.includes('os_months')) {
      const prov = api.readModelJson(model).provenance as { cohorts?: { iat?: ReturnType<typeof cohortFiles> } };
      if (!prov.cohorts?.iat) throw new HccError(`${model}: the model was trained without an iat cohort, so it has no Cox head to evaluate`);
      const r = await evaluate.evaluatePrognosis(model, cohort, prov.cohorts.iat, tumours, values.tta);
      if (values.json) printJson(r);
      else {
        const c = (x: { c: number; se: number } | null) => (x ? `${x.c.toFixed(3)} (se ${x.se.toFixed(3)})` : 'n/a');
        process.stdout.write(`${r.n} cases (${r.cases}) of ${r.cohort}\nHarrell's C: PMN score ${c(r.pmnCindex)}, clinical Cox ${c(r.clinical)}, clinical + PMN ${c(r.clinicalPlusPmn)}\n`);
      }
      return 0;
    }
    throw new HccError(`${cohort.csv}: neither 'proliferative' (resection) nor 'os_months' (iat) columns: nothing to evaluate`);
  },
};
