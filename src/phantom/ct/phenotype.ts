import type { Rng } from '../../util/rng.js';
import { PHENOTYPE_THRESHOLD } from '../patient.js';
import { normalCdf } from './field.js';

/**
 * The monotone maps of clinical-model.md §6.1 from the continuous phenotype x1..x8 to rendering parameters.
 * Every parameter is a function of the x's or of P-independent noise drawn from `rng`, so the Bayes-optimal
 * AUC of the images stays that of the x's. All tumours of a patient share one phenotype.
 */
export interface TumourPhenotype {
  /** Rim arterial-phase hyperenhancement: rim thickness (mm), or null for homogeneous APHE. */
  rimMm: number | null;
  /** Volume fraction of central necrosis, 0-0.8. */
  necrosisFraction: number;
  /** Radial margin perturbation amplitude as a fraction of the radius (0 = smooth). */
  marginAmplitude: number;
  /** Enhancing capsule: fraction of the surface it covers and its thickness, or null when absent. */
  capsule: { coverage: number; thicknessMm: number } | null;
  /** Number of intratumoral arteries (1-2 mm tubes at 0.8 × aortic HU in the arterial phase). */
  arteries: number;
  /** Width (mm) of the arterial-phase peritumoral (corona) enhancement band, or null. */
  coronaMm: number | null;
  /** Infiltrative appearance: Gaussian edge blur SD (mm) and satellite count, or null. */
  infiltrative: { edgeSigmaMm: number; satellites: number } | null;
  /** LR-M targetoid pattern: rim APHE, peripheral PV washout, central arterial hypoattenuation. */
  targetoid: boolean;
  /** Quantitative washout (T_PV − L_PV)/A_PV. */
  washout: number;
}

const TAU = PHENOTYPE_THRESHOLD;

export function tumourPhenotype(x: readonly number[], rng: Rng): TumourPhenotype {
  if (x.length !== 8 || !x.every(Number.isFinite)) throw new RangeError(`tumourPhenotype: expected 8 finite x values, got [${x.join(', ')}]`);
  const [x1, x2, x3, x4, x5, x6, x7, x8] = x as [number, number, number, number, number, number, number, number];
  // Draw every noise term unconditionally, so that changing one x never shifts another parameter's noise.
  const washoutNoise = rng.normal(0, 0.02);
  const capsuleThickness = rng.uniformIn(1, 2);
  const arteryU = rng.uniform();
  const satelliteU = rng.uniform();

  const targetoid = x8 > TAU[7]!;
  const rimFromX1 = x1 > TAU[0]! ? Math.min(6, 2 + 1.5 * (x1 - TAU[0]!)) : null;
  const infiltrative = x7 > TAU[6]!;
  const capsuleCoverage = 1 - normalCdf(x4);
  const s7 = 2 * normalCdf(x7 - TAU[6]!) - 1;
  return {
    rimMm: rimFromX1 ?? (targetoid ? 2 : null),
    necrosisFraction: x2 <= TAU[1]! ? 0 : Math.min(0.8, 0.1 + 0.25 * (x2 - TAU[1]!)),
    marginAmplitude: x3 <= TAU[2]! ? 0 : 0.02 + 0.06 * normalCdf(x3),
    capsule: !infiltrative && capsuleCoverage > 1 - normalCdf(TAU[3]!) ? { coverage: capsuleCoverage, thicknessMm: capsuleThickness } : null,
    arteries: x5 > TAU[4]! ? poissonFromUniform(3 * normalCdf(x5), arteryU) : 0,
    coronaMm: x6 > TAU[5]! ? 3 + 2 * normalCdf(x6) : null,
    infiltrative: infiltrative ? { edgeSigmaMm: 3 + 2 * s7, satellites: 1 + poissonFromUniform(1 + 3 * s7, satelliteU) } : null,
    targetoid,
    washout: -0.06 - 0.03 * x1 - 0.02 * x8 + washoutNoise,
  };
}

/** Poisson(λ) by inversion of one uniform: monotone in λ for a fixed draw, so counts never fall as x rises. */
export function poissonFromUniform(lambda: number, u: number): number {
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u > cdf && k < 50) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}
