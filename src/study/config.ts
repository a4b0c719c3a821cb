import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isDeviceName } from '../segmentation/model.js';
import { HccError } from '../util/errors.js';

/**
 * The study config: one documented JSON or YAML file naming the cohorts, splits, models and analyses
 * (docs/study.md lists every key). Unknown keys are errors, not silently ignored, so a typo cannot quietly
 * change a study.
 */
export type Grid = 'clinical' | 'small' | 'tiny';

export interface SyntheticCohortConfig {
  /**
   * `images`: `true` stores every CT phantom in stage 1; `on-demand` stores only the tables and renders each case
   * again from its seed where a stage needs it (paper-scale cohorts); `false`: no images.
   */
  synthetic: { n: number; seed: number; grid: Grid; site?: string; images: boolean | 'on-demand' };
}

export interface RealCohortConfig {
  /** CSV of clinical data and outcomes in the columns of src/clinical/schema.ts. */
  csv: string;
  /** Folder holding <id>_art.nii.gz, <id>_pv.nii.gz (and optionally <id>_label.nii.gz). */
  images?: string;
}

export type CohortConfig = SyntheticCohortConfig | RealCohortConfig;

export interface StudyConfig {
  name: string;
  /** Master seed: splits, bootstrap and training draw their own streams from it. */
  seed: number;
  cohorts: { resection: CohortConfig; iat: CohortConfig };
  splits: { testFraction: number; folds: number };
  /**
   * `checkpoint`: which checkpoint of each fold segments the cases (nnU-Net's -chk); checkpoint_final.pth by default.
   * `device`: where the segmentation networks run, 'cpu' (default) or 'cuda[:N]' (docs/torch.md).
   */
  segmentation: { mode: 'labels' | 'train' | 'model'; model?: string; epochs: number; checkpoint?: 'final' | 'best'; device?: string };
  /**
   * `network` overrides fields of the PMN's architecture (src/pmn/config.ts), e.g. a small one for tests.
   * `tumours`: score a case's largest tumour (as trained) or the mean over every tumour of at least 1 cm.
   */
  pmn: { epochs: number; model?: string; network?: Record<string, unknown>; tumours: 'largest' | 'all' };
  /** `force`: candidates kept whatever their screen p-value and AIC (the imaging score a study sets out to test). */
  nomogram: { selection: 'backward-aic' | 'univariable-backward-aic'; candidates: string[]; screenP: number; force?: string[] };
  analyses: { times: number[]; horizon: number; bootstrap: number; riskCut: 'maxstat' | 'median' };
  /** Where the config came from, for relative paths and provenance. */
  source: string;
}

const DEFAULTS = {
  splits: { testFraction: 0.3, folds: 5 },
  segmentation: { mode: 'labels', epochs: 20 },
  pmn: { epochs: 30, tumours: 'largest' },
  nomogram: {
    selection: 'univariable-backward-aic',
    candidates: ['pmn_score', 'age_years', 'afp_log10', 'tumour_diameter_cm', 'tumour_count', 'albi_score', 'pvtt', 'ehs', 'ecog'],
    screenP: 0.1,
  },
  analyses: { times: [12, 24, 36], horizon: 36, bootstrap: 200, riskCut: 'maxstat' },
} as const;

type Json = Record<string, unknown>;

function expectObject(value: unknown, where: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HccError(`${where}: expected an object`);
  return value as Json;
}

function rejectUnknown(obj: Json, allowed: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new HccError(`${where}: unknown key '${key}' (allowed: ${allowed.join(', ')})`);
  }
}

function num(obj: Json, key: string, where: string, fallback: number | undefined, check: (v: number) => boolean, expected: string): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !check(v)) throw new HccError(`${where}.${key}: expected ${expected}, got ${JSON.stringify(obj[key])}`);
  return v;
}

function oneOf<T extends string>(obj: Json, key: string, where: string, fallback: T, options: readonly T[]): T {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'string' || !options.includes(v as T)) throw new HccError(`${where}.${key}: expected one of ${options.join(', ')}, got ${JSON.stringify(obj[key])}`);
  return v as T;
}

