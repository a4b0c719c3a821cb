import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { casePaths } from '../imaging/case.js';
import { readNiftiHeader } from '../imaging/nifti/read.js';
import { scorePmn } from '../pmn/api.js';
import { oracleCeiling } from '../pmn/baselines/oracle.js';
import { cropSpecFor } from '../pmn/crop.js';
import { readModelJson } from '../pmn/model-store.js';
import { checkDevice, disposeModel, loadSegmentationModel } from '../segmentation/model.js';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { formatCsv } from '../util/csv.js';
import { HccError } from '../util/errors.js';
import { calibrationAndDca, type CalibrationAtTime } from './analyses/calibration-dca.js';
import { fitCoxModel, riskFromBaseline, riskFunction } from './analyses/cox-model.js';
import { detectionMetrics, type DetectionMetrics } from './analyses/detection.js';
import { evaluateScores, type PrognosticMetrics } from './analyses/prognostic-metrics.js';
import { isSynthetic, type CohortConfig, type StudyConfig } from './config.js';
import { CohortFrame } from './frame.js';
import { NOMOGRAM_MODEL_KIND, readPmnScoring, type NomogramModelFile } from './outputs.js';
import { predictorValues, withPmnScore } from './predictors.js';
import { prepareCohort, type CohortEntry } from './stages/cohorts.js';
import { processCohort } from './stages/imaging.js';
import { segmentCohort, type SegmentedCohort } from './stages/segmentation.js';

/**
 * `hcc study validate`: a frozen study applied to another cohort (another site) for external validation. The
 * nomogram is used exactly as stored; its discrimination, Brier/IBS and calibration are reported as is. A
 * recalibrated version (a Cox model on the external cohort with the frozen linear predictor as the only term:
 * the calibration slope, and a new baseline hazard) is reported separately, never mixed with the frozen one.
 *
 * When the nomogram uses the PMN imaging score, each external case goes through the study's own imaging: masks
 * from the same source the study used (label maps, or the study's frozen segmentation model), the same crops
 * (stage 3's processCohort), and the study's frozen PMN (models/pmn), whose risk_score becomes pmn_score as in
 * stage 5. An external resection cohort with images also gets the frozen PMN's detection AUC.
 */
export interface ValidationImaging {
  /** The frozen PMN folder that scored the cases. */
  model: string;
  /** Where the masks came from: the external label maps, or the study's frozen segmentation model. */
  masks: 'labels' | 'segmentation';
  n: number;
  /** Cases with an imaging score. */
  scored: number;
  /** Cases whose mask has no tumour: no crop, no imaging score (they drop out as incomplete). */
  noTumour: string[];
  /** Tumour count and diameter measured from the masks against the cohort table. */
  measurement: { countAgreement: number; diameterMeanAbsErrorCm: number };
  /** The study's segmentation model against the external label maps, where it segmented and they exist. */
  dice: SegmentedCohort['dice'];
  /** id, probability, risk_score (scorePmn's columns). */
  scoresCsv: string;
}

export interface ExternalDetection extends ValidationImaging {
  /** The frozen PMN's P(proliferative) against the observed label, on the scored cases. */
  pmn: DetectionMetrics;
  /** Synthetic cohorts: the oracle ceiling (CONTRACTS.md) on the same cases and labels, and the PMN's gap to it. */
  oracle: { auc: number; ci: [number, number]; n: number; gap: number } | null;
}

export interface ValidationResult {
  study: string;
  cohort: { n: number; complete: number; synthetic: boolean };
  /** The IAT cohort's imaging step; null when the nomogram has no image-based term. */
  imaging: ValidationImaging | null;
  /** Null when the study has no PMN or the external resection cohort has no images (`detectionSkipped` says which). */
  detection: ExternalDetection | null;
  detectionSkipped: string | null;
  frozen: { metrics: PrognosticMetrics; nullIbs: number; calibration: CalibrationAtTime[] };
  recalibrated: { slope: number; slopeSe: number; metrics: PrognosticMetrics; calibration: CalibrationAtTime[] };
  /** cases.csv: id, the frozen nomogram's linear predictor and risk group (frozen cut-off), per complete case. */
  casesCsv: string;
}

