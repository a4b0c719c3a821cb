import { existsSync, readFileSync } from 'node:fs';
import { writeNiftiSync } from '../imaging/nifti/write.js';
import { explainPmn, explainPmnTumours, type TumourExplanation, type TumourMode } from '../pmn/api.js';
import type { Explanation } from '../pmn/explain.js';
import { segmentCase } from '../segmentation/infer.js';
import { disposeModel, loadSegmentationModel } from '../segmentation/model.js';
import { join } from 'node:path';
import { validateClinical, type ClinicalValues } from '../clinical/schema.js';
import { openImage } from '../imaging/dicom/open.js';
import { measureTumours, type TumourMeasurements } from '../imaging/tumour.js';
import type { Volume } from '../imaging/volume.js';
import { deriveStages, type StageRow } from '../staging/index.js';
import { HccError } from '../util/errors.js';
import { CohortFrame } from './frame.js';
import { NOMOGRAM_MODEL_KIND, readPmnScoring, TREATMENT_MODEL_KIND, type NomogramModelFile } from './outputs.js';
import { predictorSource, predictorValues } from './predictors.js';
import { predictArmsWithCi, type ArmPredictionWithCi } from './analyses/treatment-model.js';
import type { TreatmentRules } from './stages/treatment.js';

/**
 * `hcc predict`: one patient through a finished study's frozen models. Clinical values are validated against
 * the schema; tumour measurements come from the mask (or the clinician's overrides); the nomogram gives the
 * linear predictor and risk group; the treatment model gives survival under TACE and HAIC with the study's
 * bootstrap CIs and the recommendation by the study's decision rule. Every output carries its provenance.
 */
export interface PredictInput {
  studyDir: string;
  /** Raw clinical fields (JSON file values or --field=value), validated here. */
  clinical: Record<string, unknown>;
  art?: string;
  pv?: string;
  mask?: string;
  tumourCount?: number;
  tumourDiameterCm?: number;
  researchUseOnly: boolean;
  /** Where the segmentation, crops and the PMN explanation (JSON and PNGs) are written. */
  outDir: string;
  /** Where the segmentation networks run: 'cpu' (default) or 'cuda[:N]'. */
  device?: string;
}

export interface PredictOutput {
  provenance: { study: string; studyDir: string; syntheticTraining: boolean; modelCard: string; researchUseOnly: boolean };
  banner: string | null;
  warnings: string[];
  measurements: (TumourMeasurements & { source: string }) | null;
  /** The PMN's reading of the tumours, when the study has a PMN and the images were given. */
  imaging: {
    /** How the tumours were read: as the study scored its cases (models/pmn/scoring.json). */
    aggregation: TumourMode;
    /** P(proliferative) and the imaging risk score (pmn_score): the largest tumour's, or with 'all' the mean log-odds and mean risk score over every tumour of at least 1 cm. */
    probability: number;
    riskScore: number;
    /** The largest tumour's explanation. */
    explanation: Explanation;
    /** With 'all': every tumour of at least 1 cm, largest first, each explained on its own crop (explanationDir/tumour_<n>/); null with 'largest'. */
    tumours: TumourExplanation[] | null;
    explanationDir: string;
  } | null;
  clinical: ClinicalValues;
  staging: StageRow;
  nomogram: { lp: number; riskGroup: 'low' | 'high'; cutoff: number; terms: Array<{ name: string; label: string; value: number; contribution: number }> };
  survival: Omit<ArmPredictionWithCi, 'recommendation'> & { horizon: number };
  recommendation: { choice: ArmPredictionWithCi['recommendation']; text: string };
}

/**
 * Inputs far from what the models were trained on are flagged, not refused: a clinician decides. The ranges are
 * those of contrast-enhanced abdominal CT in clinical practice (clinical-model.md §3), which the phantoms span.
 */
function distributionFlags(mask: Volume, liverMl: number): string[] {
  const flags: string[] = [];
  const [sx, sy, sz] = mask.spacing;
  if (Math.max(sx, sy) > 1.6 || Math.min(sx, sy) < 0.5) flags.push(`in-plane spacing ${sx.toFixed(2)} x ${sy.toFixed(2)} mm is outside the 0.5-1.6 mm the models were trained on`);
  if (sz > 5 || sz < 0.5) flags.push(`slice spacing ${sz.toFixed(2)} mm is outside the 0.5-5 mm the models were trained on`);
  if (liverMl < 600 || liverMl > 4000) flags.push(`liver volume ${liverMl.toFixed(0)} mL is outside the usual 600-4000 mL; check the mask`);
  return flags;
}