function parseCohort(value: unknown, where: string, base: string): CohortConfig {
  const obj = expectObject(value, where);
  if ('synthetic' in obj) {
    rejectUnknown(obj, ['synthetic'], where);
    const s = expectObject(obj.synthetic, `${where}.synthetic`);
    rejectUnknown(s, ['n', 'seed', 'grid', 'site', 'images'], `${where}.synthetic`);
    const w = `${where}.synthetic`;
    const site = s.site;
    if (site !== undefined && typeof site !== 'string') throw new HccError(`${w}.site: expected a site name`);
    if (s.images !== undefined && typeof s.images !== 'boolean' && s.images !== 'on-demand') {
      throw new HccError(`${w}.images: expected true (store the CT phantoms), false (none) or 'on-demand' (render them from their seeds where needed), got ${JSON.stringify(s.images)}`);
    }
    return {
      synthetic: {
        n: num(s, 'n', w, undefined, (v) => Number.isInteger(v) && v >= 10, 'an integer of at least 10'),
        seed: num(s, 'seed', w, undefined, Number.isInteger, 'an integer'),
        grid: oneOf(s, 'grid', w, 'small', ['clinical', 'small', 'tiny'] as const),
        ...(site ? { site } : {}),
        images: (s.images as boolean | 'on-demand' | undefined) ?? true,
      },
    };
  }
  rejectUnknown(obj, ['csv', 'images'], where);
  if (typeof obj.csv !== 'string') throw new HccError(`${where}: expected either 'synthetic: {...}' or 'csv: <path>'`);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return { csv: abs(obj.csv), ...(typeof obj.images === 'string' ? { images: abs(obj.images) } : {}) };
}

