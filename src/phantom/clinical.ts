import type { Ascites, Binary, Encephalopathy, Sex } from '../clinical/schema.js';
import { Rng } from '../util/rng.js';
import { COHORT_MODEL as M, expit } from './model.js';
import { PHENOTYPE_DELTA, PHENOTYPE_LOADING, type CohortKind } from './patient.js';
import { poisson } from './random.js';

/**
 * Patient-level draws of clinical-model.md §6.1-6.2 and §6.6: proliferative status, imaging phenotype, tumour
 * burden and the clinical variables. Each block has its own random stream keyed by (seed, cohort, index, block),
 * so a patient is the same whatever else is generated, in whatever order, by however many workers; and adding a
 * variable to one block never shifts the numbers of another.
 */

export function blockRng(seed: number, cohort: CohortKind, index: number, block: string): Rng {
  return Rng.stream(seed, cohort, index, block);
}

/** Rounds to `digits` decimals, as values are recorded (a lab reports bilirubin to 0.1 µmol/L). */
export function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Phenotype {
  P: 0 | 1;
  u: number;
  x: number[];
}

/** §6.1: P ~ Bern(π), u = Δ·P + N(0, 1), x_k = λ_k·u + √(1 − λ_k²)·ε_k. */
export function drawPhenotype(rng: Rng, prevalence: number): Phenotype {
  const P: 0 | 1 = rng.bernoulli(prevalence) ? 1 : 0;
  const u = PHENOTYPE_DELTA * P + rng.normal();
  const x = PHENOTYPE_LOADING.map((lambda) => lambda * u + Math.sqrt(1 - lambda * lambda) * rng.normal());
  return { P, u, x };
}

export interface TumourBurden {
  /** Largest diameter, cm (0.1 cm precision, as reported). */
  diameterCm: number;
  count: number;
  /** All diameters, largest first. */
  diametersCm: number[];
  pvtt: Binary;
  vpGrade: number;
  ehs: Binary;
  nodes: Binary;
  occupancy: number;
}

/** §6.2 tumour size, number, PVTT (with Vp grade) and extrahepatic spread; the resection cohort has no PVTT/EHS. */
export function drawBurden(rng: Rng, cohort: CohortKind, P: 0 | 1): TumourBurden {
  const b = M.burden[cohort];
  const raw = Math.exp(rng.normal(b.logMedianCm + b.pShift * P, b.sd));
  const diameterCm = roundTo(Math.min(b.maxCm, Math.max(b.minCm, raw)), 1);
  const multiple = rng.bernoulli(expit(b.multipleLogit + b.multipleP * P));
  let count = 1;
  if (multiple) {
    // Resected patients with multiple tumours have 2-3 (more are not resected) [D]; iat follows §6.2.
    if (cohort === 'resection' || rng.bernoulli(M.burden.twoOrThree)) count = 2 + rng.int(2);
    else count = Math.min(4 + poisson(rng, M.burden.fourPlusPoissonMean), M.burden.maxCount);
  }
  let pvtt: Binary = 0;
  let vpGrade = 0;
  let ehs: Binary = 0;
  let nodes: Binary = 0;
  if (cohort === 'iat') {
    pvtt = rng.bernoulli(expit(M.pvtt.intercept + M.pvtt.p * P + M.pvtt.logSize * Math.log(diameterCm / 6.6))) ? 1 : 0;
    if (pvtt) vpGrade = 1 + categorical(rng, M.pvtt.vpProbabilities);
    ehs = rng.bernoulli(expit(M.ehs.intercept + M.ehs.p * P + M.ehs.pvtt * pvtt)) ? 1 : 0;
    if (ehs) nodes = rng.bernoulli(M.ehs.nodesOnly) ? 1 : 0;
  }
  // Satellite sizes are P-independent given (D, N), so they add nothing to the oracle; each is at least 1 cm (or
  // D when D < 1 cm) so that a mask-based count (components ≥ 1 cm, CONTRACTS.md) finds every tumour.
  const diametersCm = [diameterCm];
  for (let i = 1; i < count; i++) {
    const d = roundTo(diameterCm * (0.35 + 0.6 * rng.uniform()), 1);
    diametersCm.push(Math.min(diameterCm, Math.max(Math.min(1, diameterCm), d)));
  }
  diametersCm.sort((a, c) => c - a);
  const occupancy = roundTo(Math.min(M.burden.maxOccupancy, (count * (diameterCm / 2) ** 3) / M.burden.liverVolumeCm3), 4);
  return { diameterCm, count, diametersCm, pvtt, vpGrade, ehs, nodes, occupancy };
}

function categorical(rng: Rng, probabilities: readonly number[]): number {
  let r = rng.uniform();
  for (let i = 0; i < probabilities.length - 1; i++) {
    r -= probabilities[i]!;
    if (r < 0) return i;
  }
  return probabilities.length - 1;
}

export interface ClinicalDraw {
  age: number;
  sex: Sex;
  hbv: Binary;
  liverDysfunction: number;
  albumin: number;
  bilirubin: number;
  inr: number;
  ascites: Ascites;
  encephalopathy: Encephalopathy;
  ecog: number;
}

/** §6.2 demographics, liver function (through latent dysfunction L) and performance status, for both cohorts. */
export function drawClinical(rng: Rng): ClinicalDraw {
  const d = M.demographics;
  const age = Math.round(Math.min(d.ageMax, Math.max(d.ageMin, rng.normal(d.ageMean, d.ageSd))));
  const sex: Sex = rng.bernoulli(d.male) ? 'M' : 'F';
  const hbv: Binary = rng.bernoulli(d.hbv) ? 1 : 0;
  const lv = M.liver;
  const L = rng.normal();
  const albumin = roundTo(Math.min(lv.albumin.max, Math.max(lv.albumin.min, lv.albumin.mean + lv.albumin.l * L + rng.normal(0, lv.albumin.sd))), 1);
  const bilirubin = roundTo(Math.exp(lv.bilirubin.logMean + lv.bilirubin.l * L + rng.normal(0, lv.bilirubin.sd)), 1);
  const inr = roundTo(lv.inr.mean + lv.inr.l * L + rng.normal(0, lv.inr.sd), 2);
  const pAscites = expit(lv.ascites.intercept + lv.ascites.l * L);
  const r = rng.uniform();
  const ascites: Ascites = r < pAscites * lv.ascites.mild ? 'mild' : r < pAscites ? 'moderate_severe' : 'none';
  const encephalopathy: Encephalopathy = rng.bernoulli(expit(lv.encephalopathy.intercept + lv.encephalopathy.l * L)) ? 'grade1_2' : 'none';
  const ecog = rng.bernoulli(M.ecog.zero) ? 0 : rng.bernoulli(M.ecog.oneGivenNotZero) ? 1 : 2;
  return { age, sex, hbv, liverDysfunction: L, albumin, bilirubin, inr, ascites, encephalopathy, ecog };
}

/** §6.2: log10 AFP = a + 0.45·P + 1.6·log10 D + 0.3·PVTT + N(0, 1.15), in ng/mL (0.1 precision). */
export function drawAfp(rng: Rng, cohort: CohortKind, P: 0 | 1, diameterCm: number, pvtt: Binary): number {
  const a = M.afp;
  const log10Afp = a[cohort] + a.p * P + a.log10Size * Math.log10(diameterCm) + a.pvtt * pvtt + rng.normal(0, a.sd);
  return roundTo(Math.min(1e8, 10 ** log10Afp), 1);
}
