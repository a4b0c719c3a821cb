import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderStudyReport } from '../../report/study-report.js';
import { loadStudyConfig } from '../../study/config.js';
import { runStudy } from '../../study/run.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { HccError } from '../../util/errors.js';
import type { Command } from '../command.js';

const USAGE = `hcc demo [--out DIR]

What \`make demo\` runs: the default study (configs/demo.yaml) on a modest synthetic cohort, then the report.
Reruns reuse every finished stage (the output folder is resumed).

  --out DIR   output folder (default: demo-out in the repository root)`;

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the default study on a synthetic cohort and write its report (what `make demo` runs)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, strict: true, options: { out: { type: 'string' } } });
    const configPath = join(repoRoot, 'configs', 'demo.yaml');
    if (!existsSync(configPath)) throw new HccError(`the demo config ${configPath} is missing from this installation`);
    const outDir = resolve(values.out ?? join(repoRoot, 'demo-out'));
    const config = loadStudyConfig(configPath);
    const results = await runStudy(config, { outDir, resume: true });
    const report = join(outDir, 'report.html');
    writeFileAtomicSync(report, renderStudyReport(results));
    process.stdout.write(`\nDemo study finished.\nReport: ${report}\nResults: ${join(outDir, 'results.json')}\n`);
    return 0;
  },
};
