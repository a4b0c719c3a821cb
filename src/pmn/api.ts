import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { aucDelong, delongCi, splitByOutcome } from '../survival/roc.js';
import { concordanceFit } from '../survival/concordance.js';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { column, formatCsv, numericColumn, readCsv } from '../util/csv.js';
import { HccError } from '../util/errors.js';
import { hashFile } from '../util/hash.js';
import { stratifiedFolds } from './baselines/feature-model.js';
import { trainBaselines } from './baselines/suite.js';
import type { PmnCase } from './batches.js';
import type { PmnConfig, TrainingConfig } from './config.js';
import { explainCase, type Explanation } from './explain.js';
import { cohortCase, ensureCrop, ensureTumourCrops, type CaseSource } from './input.js';
import { loadModel, readModelJson, type LoadedPmn, type PmnModelJson } from './model-store.js';

export { readModelJson };
import { predictCases, type PmnPrediction } from './predict.js';
import { trainPmn } from './train.js';

/**
 * The PMN as the study pipeline calls it: pure functions from files to files. A cohort is its cohort.csv plus
 * where the images are: pre-stored crops (`<crops>/<id>.crop`, the study's imaging stage) or the cohort's
 * `images/` folder (crops made once and cached by content hash), optionally with a predicted mask per case.
 */
export interface CohortFiles {
  csv: string;
  /** Folder of `<id>.crop` files. */
  crops?: string;
  /** Cohort folder holding images/<id>_{art,pv,label}.nii.gz (default: the csv's folder). */
  dir?: string;
  /** Folder of predicted masks `<id>.nii.gz` (a segmentation's output, labels 1 liver / 2 tumour) replacing the label maps. */
  masksDir?: string;
  /** A segmentation model folder whose predicted masks replace the label maps (crops cached per model). */
  segModel?: string;
}

/** The subset of the study's splits.json (CONTRACTS.md) the PMN reads. */
export interface SplitsFile {
  cohorts: Record<string, { train: string[]; test: string[]; folds?: string[][] }>;
}

function sourceOf(cohort: CohortFiles, id: string): CaseSource {
  return cohortCase(cohort.dir ?? dirname(cohort.csv), id, { crops: cohort.crops, maskPath: cohort.masksDir ? join(cohort.masksDir, `${id}.nii.gz`) : undefined, segModel: cohort.segModel });
}

/** Cases of a cohort with their outcome columns (proliferative for resection, os_months/os_event for iat). */
export async function cohortCases(cohort: CohortFiles, kind: 'resection' | 'iat' | 'any', cacheDir: string, ids?: string[]): Promise<PmnCase[]> {
  const table = readCsv(cohort.csv);
  const all = column(table, 'id').map((v, i) => {
    if (!v) throw new HccError(`${cohort.csv}: row ${i + 1} has no id`);
    return v;
  });
  const has = (c: string) => table.columns.includes(c);
  if (kind === 'resection' && !has('proliferative')) throw new HccError(`${cohort.csv}: the resection cohort needs a 'proliferative' column`);
  if (kind === 'iat' && !(has('os_months') && has('os_event'))) throw new HccError(`${cohort.csv}: the iat cohort needs 'os_months' and 'os_event' columns`);
  const label = has('proliferative') ? numericColumn(table, 'proliferative') : null;
  const time = has('os_months') ? numericColumn(table, 'os_months') : null;
  const event = has('os_event') ? numericColumn(table, 'os_event') : null;
  const row = new Map(all.map((id, i) => [id, i]));
  const wanted = ids ?? all;
  const cases: PmnCase[] = [];
  for (const id of wanted) {
    const i = row.get(id);
    if (i === undefined) throw new HccError(`${cohort.csv}: case '${id}' (from the split or case list) is not in the cohort`);
    cases.push({
      id,
      crop: await ensureCrop(sourceOf(cohort, id), cacheDir),
      ...(label ? { label: label[i]! } : {}),
      ...(time ? { time: time[i]!, event: event![i]! } : {}),
    });
  }
  return cases;
}

export function readSplits(path: string): SplitsFile {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as SplitsFile;
    if (!s.cohorts || typeof s.cohorts !== 'object') throw new Error("no 'cohorts' object");
    return s;
  } catch (err) {
    throw new HccError(`${path}: not a splits.json (${(err as Error).message})`);
  }
}

/** A stratified 7:3 train/test split when no splits.json is given (the paper's separate test set). */
export function defaultSplit(ids: string[], strata: number[], seed: number): { train: string[]; test: string[] } {
  const fold = stratifiedFolds(strata, 10, seed);
  return { train: ids.filter((_, i) => fold[i]! >= 3), test: ids.filter((_, i) => fold[i]! < 3) };
}

