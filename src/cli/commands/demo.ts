import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderStudyReport } from '../../report/study-report.js';
import { CLINICAL_COLUMNS } from '../../clinical/schema.js';
import { generateCohort } from '../../phantom/generate.js';
import { imagePaths } from '../../phantom/images.js';
import { renderPatientReport } from '../../report/patient-report.js';
import { isSynthetic, loadStudyConfig } from '../../study/config.js';
import { CohortFrame } from '../../study/frame.js';
import { predictPatient } from '../../study/predict.js';
import { runStudy } from '../../study/run.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { HccError } from '../../util/errors.js';
import type { Command } from '../command.js';

const USAGE = `hcc demo [--out DIR] [--config FILE]

What \`make demo\` runs: the default study (configs/demo.yaml) on a modest synthetic cohort and its report, then
\`hcc predict\` on one new synthetic patient. Reruns reuse every finished stage (the output folder is resumed).

  --out DIR       output folder (default: demo-out in the repository root)
  --config FILE   another study config instead of configs/demo.yaml`;

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the default study on a synthetic cohort and write its report (what `make demo` runs)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, strict: true, options: { out: { type: 'string' }, config: { type: 'string' } } });
    const configPath = values.config ?? join(repoRoot, 'configs', 'demo.yaml');
    if (!existsSync(configPath)) throw new HccError(`the study config ${configPath} does not exist`);
    const outDir = resolve(values.out ?? join(repoRoot, 'demo-out'));
    const config = loadStudyConfig(configPath);
    const results = await runStudy(config, { outDir, resume: true });
    const report = join(outDir, 'report.html');
    writeFileAtomicSync(report, renderStudyReport(results));
    process.stdout.write(`\nDemo study finished.\nReport: ${report}\nResults: ${join(outDir, 'results.json')}\n`);

    // One new synthetic patient, never seen by the study (its own seed), through hcc predict.
    const iat = config.cohorts.iat;
    const grid = isSynthetic(iat) ? iat.synthetic.grid : 'small';
    const patientDir = join(outDir, 'new-patient');
    const patient = await generateCohort({ cohort: 'iat', n: 1, seed: config.seed + 100_000, out: patientDir, images: true, grid, site: null, workers: 1, progress: false });
    const row = CohortFrame.read(join(patientDir, 'cohort.csv'));
    const clinical = Object.fromEntries(
      CLINICAL_COLUMNS.map((c) => c.name)
        .filter((c) => !['id', 'treatment', 'os_months', 'os_event', 'proliferative', 'tumour_count', 'tumour_diameter_cm', 'liver_occupancy_fraction'].includes(c) && row.has(c))
        .map((c) => [c, row.str(c)[0]]),
    );
    const files = imagePaths(patientDir, row.ids[0]!);
    const html = join(outDir, 'new-patient.html');
    const prediction = await predictPatient({
      studyDir: outDir,
      clinical,
      art: files.art,
      pv: files.pv,
      mask: files.label,
      researchUseOnly: false,
      outDir: join(outDir, 'new-patient_files'),
    });
    writeFileAtomicSync(html, renderPatientReport(prediction));
    const s = prediction.survival;
    process.stdout.write(
      [
        '',
        `New synthetic patient ${row.ids[0]} (${patient.n} case, seed ${config.seed + 100_000}): ${prediction.measurements?.count ?? '?'} tumour(s), largest ${((prediction.measurements?.largestDiameterMm ?? 0) / 10).toFixed(1)} cm measured from its mask.`,
        `  risk group ${prediction.nomogram.riskGroup}; ${s.horizon}-month RMST TACE ${s.rmstTace.toFixed(1)} vs HAIC ${s.rmstHaic.toFixed(1)} months`,
        `  ${prediction.recommendation.text}`,
        `  Patient page: ${html}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
