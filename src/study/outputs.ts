import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { formatCsv } from '../util/csv.js';
import { HccError } from '../util/errors.js';
import type { TumourMode } from '../pmn/api.js';
import type { StudyResults } from './run.js';
import { stageDir } from './stage-runner.js';
import { TRIPOD_AI } from './tripod-ai.js';

/**
 * The study's deliverables besides results.json: models/ (one folder per model with model.json, as
 * CONTRACTS.md "Models on disk" defines), tables/*.csv (every table of the report, for a paper's supplement),
 * and model-card.md with the TRIPOD+AI checklist.
 */
export const NOMOGRAM_MODEL_KIND = 'hcc-iat/nomogram';
export const TREATMENT_MODEL_KIND = 'hcc-iat/treatment-model';
export const PMN_SCORING_KIND = 'hcc-iat/pmn-scoring';

/**
 * models/pmn/scoring.json: how stage 4-pmn scored the cases (`pmn.tumours`), so that `hcc predict` reads a new
 * patient's tumours the same way the nomogram's pmn_score was made. It sits beside the PMN's own model.json
 * because it belongs to the study, not to the network (a frozen PMN can be scored either way).
 */
export interface PmnScoringFile {
  kind: typeof PMN_SCORING_KIND;
  version: 1;
  tumours: TumourMode;
}

/**
 * How a study scored its cases with the PMN (its models/pmn folder): `hcc predict` and `hcc study validate` read
 * new cases the same way. A study written before scoring.json existed read the largest tumour.
 */
export function readPmnScoring(pmnModel: string): TumourMode {
  const path = join(pmnModel, 'scoring.json');
  if (!existsSync(path)) return 'largest';
  let s: PmnScoringFile;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as PmnScoringFile;
  } catch (err) {
    throw new HccError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (s.kind !== PMN_SCORING_KIND || s.version !== 1 || (s.tumours !== 'largest' && s.tumours !== 'all')) {
    throw new HccError(`${path}: expected kind ${PMN_SCORING_KIND} version 1 with tumours 'largest' or 'all', got ${JSON.stringify(s)}`);
  }
  return s.tumours;
}

export interface NomogramModelFile {
  kind: typeof NOMOGRAM_MODEL_KIND;
  version: 1;
  /** Coefficient and training range of each term (values outside it are flagged at prediction time). */
  terms: Array<{ name: string; label: string; coef: number; min: number; max: number }>;
  means: number[];
  riskCut: { method: string; cutoff: number };
  /** Cumulative baseline hazard at the centred linear predictor 0 (training split). */
  baseline: { time: number[]; cumhaz: number[] };
  provenance: { synthetic: boolean; cohortHash: string; study: string };
  metrics: { unoC: { train: number; test: number } };
}