export interface DetectionSummary {
  n: number;
  auc: number;
  ci: [number, number];
}

export function detectionAuc(prob: number[], labels: number[]): DetectionSummary | null {
  const { cases, controls } = splitByOutcome(prob, labels);
  if (cases.length === 0 || controls.length === 0) return null;
  const d = aucDelong(cases, controls, '<');
  return { n: labels.length, auc: d.auc, ci: delongCi(d.auc, d.variance) };
}

export function cIndex(risk: number[], time: number[], event: number[]): { n: number; c: number; se: number } | null {
  if (!event.some((e) => e === 1)) return null;
  const r = concordanceFit(time, event, risk, { reverse: true });
  return { n: risk.length, c: r.c, se: r.se };
}

export interface TrainRequest {
  resection: CohortFiles;
  iat?: CohortFiles;
  /** The model folder to write. */
  out: string;
  /** splits.json; without it a stratified 7:3 split per cohort is made from `seed` and stored in model.json. */
  splits?: string;
  /** k-fold cross-validation inside the training split (k models under out/fold_<k>/); 0 = none. */
  folds?: number;
  config?: Partial<PmnConfig>;
  training?: Partial<TrainingConfig>;
  resume?: boolean;
  progress?: boolean;
  /** Baselines trained on the same training cases into out/baselines/: radiomics + clinical ('features'), plus the CNN ('all'). */
  baselines?: 'none' | 'features' | 'all';
}

export interface TrainSummary {
  dir: string;
  model: PmnModelJson;
  split: Record<string, { train: string[]; test: string[] }>;
  seconds: number;
}

/**
 * Trains the PMN on the training split of each cohort, evaluates it on both splits (AUC with DeLong CI on
 * resection, Harrell's C on iat), optionally runs k-fold CV on the training split, and writes the model folder.
 */
export async function trainPmnModel(req: TrainRequest): Promise<TrainSummary> {
  const seed = req.training?.seed ?? 0;
  const cacheDir = join(req.out, 'cache');
  const splits = req.splits ? readSplits(req.splits) : null;
  const split: TrainSummary['split'] = {};
  const pick = async (kind: 'resection' | 'iat', files: CohortFiles) => {
    const all = await cohortCases(files, kind, cacheDir);
    const given = splits?.cohorts[kind];
    const s = given ?? defaultSplit(all.map((c) => c.id), all.map((c) => (kind === 'resection' ? c.label! : c.event!)), seed);
    const train = new Set(s.train);
    for (const id of s.train) if (!all.some((c) => c.id === id)) throw new HccError(`${req.splits}: training case '${id}' is not in ${files.csv}`);
    split[kind] = { train: s.train, test: s.test };
    return { train: all.filter((c) => train.has(c.id)), test: all.filter((c) => s.test.includes(c.id)), folds: given?.folds };
  };
  const res = await pick('resection', req.resection);
  const iat = req.iat ? await pick('iat', req.iat) : null;
  const provenance: Record<string, unknown> = {
    synthetic: existsSync(join(dirname(req.resection.csv), 'truth.csv')),
    resectionCsvSha256: await hashFile(req.resection.csv),
    ...(req.iat ? { iatCsvSha256: await hashFile(req.iat.csv) } : {}),
    split,
    splitsFile: req.splits ?? null,
    cohorts: { resection: req.resection, ...(req.iat ? { iat: req.iat } : {}) },
  };
  const result = await trainPmn(res.train, iat?.train ?? [], req.out, { config: req.config, training: req.training, resume: req.resume, provenance, progress: req.progress });

  const metrics: Record<string, unknown> = { epochs: result.epochs.length, trainSeconds: result.seconds };
  const model = loadModel(req.out);
  try {
    for (const [name, cases] of [['train', res.train], ['test', res.test]] as const) {
      const p = await predictCases(model, cases);
      metrics[`resection_${name}_auc`] = detectionAuc(p.map((x) => x.probability), cases.map((c) => c.label!));
    }
    if (iat) {
      for (const [name, cases] of [['train', iat.train], ['test', iat.test]] as const) {
        const p = await predictCases(model, cases);
        metrics[`iat_${name}_cindex`] = cIndex(p.map((x) => x.risk), cases.map((c) => c.time!), cases.map((c) => c.event!));
      }
    }
  } finally {
    model.net.dispose();
  }
  if (req.baselines && req.baselines !== 'none') {
    await trainBaselines(res.train, req.resection.csv, join(req.out, 'baselines'), result.model.normalisation, result.model.config, { ...req.training }, req.baselines === 'all');
  }
  if (req.folds && req.folds > 1) metrics.cv = await crossValidate(res.train, iat?.train ?? [], req, seed);
  const json = { ...result.model, metrics: { ...result.model.metrics, ...metrics } };
  writeJsonAtomicSync(join(req.out, 'model.json'), json);
  return { dir: req.out, model: json, split, seconds: result.seconds };
}