function hasImages(c: CohortConfig): boolean {
  return isSynthetic(c) ? c.synthetic.images !== false : c.images !== undefined;
}

/**
 * Before any work: every case has both phases (and a label map when the study used label maps), each a single
 * 3-D volume. The PMN reads one channel per phase file; a 4-D file (phases or frames stacked) would silently be
 * something else. All problems are reported together.
 */
async function checkCaseImages(entry: CohortEntry, needLabels: boolean, pmnChannels: string[]): Promise<void> {
  const problems: string[] = [];
  for (const id of CohortFrame.read(entry.csv).ids) {
    const files = casePaths(join(entry.images!, id));
    const wanted = [files.art, files.pv, ...(needLabels ? [files.label] : [])];
    for (const file of wanted) {
      if (!existsSync(file)) {
        problems.push(`${file}: missing${file === files.label ? ' (the study measured and cropped tumours from label maps, so the external cohort needs them too)' : ''}`);
        continue;
      }
      const dims = (await readNiftiHeader(file)).header.dims;
      const extra = dims.slice(3).reduce((a, b) => a * b, 1);
      if (extra > 1) {
        problems.push(`${file}: ${dims.length}-D image (dim ${dims.join('x')}) with ${extra} channels/frames; the study's PMN reads the channels [${pmnChannels.join(', ')}] from one 3-D volume per file (<id>_art, <id>_pv, <id>_label)`);
      }
    }
  }
  if (problems.length > 0) {
    throw new HccError(`external ${entry.kind} cohort ${entry.images}: images do not fit the study's imaging:\n  - ${problems.slice(0, 20).join('\n  - ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`);
  }
}

interface ImagingSetup {
  pmn: string;
  channels: string[];
  /** The study's frozen segmentation model, or null when it used the label maps. */
  segModel: string | null;
  /** The study's own settings, so external cases are segmented and scored as its cases were. */
  study: Pick<StudyConfig, 'segmentation' | 'pmn'>;
  /** Where this run segments: the external config's `segmentation.device`, not the study's (another machine). */
  device?: string;
  outDir: string;
}

/** The study's config as results.json records it (provenance.config). */
function studySettings(studyDir: string): ImagingSetup['study'] {
  const path = join(studyDir, 'results.json');
  if (!existsSync(path)) throw new HccError(`${path}: missing; --study must be a folder written by 'hcc study run'`);
  const config = (JSON.parse(readFileSync(path, 'utf8')) as { provenance?: { config?: Partial<ImagingSetup['study']> } }).provenance?.config;
  if (!config?.segmentation || !config.pmn) throw new HccError(`${path}: no provenance.config.segmentation / .pmn; was it written by 'hcc study run'?`);
  return { segmentation: config.segmentation, pmn: config.pmn };
}

/** One external cohort through the study's masks, stage 3's crops and the frozen PMN. */
async function imageAndScore(entry: CohortEntry, setup: ImagingSetup): Promise<ValidationImaging> {
  let seg: SegmentedCohort | null = null;
  if (setup.segModel) {
    const loaded = loadSegmentationModel(setup.segModel, { checkpoint: setup.study.segmentation.checkpoint, device: setup.device });
    try {
      seg = await segmentCohort(loaded, entry, join(setup.outDir, 'masks', entry.kind));
    } finally {
      disposeModel(loaded);
    }
  }
  const img = await processCohort(entry, join(setup.outDir, 'imaging'), {
    overlays: 0, masksDir: seg?.masks ?? null, workers: availableParallelism(), radiomics: false, cropSpec: cropSpecFor(readModelJson(setup.pmn).config),
  });
  const scoresCsv = join(setup.outDir, `scores_${entry.kind}.csv`);
  if (img.noTumour.length < img.n) {
    // As stage 4-pmn scored (models/pmn/scoring.json): the stored (largest-tumour) crops, or with `pmn.tumours: all`
    // every tumour cropped from the images and the masks the crops came from.
    const tumours = readPmnScoring(setup.pmn);
    if (tumours === 'all' && !entry.images) throw new HccError(`external ${entry.kind} cohort: the study scores every tumour (pmn.tumours: all) from stored images, but its images are rendered on demand; use images: true`);
    const cohort = { csv: img.croppedCsv, crops: img.cropsDir, ...(tumours === 'all' ? { images: entry.images!, ...(seg ? { masksDir: seg.masks } : {}) } : {}) };
    await scorePmn({ model: setup.pmn, cohort, out: scoresCsv, tumours, cacheDir: join(setup.outDir, 'cache') });
  } else {
    writeFileAtomicSync(scoresCsv, formatCsv(['id', 'probability', 'risk_score'], []));
  }
  return {
    model: setup.pmn,
    masks: img.masks,
    n: img.n,
    scored: img.n - img.noTumour.length,
    noTumour: img.noTumour,
    measurement: img.measurement,
    dice: seg?.dice ?? null,
    scoresCsv,
  };
}

