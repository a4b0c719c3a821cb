import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { casePaths } from '../imaging/case.js';
import { aucDelong, delongCi, splitByOutcome } from '../survival/roc.js';
import { concordanceFit } from '../survival/concordance.js';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { column, formatCsv, numericColumn, readCsv } from '../util/csv.js';
import { HccError } from '../util/errors.js';
import { hashFile } from '../util/hash.js';
import { stratifiedFolds } from './baselines/feature-model.js';
import { trainBaselines } from './baselines/suite.js';
import type { PmnCase } from './batches.js';
import { DEFAULT_CONFIG, type PmnConfig, type TrainingConfig } from './config.js';
import { cropSpecFor, type CropSpec } from './crop.js';
import { loadCrop } from './crop-store.js';
import { explainCase, prototypeGallery, type Explanation, type PrototypeCard } from './explain.js';
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
  /** Folder of the case files <id>_{art,pv,label}.nii.gz when it is not `<dir>/images` (a study's real cohort). */
  images?: string;
  /**
   * Folder of predicted masks (a segmentation's output, labels 1 liver / 2 tumour) replacing the label maps:
   * `<id>.nii.gz`, or `<id>_label.nii.gz` as the study's segmentation stage names them.
   */
  masksDir?: string;
  /** A segmentation model folder whose predicted masks replace the label maps (crops cached per model). */
  segModel?: string;
}

/** The subset of the study's splits.json (CONTRACTS.md) the PMN reads. */
export interface SplitsFile {
  cohorts: Record<string, { train: string[]; test: string[]; folds?: string[][] }>;
}

/** How a case with several tumours is scored: its largest tumour (as trained), or the mean over every tumour ≥ 1 cm. */
export type TumourMode = 'largest' | 'all';

function maskIn(masksDir: string, id: string): string {
  const plain = join(masksDir, `${id}.nii.gz`);
  const labelled = casePaths(join(masksDir, id)).label;
  return !existsSync(plain) && existsSync(labelled) ? labelled : plain;
}

/** A cohort's case; `images: true` skips stored crops (they hold the largest tumour only). */
function sourceOf(cohort: CohortFiles, id: string, images = false): CaseSource {
  return cohortCase(cohort.dir ?? dirname(cohort.csv), id, {
    crops: images ? null : cohort.crops,
    images: cohort.images,
    maskPath: cohort.masksDir ? maskIn(cohort.masksDir, id) : undefined,
    segModel: cohort.segModel,
  });
}

/** Cases of a cohort with their outcome columns (proliferative for resection, os_months/os_event for iat). */
export async function cohortCases(cohort: CohortFiles, kind: 'resection' | 'iat' | 'any', cacheDir: string, spec: CropSpec, ids?: string[]): Promise<PmnCase[]> {
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
      crop: await ensureCrop(sourceOf(cohort, id), cacheDir, spec),
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
  const spec = cropSpecFor({ ...DEFAULT_CONFIG, ...req.config });
  const splits = req.splits ? readSplits(req.splits) : null;
  const split: TrainSummary['split'] = {};
  const pick = async (kind: 'resection' | 'iat', files: CohortFiles) => {
    const all = await cohortCases(files, kind, cacheDir, spec);
    const given = splits?.cohorts[kind];
    const s = given ?? defaultSplit(all.map((c) => c.id), all.map((c) => (kind === 'resection' ? c.label! : c.event!)), seed);
    const train = new Set(s.train);
    for (const id of s.train) if (!all.some((c) => c.id === id)) throw new HccError(`${req.splits}: training case '${id}' is not in ${files.csv}`);
    split[kind] = { train: s.train, test: s.test };
    return { train: all.filter((c) => train.has(c.id)), test: all.filter((c) => s.test.includes(c.id)), folds: given?.folds };
  };
  const res = await pick('resection', req.resection);
  // Without both classes among the training cases the classifier cannot be trained and one class's prototypes
  // have nothing to be pushed onto; the default split puts up to 3 cases of each class in the test split first.
  for (const y of [0, 1]) {
    if (!res.train.some((c) => c.label === y)) {
      const n = res.train.length + res.test.length;
      const total = [...res.train, ...res.test].filter((c) => c.label === y).length;
      throw new HccError(`${req.splits ?? req.resection.csv}: the training split has no case with proliferative = ${y} (${total} of the ${n} cases have it, ${res.test.length} cases are held out); the PMN needs both classes to train${req.splits ? '' : ': give a splits.json (--splits) for so small a cohort'}`);
    }
  }
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
  tumours?: TumourMode;
  /** Test-time augmentation over the axial symmetries (predictCases); off by default. */
  tta?: boolean;
}