/** k-fold CV on the training split: out-of-fold probabilities and their AUC; fold models under out/fold_<k>/. */
async function crossValidate(resection: PmnCase[], iat: PmnCase[], req: TrainRequest, seed: number): Promise<{ k: number; auc: DetectionSummary | null }> {
  const k = req.folds!;
  const fold = stratifiedFolds(resection.map((c) => c.label!), k, seed + 1);
  const prob = new Array<number>(resection.length);
  for (let f = 0; f < k; f++) {
    const dir = join(req.out, `fold_${f}`);
    await trainPmn(resection.filter((_, i) => fold[i] !== f), iat, dir, { config: req.config, training: req.training, resume: req.resume, progress: req.progress });
    const model = loadModel(dir);
    const held = resection.filter((_, i) => fold[i] === f);
    const p = await predictCases(model, held);
    model.net.dispose();
    let j = 0;
    resection.forEach((_, i) => {
      if (fold[i] === f) prob[i] = p[j++]!.probability;
    });
  }
  return { k, auc: detectionAuc(prob, resection.map((c) => c.label!)) };
}

export interface ScoreRequest {
  model: string;
  cohort: CohortFiles;
  /** Cases to score (default: every row of the cohort csv). */
  ids?: string[];
  /** Scores CSV to write: columns id, probability, risk_score (what the study's detection stage reads). */
  out?: string;
  /** Where crops made from NIfTIs are cached (default <model>/cache). */
  cacheDir?: string;
  /**
   * 'largest' (default, as trained) or 'all': every tumour of ≥ 1 cm is scored on its own crop and the case gets
   * the mean log-odds and mean risk over its tumours (needs NIfTI sources; pre-stored crops hold the largest only).
   */
  tumours?: 'largest' | 'all';
}

/** Scores cases: P(proliferative) and the standardised Cox risk score; writes the scores CSV when `out` is set. */
export async function scorePmn(req: ScoreRequest): Promise<PmnPrediction[]> {
  readModelJson(req.model);
  const cacheDir = req.cacheDir ?? join(req.model, 'cache');
  const cases = await cohortCases(req.cohort, 'any', cacheDir, req.ids);
  const model = loadModel(req.model);
  try {
    const preds = req.tumours === 'all' ? await predictAllTumours(model, cases.map((c) => sourceOf(req.cohort, c.id)), cacheDir) : await predictCases(model, cases);
    if (req.out) writeFileAtomicSync(req.out, formatCsv(['id', 'probability', 'risk_score'], preds.map((p) => ({ id: p.id, probability: p.probability, risk_score: p.riskScore }))));
    return preds;
  } finally {
    model.net.dispose();
  }
}

export interface ExplainRequest {
  model: string;
  /** The case: a crop file or its NIfTI files (see CaseSource). */
  case: CaseSource;
  /** Folder for explanation.json and the similarity-map PNGs. */
  out: string;
  cacheDir?: string;
}

/** Explains one case (top prototypes, contributions summing to the logit, similarity maps, training patches). */
export async function explainPmn(req: ExplainRequest): Promise<Explanation> {
  readModelJson(req.model);
  const crop = await ensureCrop(req.case, req.cacheDir ?? join(req.model, 'cache'));
  const model = loadModel(req.model);
  try {
    return explainCase(model, { id: req.case.id, crop }, req.out);
  } finally {
    model.net.dispose();
  }
}

/** Per case, the mean log-odds and mean risk over its tumours' crops (the `tumours: 'all'` aggregation). */
async function predictAllTumours(model: LoadedPmn, sources: CaseSource[], cacheDir: string): Promise<PmnPrediction[]> {
  const out: PmnPrediction[] = [];
  for (const source of sources) {
    const crops = await ensureTumourCrops(source, cacheDir);
    const per = await predictCases(model, crops.map((crop) => ({ id: source.id, crop })));
    const mean = (f: (p: PmnPrediction) => number) => per.reduce((a, p) => a + f(p), 0) / per.length;
    const logit = mean((p) => p.logit);
    out.push({
      id: source.id,
      probability: 1 / (1 + Math.exp(-logit)),
      logit,
      risk: mean((p) => p.risk),
      riskScore: mean((p) => p.riskScore),
      similarity: per[0]!.similarity.map((_, j) => mean((p) => p.similarity[j]!)),
    });
  }
  return out;
}