/** The frozen PMN's detection on an external resection cohort, with the oracle ceiling on synthetic data. */
function externalDetection(entry: CohortEntry, imaging: ValidationImaging, seed: number): { detection: ExternalDetection | null; skipped: string | null } {
  const frame = CohortFrame.read(entry.csv);
  const label = frame.num('proliferative');
  const scores = CohortFrame.read(imaging.scoresCsv);
  const prob = Array.from(scores.num('probability'));
  const labels = scores.ids.map((id) => label[frame.rowOf(id)!]!);
  if (labels.some((v) => v !== 0 && v !== 1)) throw new HccError(`${entry.csv}: 'proliferative' must be 0 or 1 for every case with an imaging score`);
  const positives = labels.filter((v) => v === 1).length;
  if (positives === 0 || positives === labels.length) {
    return { detection: null, skipped: `the ${labels.length} scored resection cases are all ${positives ? 'proliferative' : 'non-proliferative'}; an AUC needs both` };
  }
  const pmn = detectionMetrics(prob, labels, true).metrics;
  let oracle: ExternalDetection['oracle'] = null;
  if (entry.truth) {
    const truth = CohortFrame.read(entry.truth);
    const xs = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'].map((c) => truth.num(c));
    // The same cases and labels as the PMN (CONTRACTS.md), in the scores' order.
    const rows = scores.ids.map((id) => xs.map((x) => x[truth.rowOf(id)!]!));
    const o = oracleCeiling(rows, labels, seed);
    oracle = { auc: o.auc, ci: o.ci, n: o.n, gap: o.auc - pmn.auc };
  }
  return { detection: { ...imaging, pmn, oracle }, skipped: null };
}