export function writeModels(outDir: string, r: StudyResults): void {
  const models = join(outDir, 'models');
  const cohortStage = r.provenance.stages.find((s) => s.stage === '1-cohorts')!;
  const provenance = { synthetic: r.synthetic, cohortHash: cohortStage.resultHash, study: r.study };
  const nomo = r.nomogram.metrics;
  // The model file keeps the cut-off itself; the group counts belong to this study's results.
  const { counts: _counts, ...riskCut } = r.risk_groups;
  const nomogram: NomogramModelFile = {
    kind: NOMOGRAM_MODEL_KIND,
    version: 1,
    terms: r.nomogram.nomogram.terms.map((t) => ({ name: t.name, label: t.label, coef: t.coef, min: t.min, max: t.max })),
    means: r.nomogram.nomogram.means,
    riskCut,
    baseline: r.nomogram.nomogram.baseline,
    provenance,
    metrics: { unoC: { train: nomo.train.unoC.c, test: nomo.test.unoC.c } },
  };
  writeJsonAtomicSync(join(models, 'nomogram', 'model.json'), nomogram);
  if (r.segmentation) cpSync(r.segmentation.model, join(models, 'segmentation'), { recursive: true });
  if (r.pmn) {
    cpSync(r.pmn.model, join(models, 'pmn'), { recursive: true, filter: (src) => !/[/\\]cache([/\\]|$)/.test(src) });
    const scoring: PmnScoringFile = { kind: PMN_SCORING_KIND, version: 1, tumours: r.provenance.config.pmn.tumours };
    writeJsonAtomicSync(join(models, 'pmn', 'scoring.json'), scoring);
  }
  mkdirSync(join(models, 'treatment'), { recursive: true });
  copyFileSync(join(stageDir(outDir, '8-treatment'), 'treatment-model.json'), join(models, 'treatment', 'rules.json'));
  writeJsonAtomicSync(join(models, 'treatment', 'model.json'), {
    kind: TREATMENT_MODEL_KIND,
    version: 1,
    terms: ['haic', 'nomogram_lp', 'haic:nomogram_lp'],
    weighting: 'IPTW, stabilised ATE weights, propensity trimmed at the 1st/99th percentiles',
    horizon: r.provenance.config.analyses.horizon,
    times: r.provenance.config.analyses.times,
    bootstrapReplicates: r.treatment_effect.model.replicatesUsed,
    decisionRule: 'HAIC if the 95% CI of RMST(HAIC) - RMST(TACE) at the horizon lies above 0; TACE if below 0; otherwise no clear difference',
    provenance,
  });
}

export function writeTables(outDir: string, r: StudyResults): void {
  const tables = join(outDir, 'tables');
  const put = (name: string, columns: string[], rows: Array<Record<string, unknown>>) => writeFileAtomicSync(join(tables, name), formatCsv(columns, rows));
  put(
    'prognostic_metrics.csv',
    ['score', 'split', 'n', 'events', 'harrell_c', 'harrell_c_se', 'uno_c', 'uno_c_se', ...r.provenance.config.analyses.times.map((t) => `td_auc_${t}`), 'ibs'],
    r.staging_comparison.metrics.flatMap((m) =>
      (['train', 'test'] as const).map((split) => ({
        score: m.score,
        split,
        n: m[split].n,
        events: m[split].events,
        harrell_c: m[split].harrellC.c,
        harrell_c_se: m[split].harrellC.se,
        uno_c: m[split].unoC.c,
        uno_c_se: m[split].unoC.se,
        ...Object.fromEntries(m[split].tdAuc.map((a) => [`td_auc_${a.time}`, a.auc])),
        ibs: m[split].ibs,
      })),
    ),
  );
  for (const k of ['iat', 'resection'] as const) {
    const t = r.table1[k];
    put(
      `table1_${k}.csv`,
      ['variable', 'level', ...t.groups.map((g) => g.name), 'missing', 'smd_haic_vs_tace'],
      t.rows.map((row) => ({ variable: row.variable, level: row.level, ...Object.fromEntries(t.groups.map((g, j) => [g.name, row.cells[j]])), missing: row.missing, smd_haic_vs_tace: row.smdTreatment })),
    );
  }
  put('nomogram_terms.csv', ['name', 'coef', 'hr', 'lower', 'upper', 'p'], r.nomogram.nomogram.terms.map((t) => ({ ...t })));
  put(
    'treatment_by_risk_group.csv',
    ['group', 'n', 'analysis', 'hr', 'lower', 'upper', 'p'],
    r.treatment_effect.groups.flatMap((g) => [
      { group: g.group, n: g.n, analysis: 'unadjusted', ...g.cox },
      ...('cox' in g.iptw ? [{ group: g.group, n: g.n, analysis: 'iptw', ...g.iptw.cox }] : []),
    ]),
  );
  put(
    'recommendations_test.csv',
    ['id', 'riskGroup', 'lp', 'rmstTace', 'rmstHaic', 'deltaRmst', 'deltaRmst_lower', 'deltaRmst_upper', 'recommendation'],
    r.treatment_effect.predictions.map((p) => ({ ...p, deltaRmst_lower: p.deltaRmstCi[0], deltaRmst_upper: p.deltaRmstCi[1] })),
  );
  if (r.truth_comparison) {
    put('truth_comparison.csv', ['group', 'n', 'meanTrueLogHr', 'trueDeltaRmst', 'estimatedIptwHr', 'estimatedDeltaRmst'], r.truth_comparison.groups.map((g) => ({ ...g })));
  }
}

