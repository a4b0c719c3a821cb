import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStudyConfig } from '../../study/config.js';
import { runStudy } from '../../study/run.js';
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
    const nomo = results.nomogram.metrics.find((m) => m.score === 'nomogram')!;
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