export async function validateStudy(studyDir: string, config: StudyConfig, outDir: string): Promise<ValidationResult> {
  const modelPath = join(studyDir, 'models', 'nomogram', 'model.json');
  if (!existsSync(modelPath)) throw new HccError(`${modelPath}: missing; --study must be a folder written by 'hcc study run'`);
  const model = JSON.parse(readFileSync(modelPath, 'utf8')) as NomogramModelFile;
  if (model.kind !== NOMOGRAM_MODEL_KIND) throw new HccError(`${modelPath}: kind ${model.kind}, expected ${NOMOGRAM_MODEL_KIND}`);
  const usesPmn = model.terms.some((t) => t.name === 'pmn_score');
  const pmnDir = join(studyDir, 'models', 'pmn');
  const hasPmn = existsSync(join(pmnDir, 'model.json'));
  const segDir = join(studyDir, 'models', 'segmentation');
  // Everything that can be checked without work is checked first, so a bad setup fails before any cohort is made.
  if (usesPmn && !hasPmn) {
    throw new HccError(`${join(pmnDir, 'model.json')}: missing; the nomogram ${modelPath} has the term pmn_score (the PMN imaging score), and validating it needs the study's frozen PMN in models/pmn`);
  }
  if (usesPmn && !hasImages(config.cohorts.iat)) {
    throw new HccError(
      `${config.source}: cohorts.iat has no images, but the nomogram ${modelPath} uses the PMN imaging score (pmn_score), computed from each patient's arterial and portal-venous CT; ` +
        `give cohorts.iat.images (a folder of <id>_art.nii.gz, <id>_pv.nii.gz${existsSync(segDir) ? '' : ', <id>_label.nii.gz'}) or, for a synthetic cohort, images: true`,
    );
  }
  const setup: ImagingSetup | null = hasPmn
    ? { pmn: pmnDir, channels: readModelJson(pmnDir).channels, segModel: existsSync(segDir) ? segDir : null, study: studySettings(studyDir), device: config.segmentation.device, outDir }
    : null;
  if (setup?.segModel && setup.device) checkDevice(setup.device);

  const entry = await prepareCohort('iat', config.cohorts.iat, join(outDir, 'cohort'), 2);
  const detectionSkipped = !setup ? 'the study has no PMN (models/pmn)' : !hasImages(config.cohorts.resection) ? `${config.source}: cohorts.resection has no images` : null;
  const resection = detectionSkipped ? null : await prepareCohort('resection', config.cohorts.resection, join(outDir, 'cohort'), 2);
  // Cases rendered on demand are 3-D phases with their label map by construction; stored ones are checked.
  for (const e of [usesPmn ? entry : null, resection]) if (e && !e.onDemand) await checkCaseImages(e, setup!.segModel === null, setup!.channels);
  const imaging = usesPmn ? await imageAndScore(entry, setup!) : null;
  let all = CohortFrame.read(entry.csv);
  if (imaging) all = withPmnScore(all, imaging.scoresCsv);
  const values = model.terms.map((t) => predictorValues(all, t.name));
  const time0 = all.num('os_months');
  const event0 = all.num('os_event');
  const complete = all.filter((i) => Number.isFinite(time0[i]!) && Number.isFinite(event0[i]!) && values.every((v) => Number.isFinite(v[i]!)));
  if (complete.length < 20) {
    const why = imaging && imaging.noTumour.length ? ` (${imaging.noTumour.length} of ${imaging.n} cases have no tumour in their mask, hence no imaging score)` : '';
    throw new HccError(`external cohort: only ${complete.length} complete cases for the nomogram terms ${model.terms.map((t) => t.name).join(', ')}${why}`);
  }
  const time = complete.num('os_months');
  const event = complete.num('os_event');
  const cols = model.terms.map((t) => predictorValues(complete, t.name));
  const lp = Float64Array.from(time, (_, i) => model.terms.reduce((s, t, j) => s + t.coef * (cols[j]![i]! - model.means[j]!), 0));
  const casesCsv = join(outDir, 'cases.csv');
  writeFileAtomicSync(
    casesCsv,
    formatCsv(['id', 'nomogram_lp', 'risk_group'], complete.ids.map((id, i) => ({ id, nomogram_lp: lp[i]!, risk_group: lp[i]! > model.riskCut.cutoff ? 'high' : 'low' }))),
  );
  const { times, horizon } = config.analyses;
  const frozenRisk = riskFromBaseline(model.baseline, lp);
  const frozen = evaluateScores(time, event, [{ name: 'nomogram', marker: lp, risk: frozenRisk }], times, horizon);
  // Recalibration: slope and baseline re-estimated on the external cohort, the linear predictor kept.
  const refit = fitCoxModel(time, event, ['lp'], [lp]);
  const slope = refit.fit.coef[0]!;
  const recalRisk = riskFunction(refit, [lp]);
  const recal = evaluateScores(time, event, [{ name: 'nomogram', marker: lp, risk: recalRisk }], times, horizon);

  const external = resection ? externalDetection(resection, await imageAndScore(resection, setup!), config.seed) : null;

  const result: ValidationResult = {
    study: model.provenance.study,
    cohort: { n: all.length, complete: complete.length, synthetic: entry.synthetic },
    imaging,
    detection: external?.detection ?? null,
    detectionSkipped: external ? external.skipped : detectionSkipped,
    frozen: { metrics: frozen.metrics['nomogram']!, nullIbs: frozen.nullIbs, calibration: calibrationAndDca(time, event, frozenRisk, times) },
    recalibrated: { slope, slopeSe: refit.fit.se[0]!, metrics: recal.metrics['nomogram']!, calibration: calibrationAndDca(time, event, recalRisk, times) },
    casesCsv,
  };
  writeJsonAtomicSync(join(outDir, 'validation.json'), result);
  return result;
}
