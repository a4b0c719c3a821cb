import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { usageError } from '../../util/errors.js';
import { printJson, type Command } from '../command.js';
import { loadPmn, tumoursOption } from './pmn-shared.js';
import type { Explanation } from '../../pmn/explain.js';

const USAGE = `hcc classify CASE --model MODEL_DIR [--art FILE --pv FILE --mask FILE | --seg-model DIR]
                [--tumours largest|all] [--tta] [--out DIR] [--json]

Runs a trained PMN on one case: the probability of the proliferative subtype, the imaging Cox risk score
(standardised on the training cohort; higher = worse), and the prototype explanation: the prototypes that
contributed most (their contributions sum to the log-odds), where each matched in this tumour, and the
training patch it stands for.

  CASE          path prefix P of P_art.nii.gz, P_pv.nii.gz, P_label.nii.gz (CONTRACTS.md)
  --art/--pv/--mask FILE   explicit files instead of the prefix (the mask: labels 1 liver, 2 tumour)
  --seg-model DIR  predict the mask with this segmentation model (default: the one the PMN was trained
                with, if any, so training and use see the same kind of mask; else the case's label map)
  --model DIR   a model folder written by 'hcc train pmn'
  --tumours largest|all  read the largest tumour (default, as trained), or every tumour of at least 1 cm
                on its own crop: the probability comes from the mean log-odds, the risk is the mean, and
                the explanation lists each tumour (OUT/tumour_<n>/); needs a mask file, not --seg-model
  --tta         test-time augmentation: similarities, log-odds and risk averaged over the 8 axial flips and
                quarter turns training draws (contributions still sum to the log-odds; the similarity maps
                show the unturned view)
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
      options: { model: { type: 'string' }, art: { type: 'string' }, pv: { type: 'string' }, mask: { type: 'string' }, 'seg-model': { type: 'string' }, tumours: { type: 'string' }, tta: { type: 'boolean', default: false }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (!values.model) throw usageError(`--model is required\n\n${USAGE}`);
    const prefix = positionals[0];
    if (positionals.length > 1) throw usageError(`expected one case, got ${positionals.length}`);
    if (!prefix && !(values.art && values.pv && (values.mask || values['seg-model']))) throw usageError(`give a case prefix or all of --art, --pv and --mask (or --seg-model)\n\n${USAGE}`);
    if (values.mask && values['seg-model']) throw usageError('give either --mask or --seg-model, not both');
    const tumours = tumoursOption(values.tumours);
    const id = prefix ? basename(prefix) : basename(values.art!).replace(/(_art)?\.nii(\.gz)?$/, '');
    const { api } = await loadPmn();
    const trainedWith = (api.readModelJson(resolve(values.model)).provenance as { cohorts?: { resection?: { segModel?: string } } }).cohorts?.resection?.segModel;
    const segModel = values['seg-model'] ?? (values.mask ? undefined : trainedWith);
    const phases = { id, art: resolve(values.art ?? `${prefix}_art.nii.gz`), pv: resolve(values.pv ?? `${prefix}_pv.nii.gz`) };
    const source = segModel ? { ...phases, segModel: resolve(segModel) } : { ...phases, mask: resolve(values.mask ?? `${prefix}_label.nii.gz`) };
    const request = { model: resolve(values.model), case: source, out: resolve(values.out ?? `${prefix ?? id}_pmn`), tta: values.tta };
    const ex = tumours === 'all' ? await api.explainPmnTumours(request) : await api.explainPmn(request);
    if (values.json) printJson(ex);
    else {
      const summary = `P(proliferative) = ${ex.probability.toFixed(3)}, imaging risk score = ${ex.riskScore.toFixed(2)} (log-odds ${ex.logit.toFixed(2)})`;
      if ('tumours' in ex) {
        process.stdout.write(`${id}: ${summary}, the mean over ${ex.tumours.length} tumour${ex.tumours.length > 1 ? 's' : ''} of at least 1 cm\n`);
        for (const t of ex.tumours) {
          process.stdout.write(`tumour ${t.tumour} (${t.volumeMl.toFixed(1)} mL at ${t.centreMm.map((c) => c.toFixed(0)).join(', ')} mm RAS): P = ${t.probability.toFixed(3)}, risk score ${t.riskScore.toFixed(2)}\n`);
          writePrototypes(t);
        }
      } else {
        process.stdout.write(`${id}: ${summary}\n`);
        writePrototypes(ex);
      }
    }
    return 0;
  },
};

function writePrototypes(ex: Explanation): void {
  process.stdout.write('  top prototypes (contribution to the log-odds; + favours proliferative):\n');
  for (const p of ex.prototypes.slice(0, 3)) {
    const from = p.pushedFrom ? `training case ${p.pushedFrom.caseId}` : 'not pushed';
    process.stdout.write(`    #${p.prototype} (${p.class ? 'proliferative' : 'non-proliferative'}) similarity ${p.similarity.toFixed(2)}, contribution ${p.contribution >= 0 ? '+' : ''}${p.contribution.toFixed(2)}; ${from}; map ${p.similarityMap}\n`);
  }
}
