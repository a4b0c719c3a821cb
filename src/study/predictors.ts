import { HccError } from '../util/errors.js';
import { CohortFrame } from './frame.js';

/**
 * Nomogram candidates by name: a cohort column used as is, or one of the derived predictors below. Keeping
 * the transforms here, once, means training, the nomogram axes and `hcc predict` all compute them the same way.
 */
interface Derived {
  label: string;
  /** The clinical column it is computed from, for messages about missing input. */
  source: string;
  compute(frame: CohortFrame): Float64Array;
}

const DERIVED: Record<string, Derived> = {
  afp_log10: {
    label: 'log10 AFP (ng/mL)',
    source: 'afp_ng_ml',
    compute: (f) => f.num('afp_ng_ml').map((v) => Math.log10(Math.max(v, 1))),
  },
  sex_male: {
    label: 'Male sex',
    source: 'sex',
    compute: (f) => Float64Array.from(f.str('sex'), (v) => (v === null ? NaN : v === 'M' ? 1 : 0)),
  },
  ascites_any: {
    label: 'Ascites',
    source: 'ascites',
    compute: (f) => Float64Array.from(f.str('ascites'), (v) => (v === null ? NaN : v === 'none' ? 0 : 1)),
  },
};

const LABELS: Record<string, string> = {
  pmn_score: 'PMN imaging score',
  age_years: 'Age (years)',
  tumour_diameter_cm: 'Largest tumour diameter (cm)',
  tumour_count: 'Tumour count',
  albi_score: 'ALBI score',
  pvtt: 'PVTT',
  ehs: 'Extrahepatic spread',
  ecog: 'ECOG PS',
  hbv: 'HBV',
  child_pugh_score: 'Child-Pugh score',
  liver_occupancy_fraction: 'Liver occupancy',
};

export function predictorLabel(name: string): string {
  return DERIVED[name]?.label ?? LABELS[name] ?? name;
}

/** The input column a predictor is read from (itself, unless derived). */
export function predictorSource(name: string): string {
  return DERIVED[name]?.source ?? name;
}

export function predictorValues(frame: CohortFrame, name: string): Float64Array {
  const derived = DERIVED[name];
  if (derived) return derived.compute(frame);
  if (!frame.has(name)) {
    throw new HccError(`nomogram candidate '${name}' is neither a column of ${frame.source} nor a derived predictor (${Object.keys(DERIVED).join(', ')})`);
  }
  return frame.num(name);
}

/**
 * The nomogram's `pmn_score` column: the PMN's standardised Cox risk, `risk_score` of the scores CSV that
 * scorePmn writes (higher = higher risk). The study's prognosis stage and `hcc study validate` both join it
 * here; a case the PMN did not score (no tumour in its mask) gets NA and drops out as incomplete.
 */
export function withPmnScore(frame: CohortFrame, scoresCsv: string): CohortFrame {
  const scores = CohortFrame.read(scoresCsv);
  const risk = scores.num('risk_score');
  return frame.withColumn('pmn_score', new Map(scores.ids.map((id, i) => [id, risk[i]!])));
}
