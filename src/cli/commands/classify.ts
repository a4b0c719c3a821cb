import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { usageError } from '../../util/errors.js';
import { printJson, type Command } from '../command.js';
import { loadPmn } from './pmn-shared.js';

const USAGE = `hcc classify CASE --model MODEL_DIR [--art FILE --pv FILE --mask FILE | --seg-model DIR] [--out DIR] [--json]

Runs a trained PMN on one case: the probability of the proliferative subtype, the imaging Cox risk score
(standardised on the training cohort; higher = worse), and the prototype explanation: the prototypes that
contributed most (their contributions sum to the log-odds), where each matched in this tumour, and the
training patch it stands for.

  CASE          path prefix P of P_art.nii.gz, P_pv.nii.gz, P_label.nii.gz (CONTRACTS.md)
  --art/--pv/--mask FILE   explicit files instead of the prefix (the mask: labels 1 liver, 2 tumour)
  --seg-model DIR  predict the mask with this segmentation model (default: the one the PMN was trained
                with, if any, so training and use see the same kind of mask; else the case's label map)
  --model DIR   a model folder written by 'hcc train pmn'
  --out DIR     explanation.json and similarity-map PNGs (default: P_pmn)
  --json        print the explanation as JSON`;

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'Proliferative-subtype probability, imaging risk score and prototype explanation for one case',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { model: { type: 'string' }, art: { type: 'string' }, pv: { type: 'string' }, mask: { type: 'string' }, 'seg-model': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (!values.model) throw usageError(`--model is required\n\n${USAGE}`);
    const prefix = positionals[0];
    if (positionals.length > 1) throw usageError(`expected one case, got ${positionals.length}`);
    if (!prefix && !(values.art && values.pv && (values.mask || values['seg-model']))) throw usageError(`give a case prefix or all of --art, --pv and --mask (or --seg-model)\n\n${USAGE}`);
    if (values.mask && values['seg-model']) throw usageError('give either --mask or --seg-model, not both');
    const id = prefix ? basename(prefix) : basename(values.art!).replace(/(_art)?\.nii(\.gz)?$/, '');
    const { api } = await loadPmn();
    const trainedWith = (api.readModelJson(resolve(values.model)).provenance as { cohorts?: { resection?: { segModel?: string } } }).cohorts?.resection?.segModel;
    const segModel = values['seg-model'] ?? (values.mask ? undefined : trainedWith);
    const phases = { id, art: resolve(values.art ?? `${prefix}_art.nii.gz`), pv: resolve(values.pv ?? `${prefix}_pv.nii.gz`) };
    const source = segModel ? { ...phases, segModel: resolve(segModel) } : { ...phases, mask: resolve(values.mask ?? `${prefix}_label.nii.gz`) };
    const ex = await api.explainPmn({ model: resolve(values.model), case: source, out: resolve(values.out ?? `${prefix ?? id}_pmn`) });
    if (values.json) printJson(ex);
    else {
      process.stdout.write(`${id}: P(proliferative) = ${ex.probability.toFixed(3)}, imaging risk score = ${ex.riskScore.toFixed(2)} (log-odds ${ex.logit.toFixed(2)})\n`);
      process.stdout.write('top prototypes (contribution to the log-odds; + favours proliferative):\n');
      for (const p of ex.prototypes.slice(0, 3)) {
        const from = p.pushedFrom ? `training case ${p.pushedFrom.caseId}` : 'not pushed';
        process.stdout.write(`  #${p.prototype} (${p.class ? 'proliferative' : 'non-proliferative'}) similarity ${p.similarity.toFixed(2)}, contribution ${p.contribution >= 0 ? '+' : ''}${p.contribution.toFixed(2)}; ${from}; map ${p.similarityMap}\n`);
      }
    }
    return 0;
  },
};