export function parseStudyConfig(raw: unknown, source: string): StudyConfig {
  const where = source;
  const obj = expectObject(raw, where);
  rejectUnknown(obj, ['name', 'seed', 'cohorts', 'splits', 'segmentation', 'pmn', 'nomogram', 'analyses'], where);
  if (typeof obj.name !== 'string' || obj.name === '') throw new HccError(`${where}.name: expected a study name`);
  const base = dirname(source);
  const cohorts = expectObject(obj.cohorts, `${where}.cohorts`);
  rejectUnknown(cohorts, ['resection', 'iat'], `${where}.cohorts`);
  const splits = expectObject(obj.splits ?? {}, `${where}.splits`);
  rejectUnknown(splits, ['testFraction', 'folds'], `${where}.splits`);
  const seg = expectObject(obj.segmentation ?? {}, `${where}.segmentation`);
  rejectUnknown(seg, ['mode', 'model', 'epochs', 'checkpoint', 'device'], `${where}.segmentation`);
  if (seg.device !== undefined && (typeof seg.device !== 'string' || !isDeviceName(seg.device))) {
    throw new HccError(`${where}.segmentation.device: expected 'cpu', 'cuda' or 'cuda:N', got ${JSON.stringify(seg.device)}`);
  }
  const pmn = expectObject(obj.pmn ?? {}, `${where}.pmn`);
  rejectUnknown(pmn, ['epochs', 'model', 'network', 'tumours'], `${where}.pmn`);
  const network = pmn.network === undefined ? undefined : expectObject(pmn.network, `${where}.pmn.network`);
  const nomo = expectObject(obj.nomogram ?? {}, `${where}.nomogram`);
  rejectUnknown(nomo, ['selection', 'candidates', 'screenP', 'force'], `${where}.nomogram`);
  const an = expectObject(obj.analyses ?? {}, `${where}.analyses`);
  rejectUnknown(an, ['times', 'horizon', 'bootstrap', 'riskCut'], `${where}.analyses`);
  const candidates = nomo.candidates ?? DEFAULTS.nomogram.candidates;
  if (!Array.isArray(candidates) || candidates.some((c) => typeof c !== 'string')) {
    throw new HccError(`${where}.nomogram.candidates: expected a list of column names`);
  }
  const force = nomo.force;
  if (force !== undefined && (!Array.isArray(force) || force.some((f) => typeof f !== 'string' || !(candidates as string[]).includes(f)))) {
    throw new HccError(`${where}.nomogram.force: expected a list of terms from nomogram.candidates (${(candidates as string[]).join(', ')}), got ${JSON.stringify(force)}`);
  }
  const times = an.times ?? DEFAULTS.analyses.times;
  if (!Array.isArray(times) || times.some((t) => typeof t !== 'number' || !(t > 0))) {
    throw new HccError(`${where}.analyses.times: expected a list of positive times in months`);
  }
  const model = (o: Json, w: string) => {
    if (o.model === undefined) return {};
    if (typeof o.model !== 'string') throw new HccError(`${w}.model: expected a model folder path`);
    return { model: isAbsolute(o.model) ? o.model : resolve(base, o.model) };
  };
  return checkOnDemand({
    name: obj.name,
    seed: num(obj, 'seed', where, 1, Number.isInteger, 'an integer'),
    cohorts: {
      resection: parseCohort(cohorts.resection, `${where}.cohorts.resection`, base),
      iat: parseCohort(cohorts.iat, `${where}.cohorts.iat`, base),
    },
    splits: {
      testFraction: num(splits, 'testFraction', `${where}.splits`, DEFAULTS.splits.testFraction, (v) => v > 0 && v < 1, 'a fraction in (0, 1)'),
      folds: num(splits, 'folds', `${where}.splits`, DEFAULTS.splits.folds, (v) => Number.isInteger(v) && v >= 2, 'an integer of at least 2'),
    },
    segmentation: {
      mode: oneOf(seg, 'mode', `${where}.segmentation`, DEFAULTS.segmentation.mode, ['labels', 'train', 'model'] as const),
      epochs: num(seg, 'epochs', `${where}.segmentation`, DEFAULTS.segmentation.epochs, (v) => Number.isInteger(v) && v >= 1, 'a positive integer'),
      ...model(seg, `${where}.segmentation`),
      // Only when given, so the stage hashes of studies without it do not change.
      ...(seg.checkpoint === undefined ? {} : { checkpoint: oneOf(seg, 'checkpoint', `${where}.segmentation`, 'final', ['final', 'best'] as const) }),
      ...(seg.device === undefined ? {} : { device: seg.device as string }),
    },
    pmn: {
      epochs: num(pmn, 'epochs', `${where}.pmn`, DEFAULTS.pmn.epochs, (v) => Number.isInteger(v) && v >= 1, 'a positive integer'),
      ...model(pmn, `${where}.pmn`),
      ...(network ? { network } : {}),
      tumours: oneOf(pmn, 'tumours', `${where}.pmn`, DEFAULTS.pmn.tumours, ['largest', 'all'] as const),
    },
    nomogram: {
      selection: oneOf(nomo, 'selection', `${where}.nomogram`, DEFAULTS.nomogram.selection, ['backward-aic', 'univariable-backward-aic'] as const),
      candidates: candidates as string[],
      screenP: num(nomo, 'screenP', `${where}.nomogram`, DEFAULTS.nomogram.screenP, (v) => v > 0 && v <= 1, 'a p-value threshold in (0, 1]'),
      // Only when given, so the stage hashes of studies without it do not change.
      ...(force ? { force: force as string[] } : {}),
    },
    analyses: {
      times: times as number[],
      horizon: num(an, 'horizon', `${where}.analyses`, DEFAULTS.analyses.horizon, (v) => v > 0, 'a positive time in months'),
      bootstrap: num(an, 'bootstrap', `${where}.analyses`, DEFAULTS.analyses.bootstrap, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
      riskCut: oneOf(an, 'riskCut', `${where}.analyses`, DEFAULTS.analyses.riskCut, ['maxstat', 'median'] as const),
    },
    source,
  });
}

/** `pmn.tumours: all` crops every tumour from each case's image files at scoring time, which on-demand cohorts do not keep. */
function checkOnDemand(config: StudyConfig): StudyConfig {
  for (const kind of ['resection', 'iat'] as const) {
    const c = config.cohorts[kind];
    if (config.pmn.tumours === 'all' && isSynthetic(c) && c.synthetic.images === 'on-demand') {
      throw new HccError(`${config.source}.pmn.tumours: 'all' crops every tumour from the stored images, but cohorts.${kind}.synthetic.images is 'on-demand'; use pmn.tumours: largest, or images: true`);
    }
  }
  return config;
}

export function loadStudyConfig(path: string): StudyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HccError(`cannot read study config ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new HccError(`${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  return parseStudyConfig(raw, resolve(path));
}

export function isSynthetic(c: CohortConfig): c is SyntheticCohortConfig {
  return 'synthetic' in c;
}
