import type { ClinicalRecord, Treatment } from '../clinical/schema.js';
import type { Volume } from '../imaging/volume.js';

/**
 * The per-patient record that the synthetic-cohort generator (src/phantom/cohort.ts) produces and the CT phantom
 * renderer (src/phantom/ct/) consumes. This is the contract between the two halves of issue 4: the generator owns
 * every patient-level quantity (clinical variables, tumour burden, hidden truth, treatment, outcomes); the
 * renderer turns it into images and draws only P-independent nuisance randomness of its own, from
 * `Rng.stream(record.seed, record.cohort, record.index, 'ct')`, so the Bayes-optimal AUC stays known
 * (clinical-model.md §6.1: every rendered parameter is a function of the x's, D, N or P-independent noise).
 */

export type CohortKind = 'resection' | 'iat';
export const COHORT_KINDS: readonly CohortKind[] = ['resection', 'iat'];

/** The eight imaging phenotype features, in the §6.1 order (x1..x8 and truth.csv use this order). */
export const PHENOTYPE_FEATURES = [
  'rimAPHE',
  'necrosis',
  'nonSmoothMargin',
  'capsuleAbsentOrIncomplete',
  'intratumoralArteries',
  'coronaEnhancement',
  'infiltrative',
  'targetoid',
] as const;
export type PhenotypeFeature = (typeof PHENOTYPE_FEATURES)[number];

/** Separation of the latent imaging score: u = Δ·P + N(0, 1) (§6.1). */
export const PHENOTYPE_DELTA = 1.595;
/** Probit loadings λ_k of x_k on u (§6.1). */
export const PHENOTYPE_LOADING: readonly number[] = [0.658, 0.582, 0.483, 0.4, 0.408, 0.369, 0.457, 0.552];
/** Read thresholds τ_k: feature k is present on a binary read when x_k > τ_k (§6.1). */
export const PHENOTYPE_THRESHOLD: readonly number[] = [1.175, 0.674, 0.385, 0.253, 0.524, 0.842, 1.645, 1.555];

/** Binary radiological reads 1[x_k > τ_k], in §6.1 order. */
export function binaryReads(x: readonly number[]): boolean[] {
  return PHENOTYPE_THRESHOLD.map((tau, k) => x[k]! > tau);
}

/** What is known only to the simulation; written to truth.csv, never to cohort.csv. */
export interface PatientTruth {
  /** True proliferative status (the resection cohort's observed label may be flipped, §6.6). */
  P: 0 | 1;
  /** Latent imaging score u = Δ·P + N(0, 1). */
  u: number;
  /** Continuous phenotype x1..x8 in PHENOTYPE_FEATURES order; the renderer maps these monotonically (§6.1). */
  x: number[];
  /** True prognostic linear predictor η of §6.4 (for the resection cohort: the same formula with no PVTT/EHS). */
  eta: number;
  /** Latent liver dysfunction L ~ N(0, 1) of §6.2 (higher = worse; a renderer may use it for cirrhotic texture). */
  liverDysfunction: number;
  /** Counterfactual event times (months) under TACE and HAIC from one common uniform draw (iat only). */
  tTace: number | null;
  tHaic: number | null;
}

export interface PatientRecord {
  /** Study id, also the image file stem: images/<id>_{art,pv,label}.nii.gz. */
  id: string;
  cohort: CohortKind;
  /** 0-based position in the cohort; with `seed` it determines every random number of this patient. */
  index: number;
  seed: number;
  /** Every schema column (src/clinical/schema.ts); `proliferative` is the observed label, with label noise. */
  clinical: ClinicalRecord;
  /** Diameters of all tumours in cm, largest first; length = clinical.tumour_count, [0] = tumour_diameter_cm. */
  tumourDiametersCm: number[];
  /** Treatment received (iat), null for resection. Same value as clinical.treatment. */
  treatment: Treatment | null;
  truth: PatientTruth;
}

/** Image grids (issue 4): clinical 512² at 0.6-0.9 mm, small 1.5×1.5×2.5 mm over ~256², tiny for unit tests. */
export type ImageGrid = 'clinical' | 'small' | 'tiny';
export const IMAGE_GRIDS: readonly ImageGrid[] = ['clinical', 'small', 'tiny'];

export interface RenderOptions {
  grid: ImageGrid;
  /** Scanner site (`--site NAME`): shifts noise, kernel, slice thickness and contrast timing; null = default site. */
  site: string | null;
}

/**
 * Arterial and portal-venous CT on one grid, and the label map (0 background, 1 liver, 2 tumour): what
 * `renderPatient(record, options)` of src/phantom/ct/render.ts returns, a pure function of its arguments. The image
 * pool (src/phantom/images.ts) calls it in worker threads and writes images/<id>_{art,pv,label}.nii.gz.
 */
export interface RenderedCase {
  art: Volume;
  pv: Volume;
  label: Volume;
}
