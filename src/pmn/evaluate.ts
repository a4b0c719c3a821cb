import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { coxLinearPredictor, fitCox } from '../survival/cox.js';
import { aucDelong, delongCi, delongPaired, splitByOutcome } from '../survival/roc.js';
import { column, numericColumn, readCsv } from '../util/csv.js';
import { HccError } from '../util/errors.js';
import { hashFile } from '../util/hash.js';
import { cIndex, cohortCases, predictTumours, type CohortFiles, type TumourMode } from './api.js';
import { oracleCeiling } from './baselines/oracle.js';
import { cropSpecFor } from './crop.js';
import { scoreBaselines } from './baselines/suite.js';
import { loadModel, readModelJson } from './model-store.js';

/** Clinical covariates of the prognostic comparison (clinical Cox vs clinical Cox + PMN score). */
export const CLINICAL_COX_COVARIATES = ['afp_log10', 'tumour_diameter_cm', 'tumour_count', 'pvtt', 'ehs', 'albumin_g_l', 'ecog'];

export interface AucWithCi {
  auc: number;
  ci: [number, number];
}

export interface DetectionEvaluation {
  cohort: string;
  n: number;
  /** 'test split' when the cohort is the model's own training cohort (only its held-out cases are scored). */
  cases: 'all' | 'test split';
  /** How the PMN scored cases with several tumours; the baselines always read the largest (as trained). */
  tumours: TumourMode;
  /** Whether the PMN's scores were averaged over the axial symmetries (test-time augmentation). */
  tta: boolean;
  pmn: AucWithCi;
  baselines: Array<AucWithCi & { model: string; versusPmn: { deltaAuc: number; ci: [number, number]; p: number } }>;
  oracle: (AucWithCi & { gap: number }) | null;
}

export interface PrognosisEvaluation {
  cohort: string;
  n: number;
  cases: 'all' | 'test split';
  tumours: TumourMode;
  pmnCindex: { c: number; se: number } | null;
  clinical: { c: number; se: number } | null;
  clinicalPlusPmn: { c: number; se: number } | null;
  covariates: string[];
}

function summary(score: number[], labels: number[]) {
  const { cases, controls } = splitByOutcome(score, labels);
  if (!cases.length || !controls.length) throw new HccError('evaluate: the cohort needs both proliferative and non-proliferative cases for an AUC');
  const d = aucDelong(cases, controls, '<');
  return { d, auc: d.auc, ci: delongCi(d.auc, d.variance) };
}

async function evaluationIds(modelDir: string, kind: 'resection' | 'iat', csv: string): Promise<{ ids: string[] | undefined; cases: 'all' | 'test split' }> {
  const meta = readModelJson(modelDir);
  const prov = meta.provenance as { resectionCsvSha256?: string; iatCsvSha256?: string; split?: Record<string, { test: string[] }> };
  const sha = await hashFile(csv);
  const own = kind === 'resection' ? prov.resectionCsvSha256 : prov.iatCsvSha256;
  if (own === sha) return { ids: prov.split?.[kind]?.test, cases: 'test split' };
  return { ids: undefined, cases: 'all' };
}

/**
 * Proliferative detection on a resection cohort: the PMN's AUC with its DeLong CI, each stored baseline's AUC
 * and DeLong's paired test against the PMN, and (synthetic cohorts) the oracle ceiling on the same cases.
 * On the model's own training cohort only its test-split cases are scored. `tumours` and `tta` as in scorePmn.
 */
export async function evaluateDetection(modelDir: string, cohort: CohortFiles, seed = 0, tumours: TumourMode = 'largest', tta = false): Promise<DetectionEvaluation> {
  const { ids, cases: which } = await evaluationIds(modelDir, 'resection', cohort.csv);
  const cacheDir = join(modelDir, 'cache');
  const cases = await cohortCases(cohort, 'resection', cacheDir, cropSpecFor(readModelJson(modelDir).config), ids);
  const model = loadModel(modelDir);
  let preds;
  try {
    preds = await predictTumours(model, cohort, cases, cacheDir, tumours, { tta });
  } finally {
    model.net.dispose();
  }
  const labels = cases.map((c) => c.label!);
  const pmn = summary(preds.map((p) => p.probability), labels);
  const scored = await scoreBaselines(join(modelDir, 'baselines'), cases, cohort.csv, model.meta.normalisation, model.meta.config);
  const baselines = Object.entries(scored).map(([name, p]) => {
    const b = summary(p, labels);
    const t = delongPaired(pmn.d, b.d);
    return { model: name, auc: b.auc, ci: b.ci, versusPmn: { deltaAuc: pmn.auc - b.auc, ci: t.diffCi, p: t.p } };
  });
  let oracle: DetectionEvaluation['oracle'] = null;
  const truthPath = join(cohort.dir ?? dirname(cohort.csv), 'truth.csv');
  if (existsSync(truthPath)) {
    const truth = readCsv(truthPath);
    const row = new Map(column(truth, 'id').map((id, i) => [id, i]));
    const xs = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'].map((c) => numericColumn(truth, c));
    const phenotype = cases.map((c) => {
      const i = row.get(c.id);
      if (i === undefined) throw new HccError(`${truthPath}: case '${c.id}' is missing`);
      return xs.map((x) => x[i]!);
    });
    const o = oracleCeiling(phenotype, labels, seed);
    oracle = { auc: o.auc, ci: o.ci, gap: o.auc - pmn.auc };
  }
  return { cohort: cohort.csv, n: cases.length, cases: which, tumours, tta, pmn: { auc: pmn.auc, ci: pmn.ci }, baselines, oracle };
}

