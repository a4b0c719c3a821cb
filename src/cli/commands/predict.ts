import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLINICAL_COLUMNS } from '../../clinical/schema.js';
import type { Explanation } from '../../pmn/explain.js';
import { renderPatientReport } from '../../report/patient-report.js';
import { predictPatient, type PredictOutput } from '../../study/predict.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { HccError, usageError } from '../../util/errors.js';
import { printJson, type Command } from '../command.js';

const USAGE = `hcc predict --study DIR [--art CT] [--pv CT] [--mask LABELS] [--clinical FILE.json] [--FIELD=VALUE ...]
            [--tumour-count N] [--tumour-diameter-cm D] [--research-use-only] [--json] [--html OUT.html] [--out DIR]
            [--device cpu|cuda[:N]]

One patient through a finished study: tumour measurements, nomogram and risk group, survival under TACE and
HAIC with CIs, the staging, and a recommendation by the study's decision rule, with its provenance.

  --study DIR            a folder written by 'hcc study run' (or 'hcc demo')
  --art, --pv CT         NIfTI files or DICOM folders of the arterial and portal-venous phases
  --mask LABELS          a label map (1 liver, 2 tumour) to measure the tumours from (replaces segmentation)
  --clinical FILE.json   clinical values keyed by the column names of docs/cohort.md
  --FIELD=VALUE          any clinical column, e.g. --age_years=61 --albumin_g_l=38 (overrides the file)
  --tumour-count N, --tumour-diameter-cm D   override the measured tumour burden
  --research-use-only    allow a real patient's DICOM with a study trained on synthetic data
  --json                 the whole prediction as JSON on stdout
  --html OUT.html        a self-contained page for the patient's record
  --out DIR              where the segmentation, the PMN explanation (JSON, PNGs) and caches go
                         (default: OUT_files next to --html, else a new temporary folder)
  --device D             where the segmentation networks run: cpu (default) or cuda[:N] (needs @hcc/torch built
                         against a CUDA libtorch, docs/torch.md)`;

const FLAGS = new Set(['study', 'art', 'pv', 'mask', 'clinical', 'tumour-count', 'tumour-diameter-cm', 'html', 'out', 'device']);
const BOOLEANS = new Set(['research-use-only', 'json', 'debug']);
const FIELDS = new Set(CLINICAL_COLUMNS.map((c) => c.name as string));

/** parseArgs cannot take open-ended --FIELD=VALUE options, so this reads the small grammar by hand. */
function parse(argv: string[]): { options: Record<string, string>; booleans: Set<string>; fields: Record<string, string> } {
  const options: Record<string, string> = {};
  const booleans = new Set<string>();
  const fields: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw usageError(`unexpected argument '${arg}'\n\n${USAGE}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (BOOLEANS.has(name)) {
      booleans.add(name);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw usageError(`--${name} needs a value`);
    if (FLAGS.has(name)) options[name] = value;
    else if (FIELDS.has(name.replace(/-/g, '_'))) fields[name.replace(/-/g, '_')] = value;
    else throw usageError(`unknown option --${name}; clinical fields are: ${[...FIELDS].filter((f) => f !== 'id').join(', ')}`);
  }
  return { options, booleans, fields };
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x)) throw usageError(`--${name}: expected a number, got '${value}'`);
  return x;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'One patient: measurements, nomogram, survival under TACE and HAIC, recommendation',
  usage: USAGE,
  async run(argv) {
    const { options, booleans, fields } = parse(argv);
    if (!options.study) throw usageError(`--study DIR is required\n\n${USAGE}`);
    let clinical: Record<string, unknown> = {};
    if (options.clinical) {
      try {
        clinical = JSON.parse(readFileSync(options.clinical, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new HccError(`--clinical ${options.clinical}: cannot read a JSON object of clinical values: ${(err as Error).message}`);
      }
    }
    const out = await predictPatient({
      studyDir: resolve(options.study),
      clinical: { ...clinical, ...fields },
      art: options.art,
      pv: options.pv,
      mask: options.mask,
      tumourCount: number(options['tumour-count'], 'tumour-count'),
      tumourDiameterCm: number(options['tumour-diameter-cm'], 'tumour-diameter-cm'),
      researchUseOnly: booleans.has('research-use-only'),
      device: options.device,
      outDir: options.out ?? (options.html ? options.html.replace(/\.html?$/i, '') + '_files' : mkdtempSync(join(tmpdir(), 'hcc-predict-'))),
    });
    if (options.html) writeFileAtomicSync(options.html, renderPatientReport(out));
    if (booleans.has('json')) {
      printJson(out);
      return 0;
    }
    const s = out.survival;
    const lines = [
      ...(out.banner ? [`*** ${out.banner} ***`, ''] : []),
      ...(out.imaging ? imagingLines(out.imaging) : []),
      `Risk group: ${out.nomogram.riskGroup} (nomogram linear predictor ${out.nomogram.lp.toFixed(3)}, cut-off ${out.nomogram.cutoff.toFixed(3)})`,
      `Predicted survival      ${s.times.map((t) => `${t} mo`.padStart(16)).join('')}   RMST ${s.horizon} mo`,
      `  TACE                  ${s.tace.map((v, k) => `${(v * 100).toFixed(0)}% (${(s.taceCi[k]![0] * 100).toFixed(0)}-${(s.taceCi[k]![1] * 100).toFixed(0)})`.padStart(16)).join('')}   ${s.rmstTace.toFixed(1)}`,
      `  HAIC                  ${s.haic.map((v, k) => `${(v * 100).toFixed(0)}% (${(s.haicCi[k]![0] * 100).toFixed(0)}-${(s.haicCi[k]![1] * 100).toFixed(0)})`.padStart(16)).join('')}   ${s.rmstHaic.toFixed(1)}`,
      `Staging: ${Object.entries(out.staging).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      '',
      `Recommendation: ${out.recommendation.text}`,
      ...out.warnings.map((w) => `Warning: ${w}`),
      `Provenance: study '${out.provenance.study}', trained on ${out.provenance.syntheticTraining ? 'synthetic' : 'real'} data; model card ${out.provenance.modelCard}`,
      ...(options.html ? [`HTML: ${options.html}`] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};

function topPrototypes(e: Explanation): string {
  return e.prototypes
    .slice(0, 3)
    .map((p) => `#${p.prototype} (${p.class ? 'proliferative' : 'non-proliferative'}, similarity ${p.similarity.toFixed(2)}, ${p.contribution >= 0 ? '+' : ''}${p.contribution.toFixed(2)} log-odds)`)
    .join(', ');
}

/** The PMN's reading; with several tumours read one by one (the study's `pmn.tumours: all`), a line per tumour. */
export function imagingLines(im: NonNullable<PredictOutput['imaging']>): string[] {
  const head = `PMN: proliferative probability ${(im.probability * 100).toFixed(0)}%, imaging risk score ${im.riskScore.toFixed(2)}`;
  if (!im.tumours || im.tumours.length < 2) return [`${head}; top prototypes: ${topPrototypes(im.explanation)}; maps in ${im.explanationDir}`];
  return [
    `${head}: the mean over ${im.tumours.length} tumours of at least 1 cm, as the study scored its cases; maps in ${im.explanationDir}/tumour_<n>`,
    ...im.tumours.map((t) => `  tumour ${t.tumour} (${t.volumeMl.toFixed(1)} mL): probability ${(t.probability * 100).toFixed(0)}%, risk score ${t.riskScore.toFixed(2)}; top prototypes: ${topPrototypes(t)}`),
  ];
}