function intensityFlags(phase: string, image: Volume, mask: Volume): string[] {
  if (image.shape.some((n, d) => n !== mask.shape[d])) return [`the ${phase} image and the mask have different grids; intensities were not checked`];
  const liver: number[] = [];
  for (let p = 0; p < mask.data.length; p++) if (mask.data[p] === 1) liver.push(Number(image.data[p]));
  if (liver.length === 0) return [];
  liver.sort((a, b) => a - b);
  const median = liver[liver.length >> 1]!;
  // Enhanced liver parenchyma sits at roughly 60-140 HU (arterial) and 90-180 HU (portal venous).
  const [lo, hi] = phase === 'arterial' ? [40, 180] : [60, 230];
  return median < lo || median > hi ? [`median ${phase} liver attenuation ${median.toFixed(0)} HU is outside ${lo}-${hi} HU: wrong phase, no contrast, or not in HU?`] : [];
}

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new HccError(`${path}: missing; is this a finished study folder? (${what})`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export async function predictPatient(input: PredictInput): Promise<PredictOutput> {
  const nomogram = readJson<NomogramModelFile>(join(input.studyDir, 'models', 'nomogram', 'model.json'), 'nomogram model');
  if (nomogram.kind !== NOMOGRAM_MODEL_KIND || nomogram.version !== 1) {
    throw new HccError(`${join(input.studyDir, 'models', 'nomogram', 'model.json')}: kind ${nomogram.kind} version ${nomogram.version}; expected ${NOMOGRAM_MODEL_KIND} version 1`);
  }
  const treatmentMeta = readJson<{ kind: string; horizon: number; times: number[] }>(join(input.studyDir, 'models', 'treatment', 'model.json'), 'treatment model');
  if (treatmentMeta.kind !== TREATMENT_MODEL_KIND) throw new HccError(`${input.studyDir}/models/treatment/model.json: expected kind ${TREATMENT_MODEL_KIND}`);
  const rules = readJson<TreatmentRules>(join(input.studyDir, 'models', 'treatment', 'rules.json'), 'treatment rules');
  const synthetic = nomogram.provenance.synthetic;
  const warnings: string[] = [];

  let measurements: PredictOutput['measurements'] = null;
  const images = [input.art, input.pv, input.mask].filter((p): p is string => p !== undefined);
  for (const p of images) {
    const dicom = !/\.nii(\.gz)?$/i.test(p);
    if (dicom && synthetic && !input.researchUseOnly) {
      throw new HccError(
        `${p}: this study's models were trained on synthetic data only, and this looks like a real patient's DICOM. ` +
          'Pass --research-use-only to run it anyway; every output will then say that it is not for clinical use.',
      );
    }
  }
  const segModel = join(input.studyDir, 'models', 'segmentation');
  let maskPath = input.mask;
  if (!maskPath && input.art && input.pv && existsSync(join(segModel, 'model.json'))) {
    // The study's segmentation model gives the mask; it is written out so the clinician can inspect and edit it
    // (and pass the edited file back with --mask).
    const model = loadSegmentationModel(segModel, { device: input.device });
    const seg = segmentCase(model, { art: (await openImage(input.art)).volume, pv: (await openImage(input.pv)).volume });
    disposeModel(model);
    warnings.push(...seg.warnings);
    maskPath = join(input.outDir, 'segmentation.nii.gz');
    writeNiftiSync(maskPath, seg.labels);
  }
  if (maskPath) {
    const { volume } = await openImage(maskPath);
    measurements = { ...measureTumours(volume), source: maskPath };
    if (measurements.count === 0) warnings.push(`${maskPath}: no tumour of at least 1 cm in the mask; the tumour measurements are 0`);
    warnings.push(...distributionFlags(volume, measurements.liverVolumeMl));
    for (const [phase, path] of [['arterial', input.art], ['portal-venous', input.pv]] as const) {
      if (path) warnings.push(...intensityFlags(phase, (await openImage(path)).volume, volume));
    }
  } else if (input.art || input.pv) {
    warnings.push('no --mask given and this study has no segmentation model: the tumour count and diameter come from the clinical input');
  }

  // The PMN reads the tumours on both phases as the study scored its cases (so pmn_score means what it meant when
  // the nomogram was fitted): its probability and prototype explanation, and the imaging risk score.
  let imaging: PredictOutput['imaging'] = null;
  const pmnModel = join(input.studyDir, 'models', 'pmn');
  if (existsSync(join(pmnModel, 'model.json')) && input.art && input.pv && maskPath) {
    const aggregation = readPmnScoring(pmnModel);
    const request = { model: pmnModel, case: { id: 'patient', art: input.art, pv: input.pv, mask: maskPath }, out: join(input.outDir, 'explanation'), cacheDir: join(input.outDir, 'cache') };
    if (aggregation === 'all') {
      const ex = await explainPmnTumours(request);
      imaging = { aggregation, probability: ex.probability, riskScore: ex.riskScore, explanation: ex.tumours[0]!, tumours: ex.tumours, explanationDir: request.out };
    } else {
      const explanation = await explainPmn(request);
      imaging = { aggregation, probability: explanation.probability, riskScore: explanation.riskScore, explanation, tumours: null, explanationDir: request.out };
    }
  }

  const raw: Record<string, unknown> = { id: 'patient', ...input.clinical };
  if (measurements) {
    raw.tumour_count ??= Math.max(1, measurements.count);
    raw.tumour_diameter_cm ??= measurements.largestDiameterMm / 10;
    if (measurements.liverOccupancyFraction !== null) raw.liver_occupancy_fraction ??= measurements.liverOccupancyFraction;
  }
  if (input.tumourCount !== undefined) raw.tumour_count = input.tumourCount;
  if (input.tumourDiameterCm !== undefined) raw.tumour_diameter_cm = input.tumourDiameterCm;
  const clinical = validateClinical(raw, 'patient');
  const staging = deriveStages(clinical, 'patient');

  // One-row frame through the same predictor definitions the study trained with.
  const frame = CohortFrame.fromRecords([{ ...clinical, ...staging, ...(imaging ? { pmn_score: imaging.riskScore } : {}) }], 'patient');
  const terms = nomogram.terms.map((t, j) => {
    let value: number;
    try {
      value = predictorValues(frame, t.name)[0]!;
    } catch {
      value = NaN;
    }
    const source = predictorSource(t.name);
    if (!Number.isFinite(value)) {
      throw new HccError(
        t.name === 'pmn_score'
          ? 'patient: the nomogram uses the PMN imaging score, which needs --art and --pv (and --mask when the study has no segmentation model)'
          : `patient: the nomogram needs ${source} (${t.label}); give it with --${source}=VALUE or in the --clinical file`,
      );
    }
    if (value < t.min || value > t.max) warnings.push(`${t.label} = ${value} is outside the training range ${t.min}-${t.max}; the prediction extrapolates`);
    return { name: t.name, label: t.label, value, contribution: t.coef * (value - nomogram.means[j]!) };
  });
  const lp = terms.reduce((s, t) => s + t.contribution, 0);
  const riskGroup = lp > nomogram.riskCut.cutoff ? 'high' : 'low';
  const [prediction] = predictArmsWithCi(rules.point, rules.replicates, [lp], treatmentMeta.times, treatmentMeta.horizon);
  const { recommendation: choice, ...survival } = prediction!;
  const gain = `${survival.deltaRmst.toFixed(1)} months (95% CI ${survival.deltaRmstCi[0].toFixed(1)} to ${survival.deltaRmstCi[1].toFixed(1)})`;
  const text =
    choice === 'HAIC'
      ? `HAIC is predicted to add ${gain} of life expectancy within ${treatmentMeta.horizon} months over TACE for this ${riskGroup}-risk patient.`
      : choice === 'TACE'
        ? `TACE is predicted to give more life expectancy within ${treatmentMeta.horizon} months than HAIC for this ${riskGroup}-risk patient (HAIC minus TACE: ${gain}).`
        : `No clear difference between HAIC and TACE is predicted for this ${riskGroup}-risk patient (HAIC minus TACE: ${gain}); decide on other grounds.`;
  const banner = synthetic ? 'RESEARCH USE ONLY: these models were trained on synthetic data and are not validated for clinical decisions.' : null;
  return {
    provenance: { study: nomogram.provenance.study, studyDir: input.studyDir, syntheticTraining: synthetic, modelCard: join(input.studyDir, 'model-card.md'), researchUseOnly: input.researchUseOnly },
    banner,
    warnings,
    measurements,
    imaging,
    clinical,
    staging,
    nomogram: { lp, riskGroup, cutoff: nomogram.riskCut.cutoff, terms },
    survival: { ...survival, horizon: treatmentMeta.horizon },
    recommendation: {
      choice,
      text: `${text} Treatment was not randomised in the training cohort; the estimate assumes no unmeasured confounding. It supports, and does not replace, a tumour board.`,
    },
  };
}
