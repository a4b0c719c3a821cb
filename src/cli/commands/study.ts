import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStudyConfig } from '../../study/config.js';
import { runStudy } from '../../study/run.js';
import { validateStudy } from '../../study/validate.js';
import { renderStudyReport } from '../../report/study-report.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { usageError } from '../../util/errors.js';
import { printJson, type Command } from '../command.js';

const USAGE = `hcc study run <config.yaml|config.json> [--out DIR] [--resume] [--json]

Runs a whole study: cohorts, splits, segmentation, PMN, detection, nomogram, staging comparison, risk groups,
treatment benefit and (synthetic cohorts) the comparison with the known truth. Every stage is cached by the
hash of its inputs, so --resume continues a stopped study and reruns only what changed.

  --out DIR     output folder (default: study-<name> in the current folder)
  --resume      continue in an existing output folder
  --json        print a summary as JSON on stdout

Outputs in DIR: results.json, study.lock, splits.json, stages/<stage>/..., and the model folders.
See docs/study.md for the config keys.`;

export const studyRunCommand: Command = {
  name: 'study run',
  summary: 'Run a whole study from a config: cohorts to tables, figures and a treatment recommendation model',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, resume: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, debug: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 1) throw usageError(`expected one config file\n\n${USAGE}`);
    const config = loadStudyConfig(positionals[0]!);
    const outDir = resolve(values.out ?? `study-${config.name}`);
    const results = await runStudy(config, { outDir, resume: values.resume });
    const report = join(outDir, 'report.html');
    writeFileAtomicSync(report, renderStudyReport(results));
    const nomo = results.nomogram.metrics;
    const summary = {
      out: outDir,
      report,
      selected: results.nomogram.selection.selected,
      unoC: { train: nomo.train.unoC.c, test: nomo.test.unoC.c },
      haicHr: results.treatment_effect.groups.map((g) => ({ group: g.group, hr: g.cox.hr, p: g.cox.p })),
    };
    if (values.json) printJson(summary);
    else {
      process.stdout.write(`study '${config.name}' finished: ${outDir}\nreport: ${report}\n`);
      process.stdout.write(`nomogram terms: ${summary.selected.join(', ')}; Uno's C train ${summary.unoC.train.toFixed(3)}, test ${summary.unoC.test.toFixed(3)}\n`);
    }
    return 0;
  },
};

const VALIDATE_USAGE = `hcc study validate --study DIR --cohort <config.yaml|config.json> [--out DIR] [--json]

External validation: the frozen nomogram of a finished study applied to the IAT cohort of another config
(another site, or a synthetic cohort from a new seed or --site). Reports discrimination (Harrell's and Uno's C,
td-AUC), Brier and IBS against the Kaplan-Meier null model, and calibration with decision curves; then the
same after recalibrating the slope and baseline hazard on the new cohort, reported separately.

When the nomogram uses the PMN imaging score, every IAT case is measured, cropped and scored as the study did
(its label maps or the study's segmentation model, then the study's frozen PMN); cases whose mask has no tumour
have no score and drop out. When the config's resection cohort has images, the frozen PMN's detection AUC
(DeLong 95% CI) is reported too, with the oracle ceiling on synthetic cohorts.

  --out DIR   output folder for validation.json, cases.csv, the PMN scores and the cohort
              (default: <study>/validation-<config name>)
  --json      print validation.json on stdout`;

export const studyValidateCommand: Command = {
  name: 'study validate',
  summary: 'Apply a frozen study to another cohort: external validation, with optional recalibration',
  usage: VALIDATE_USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { study: { type: 'string' }, cohort: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false }, debug: { type: 'boolean', default: false } },
    });
    if (positionals.length > 0 || !values.study || !values.cohort) throw usageError(`--study and --cohort are required\n\n${VALIDATE_USAGE}`);
    const config = loadStudyConfig(values.cohort);
    const studyDir = resolve(values.study);
    const outDir = resolve(values.out ?? join(studyDir, `validation-${config.name}`));
    const r = await validateStudy(studyDir, config, outDir);
    if (values.json) printJson(r);
    else {
      const f = (m: typeof r.frozen.metrics) => `Uno's C ${m.unoC.c.toFixed(3)}, td-AUC ${m.tdAuc.map((a) => `${a.time} mo ${a.auc.toFixed(3)}`).join(', ')}, IBS ${m.ibs.toFixed(3)}`;
      const ci = (c: [number, number]) => `95% CI ${c[0].toFixed(3)}-${c[1].toFixed(3)}`;
      const imaging = (i: NonNullable<typeof r.imaging>) =>
        `${i.scored} of ${i.n} cases scored by the frozen PMN on ${i.masks === 'labels' ? 'their label maps' : "the study's segmentation"}${i.noTumour.length ? ` (${i.noTumour.length} without a tumour in the mask: no imaging score)` : ''}${i.dice ? `; segmentation Dice liver ${i.dice.liver.toFixed(3)}, tumour ${i.dice.tumour.toFixed(3)}` : ''}`;
      const d = r.detection;
      process.stdout.write(
        [
          `External validation of '${r.study}' on ${r.cohort.complete} of ${r.cohort.n} patients (${join(outDir, 'validation.json')})`,
          ...(r.imaging ? [`  imaging:       ${imaging(r.imaging)}`] : []),
          `  frozen:        ${f(r.frozen.metrics)} (null model IBS ${r.frozen.nullIbs.toFixed(3)})`,
          `  recalibrated:  ${f(r.recalibrated.metrics)}; calibration slope ${r.recalibrated.slope.toFixed(3)} (SE ${r.recalibrated.slopeSe.toFixed(3)})`,
          d
            ? `  detection:     PMN AUC ${d.pmn.auc.toFixed(3)} (${ci(d.pmn.ci)}) on ${d.pmn.n} resection cases, ${d.pmn.positives} proliferative${d.oracle ? `; oracle ceiling ${d.oracle.auc.toFixed(3)} (${ci(d.oracle.ci)}), gap ${d.oracle.gap.toFixed(3)}` : ''}; ${imaging(d)}`
            : `  detection:     not evaluated: ${r.detectionSkipped}`,
        ].join('\n') + '\n',
      );
    }
    return 0;
  },
};