export function modelCard(r: StudyResults): string {
  const nomo = r.nomogram.metrics;
  const lines = [
    `# Model card: ${r.study}`,
    '',
    '## Intended use',
    'Research on CT-based prognosis for patients with unresectable hepatocellular carcinoma facing intra-arterial therapy',
    '(TACE or HAIC): a proliferative-subtype imaging score, a Cox nomogram with clinical variables, a risk group, and',
    'predicted survival under each treatment. It supports, and never replaces, a multidisciplinary tumour board.',
    'Inputs: arterial and portal-venous CT and the clinical variables of docs/cohort.md, in the units stated there.',
    '',
    '## Training data',
    r.synthetic
      ? 'Synthetic cohorts from the hcc-iat generator (clinical-model.md §6): no real patient contributed. Ethical approval is not needed for simulated data; a study on real data must state its own.'
      : 'Real cohorts supplied by the user (see the study config); the user is responsible for ethics approval and data governance.',
    `Resection cohort: ${r.cohorts.resection.n} patients; IAT cohort: ${r.cohorts.iat.n} patients. Splits: ${JSON.stringify(r.splits)}.`,
    '',
    '## Metrics (test split)',
    `Nomogram: Uno's C ${nomo.test.unoC.c.toFixed(3)} (SE ${nomo.test.unoC.se.toFixed(3)}), Harrell's C ${nomo.test.harrellC.c.toFixed(3)}, ${nomo.test.n} patients, ${nomo.test.events} deaths.`,
    'Every other number is in results.json and report.html.',
    '',
    '## Limits',
    ...(r.synthetic
      ? ['- Trained on synthetic data: the numbers describe the simulation, not real patients. `hcc predict` refuses real DICOM from this study unless --research-use-only is given.']
      : []),
    '- Treatment was not randomised: the treatment benefit rests on inverse probability weighting and the absence of unmeasured confounding.',
    ...inSampleScoreLimit(r),
    '- Validate on an external cohort before use elsewhere (`hcc study validate`); recalibrate the baseline hazard when the setting differs.',
    '- Patient and public involvement: not applicable to a synthetic study; a real study should report it (TRIPOD+AI item 19).',
    '',
    '## TRIPOD+AI checklist',
    '| Item | Topic | Where answered |',
    '|---|---|---|',
    ...TRIPOD_AI.map((i) => `| ${i.item} | ${i.topic} | ${i.where} |`),
    '',
  ];
  return lines.join('\n');
}

/**
 * The nomogram is fitted on IAT training patients whose PMN scores come from a PMN trained on those same patients,
 * so the score looks stronger there than on new patients and its coefficient is too large (the paper-scale run:
 * BENCHMARKS.md, "Paper scale with images"). Said in the card with the study's own numbers.
 */
function inSampleScoreLimit(r: StudyResults): string[] {
  if (!r.nomogram.selection.selected.includes('pmn_score') || r.provenance.config.pmn.model) return [];
  const score = r.staging_comparison.metrics.find((m) => m.score === 'pmn_score');
  if (!score) return [];
  return [
    `- The nomogram's PMN score term is fitted on the IAT training patients the PMN was trained on, where the score is optimistic (Harrell's C of the score alone ${score.train.harrellC.c.toFixed(3)} on training patients, ${score.test.harrellC.c.toFixed(3)} on test patients); judge the nomogram by its test-split metrics.`,
  ];
}

export function writeStudyOutputs(outDir: string, r: StudyResults): void {
  writeModels(outDir, r);
  writeTables(outDir, r);
  writeFileAtomicSync(join(outDir, 'model-card.md'), modelCard(r));
}