/** Scores cases: P(proliferative) and the standardised Cox risk score; writes the scores CSV when `out` is set. */
export async function scorePmn(req: ScoreRequest): Promise<PmnPrediction[]> {
  const spec = cropSpecFor(readModelJson(req.model).config);
  const cacheDir = req.cacheDir ?? join(req.model, 'cache');
  const cases = await cohortCases(req.cohort, 'any', cacheDir, spec, req.ids);
  const model = loadModel(req.model);
  try {
    const preds = await predictTumours(model, req.cohort, cases, cacheDir, req.tumours, { tta: req.tta });
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
  /** Test-time augmentation: similarities, logit and risk averaged over the axial symmetries. */
  tta?: boolean;
}

/** The model's prototypes with their weights and training patches (explain.ts, prototypeGallery). */
export function pmnPrototypes(modelDir: string): PrototypeCard[] {
  const model = loadModel(modelDir);
  try {
    return prototypeGallery(model);
  } finally {
    model.net.dispose();
  }
}

/** Explains one case (top prototypes, contributions summing to the logit, similarity maps, training patches). */
export async function explainPmn(req: ExplainRequest): Promise<Explanation> {
  const crop = await ensureCrop(req.case, req.cacheDir ?? join(req.model, 'cache'), cropSpecFor(readModelJson(req.model).config));
  const model = loadModel(req.model);
  try {
    return explainCase(model, { id: req.case.id, crop }, req.out, { tta: req.tta });
  } finally {
    model.net.dispose();
  }
}

/**
 * Predictions for cases of a cohort: from each case's (largest-tumour) crop, or with 'all' the mean over its
 * tumours, each on its own crop made from the case's images; `tta` as in predictCases.
 */
export async function predictTumours(model: LoadedPmn, cohort: CohortFiles, cases: PmnCase[], cacheDir: string, tumours: TumourMode = 'largest', options: { tta?: boolean } = {}): Promise<PmnPrediction[]> {
  if (tumours === 'largest') return predictCases(model, cases, options);
  const out: PmnPrediction[] = [];
  for (const c of cases) {
    const crops = await ensureTumourCrops(sourceOf(cohort, c.id, true), cacheDir, cropSpecFor(model.meta.config));
    // One tumour per forward pass, so each tumour's value is the one `hcc classify --tumours all` shows for it
    // (float32 results depend slightly on the batch they are computed in).
    const per: PmnPrediction[] = [];
    for (const crop of crops) per.push(...(await predictCases(model, [{ id: c.id, crop }], options)));
    out.push({ id: c.id, ...meanOverTumours(per), similarity: per[0]!.similarity.map((_, j) => per.reduce((a, p) => a + p.similarity[j]!, 0) / per.length) });
  }
  return out;
}

/** The `tumours: 'all'` aggregation: mean log-odds (its probability), mean Cox risk and mean risk score. */
function meanOverTumours(per: Array<{ logit: number; risk: number; riskScore: number }>): { probability: number; logit: number; risk: number; riskScore: number } {
  const mean = (f: (p: (typeof per)[number]) => number) => per.reduce((a, p) => a + f(p), 0) / per.length;
  const logit = mean((p) => p.logit);
  return { probability: 1 / (1 + Math.exp(-logit)), logit, risk: mean((p) => p.risk), riskScore: mean((p) => p.riskScore) };
}

/** One tumour's explanation in the `tumours: 'all'` mode. */
export interface TumourExplanation extends Explanation {
  /** 1 = the largest. */
  tumour: number;
  /** Tumour volume in its crop (mL) and the crop centre (RAS mm), so a reader can tell the tumours apart. */
  volumeMl: number;
  centreMm: [number, number, number];
}

/** A case explained over all its tumours: the aggregate (as scorePmn's 'all') and one explanation per tumour. */
export interface MultiTumourExplanation {
  id: string;
  probability: number;
  /** Mean of the tumours' log-odds. */
  logit: number;
  risk: number;
  riskScore: number;
  /** Every tumour of ≥ 1 cm, largest first, each explained on its own crop (in out/tumour_<n>/). */
  tumours: TumourExplanation[];
}

/** Explains every tumour of ≥ 1 cm on its own crop and aggregates them; writes out/explanation.json and out/tumour_<n>/. */
export async function explainPmnTumours(req: ExplainRequest): Promise<MultiTumourExplanation> {
  const crops = await ensureTumourCrops(req.case, req.cacheDir ?? join(req.model, 'cache'), cropSpecFor(readModelJson(req.model).config));
  const model = loadModel(req.model);
  try {
    const tumours = crops.map((path, r): TumourExplanation => {
      const crop = loadCrop(path);
      const voxelMl = crop.spacing.reduce((a, s) => a * s, 1) / 1000;
      const ex = explainCase(model, { id: req.case.id, crop: path }, join(req.out, `tumour_${r + 1}`), { tta: req.tta });
      return { tumour: r + 1, volumeMl: crop.tumour.reduce((a, v) => a + v, 0) * voxelMl, centreMm: crop.centre, ...ex };
    });
    const result: MultiTumourExplanation = { id: req.case.id, ...meanOverTumours(tumours), tumours };
    writeJsonAtomicSync(join(req.out, 'explanation.json'), result);
    return result;
  } finally {
    model.net.dispose();
  }
}