function coxColumns(csv: string, ids: string[], extra: number[] | null): { time: number[]; event: number[]; columns: Float64Array[]; names: string[] } {
  const table = readCsv(csv);
  const row = new Map(column(table, 'id').map((id, i) => [id, i]));
  const get = (c: string) => {
    if (c === 'afp_log10') return numericColumn(table, 'afp_ng_ml').map((v) => Math.log10(Math.max(v, 0.1)));
    if (!table.columns.includes(c)) throw new HccError(`${csv}: the clinical Cox model needs column '${c}'`);
    return numericColumn(table, c);
  };
  const idx = ids.map((id) => row.get(id)!);
  const cols = CLINICAL_COX_COVARIATES.map((c) => {
    const v = get(c);
    return Float64Array.from(idx, (i) => v[i]!);
  });
  const time = numericColumn(table, 'os_months');
  const event = numericColumn(table, 'os_event');
  return {
    time: idx.map((i) => time[i]!),
    event: idx.map((i) => event[i]!),
    columns: extra ? [...cols, Float64Array.from(extra)] : cols,
    names: extra ? [...CLINICAL_COX_COVARIATES, 'pmn_risk_score'] : CLINICAL_COX_COVARIATES,
  };
}

/**
 * Prognostic value on an iat cohort: Harrell's C of the PMN risk score alone, of a clinical Cox model, and of
 * the clinical Cox model plus the PMN score. Both Cox models are fitted on the model's own iat training cases
 * (provenance in model.json) and evaluated on this cohort's cases; with `tumours` 'all' (or `tta`) both sides are
 * scored that way, so the Cox model sees the same kind of score it is applied to.
 */
export async function evaluatePrognosis(modelDir: string, cohort: CohortFiles, trainingIat: CohortFiles, tumours: TumourMode = 'largest', tta = false): Promise<PrognosisEvaluation> {
  const { ids, cases: which } = await evaluationIds(modelDir, 'iat', cohort.csv);
  const cacheDir = join(modelDir, 'cache');
  const spec = cropSpecFor(readModelJson(modelDir).config);
  const cases = await cohortCases(cohort, 'iat', cacheDir, spec, ids);
  const model = loadModel(modelDir);
  const trainIds = (model.meta.provenance as { iat?: string[] }).iat ?? [];
  let pTest, pTrain, train;
  try {
    train = await cohortCases(trainingIat, 'iat', cacheDir, spec, trainIds);
    pTest = await predictTumours(model, cohort, cases, cacheDir, tumours, { tta });
    pTrain = await predictTumours(model, trainingIat, train, cacheDir, tumours, { tta });
  } finally {
    model.net.dispose();
  }
  const cTest = (s: ArrayLike<number>) => cIndex(Array.from(s), cases.map((c) => c.time!), cases.map((c) => c.event!));
  let clinical = null;
  let combined = null;
  if (train.length > 0) {
    const fitOn = (extra: number[] | null) => fitCox(coxColumns(trainingIat.csv, train.map((c) => c.id), extra), { ties: 'breslow' });
    const evalData = (extra: number[] | null) => coxColumns(cohort.csv, cases.map((c) => c.id), extra);
    const f0 = fitOn(null);
    const f1 = fitOn(pTrain.map((p) => p.riskScore));
    clinical = cTest(coxLinearPredictor(f0, evalData(null), false));
    combined = cTest(coxLinearPredictor(f1, evalData(pTest.map((p) => p.riskScore)), false));
  }
  const strip = (r: { c: number; se: number } | null) => (r ? { c: r.c, se: r.se } : null);
  return {
    cohort: cohort.csv,
    n: cases.length,
    cases: which,
    tumours,
    pmnCindex: strip(cTest(pTest.map((p) => p.riskScore))),
    clinical: strip(clinical),
    clinicalPlusPmn: strip(combined),
    covariates: CLINICAL_COX_COVARIATES,
  };
}
