import { HccError } from '../util/errors.js';

/**
 * The one definition in code of hcc-iat's clinical columns (CONTRACTS.md, "Clinical schema"): names, types, units
 * and valid ranges. cohort.csv, `hcc stats stage`, study configs for real cohorts and `hcc predict --clinical` all
 * read patients through `validateClinical`, so a value is either accepted everywhere or rejected everywhere with
 * the same message (field, value, expected unit).
 *
 * Units are part of the column names. The staging systems are defined in mg/dL and g/dL in their original papers;
 * the conversions live in src/clinical/units.ts and are applied explicitly where a rule needs them.
 */

export const ASCITES_LEVELS = ['none', 'mild', 'moderate_severe'] as const;
export const ENCEPHALOPATHY_LEVELS = ['none', 'grade1_2', 'grade3_4'] as const;
export const SEX_LEVELS = ['M', 'F'] as const;
export const TREATMENT_LEVELS = ['TACE', 'HAIC'] as const;

export type Ascites = (typeof ASCITES_LEVELS)[number];
export type Encephalopathy = (typeof ENCEPHALOPATHY_LEVELS)[number];
export type Sex = (typeof SEX_LEVELS)[number];
export type Treatment = (typeof TREATMENT_LEVELS)[number];
export type Binary = 0 | 1;

/** One patient with every schema column present (what the synthetic generator produces). */
export interface ClinicalRecord {
  id: string;
  age_years: number;
  sex: Sex;
  hbv: Binary;
  afp_ng_ml: number;
  bilirubin_umol_l: number;
  albumin_g_l: number;
  inr: number;
  ascites: Ascites;
  encephalopathy: Encephalopathy;
  ecog: number;
  tumour_count: number;
  tumour_diameter_cm: number;
  liver_occupancy_fraction: number;
  pvtt: Binary;
  vp_grade: number;
  /** Extrahepatic spread of any kind: regional nodes and/or distant metastasis (the BCLC/CNLC criterion). */
  ehs: Binary;
  /** Regional lymph-node involvement (TNM N1). Implies `ehs = 1`. */
  nodes: Binary;
  treatment?: Treatment;
  os_months?: number;
  os_event?: Binary;
  proliferative?: Binary;
}

export type ClinicalField = Exclude<keyof ClinicalRecord, 'id'>;

/** A validated patient from real data: any field may be missing (null) except the id. */
export type ClinicalValues = { id: string } & { [K in ClinicalField]?: ClinicalRecord[K] | null };

interface ColumnBase {
  name: ClinicalField | 'id';
  description: string;
}

export interface NumericColumn extends ColumnBase {
  kind: 'number' | 'integer';
  /** The unit as a person writes it ('µmol/L', 'g/L', 'years'); '' for dimensionless values. */
  unit: string;
  min: number;
  max: number;
  /** True when `min` itself is impossible (a bilirubin of exactly 0). */
  minExclusive?: boolean;
}

export interface CategoryColumn extends ColumnBase {
  kind: 'category';
  levels: readonly string[];
}

export interface TextColumn extends ColumnBase {
  kind: 'text';
}

export type ColumnSpec = NumericColumn | CategoryColumn | TextColumn;

const binary = (name: ClinicalField, description: string): NumericColumn => ({
  name,
  kind: 'integer',
  unit: '0/1',
  min: 0,
  max: 1,
  description,
});

/**
 * Every clinical column, in the order cohort.csv writes them. Ranges are what is physically or clinically possible
 * (anything outside is a data-entry or unit error), not what is typical.
 */
export const CLINICAL_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', kind: 'text', description: 'study id (never patient identity)' },
  { name: 'age_years', kind: 'number', unit: 'years', min: 0, max: 120, description: 'age at baseline' },
  { name: 'sex', kind: 'category', levels: SEX_LEVELS, description: 'sex' },
  binary('hbv', 'chronic hepatitis B infection'),
  { name: 'afp_ng_ml', kind: 'number', unit: 'ng/mL', min: 0, max: 1e8, description: 'serum alpha-fetoprotein' },
  {
    name: 'bilirubin_umol_l',
    kind: 'number',
    unit: 'µmol/L',
    min: 0,
    minExclusive: true,
    max: 1000,
    description: 'total serum bilirubin (mg/dL × 17.1 = µmol/L)',
  },
  { name: 'albumin_g_l', kind: 'number', unit: 'g/L', min: 5, max: 70, description: 'serum albumin (g/dL × 10 = g/L)' },
  { name: 'inr', kind: 'number', unit: '', min: 0.5, max: 15, description: 'prothrombin time, international normalised ratio' },
  { name: 'ascites', kind: 'category', levels: ASCITES_LEVELS, description: 'ascites (Child-Pugh grading)' },
  { name: 'encephalopathy', kind: 'category', levels: ENCEPHALOPATHY_LEVELS, description: 'hepatic encephalopathy (West Haven grade)' },
  { name: 'ecog', kind: 'integer', unit: 'ECOG PS', min: 0, max: 4, description: 'ECOG performance status' },
  { name: 'tumour_count', kind: 'integer', unit: 'nodules', min: 1, max: 1000, description: 'number of intrahepatic tumours' },
  {
    name: 'tumour_diameter_cm',
    kind: 'number',
    unit: 'cm',
    min: 0,
    minExclusive: true,
    max: 40,
    description: 'largest tumour diameter',
  },
  {
    name: 'liver_occupancy_fraction',
    kind: 'number',
    unit: 'fraction 0-1',
    min: 0,
    max: 1,
    description: 'tumour volume over liver volume',
  },
  binary('pvtt', 'portal vein tumour thrombus (macrovascular invasion)'),
  { name: 'vp_grade', kind: 'integer', unit: 'Vp grade', min: 0, max: 4, description: 'Japanese Vp grade of PVTT (0 = none)' },
  binary('ehs', 'extrahepatic spread (regional nodes and/or distant metastasis)'),
  binary('nodes', 'regional lymph-node metastasis (TNM N1)'),
  { name: 'treatment', kind: 'category', levels: TREATMENT_LEVELS, description: 'intra-arterial therapy received' },
  { name: 'os_months', kind: 'number', unit: 'months', min: 0, max: 600, description: 'overall survival time from treatment' },
  binary('os_event', 'death observed (1) or censored (0)'),
  binary('proliferative', 'pathology label: proliferative HCC (resection cohort)'),
];

const BY_NAME = new Map<string, ColumnSpec>(CLINICAL_COLUMNS.map((c) => [c.name, c]));

export function columnSpec(name: string): ColumnSpec {
  const spec = BY_NAME.get(name);
  if (!spec) throw new HccError(`'${name}' is not a clinical column (known: ${CLINICAL_COLUMNS.map((c) => c.name).join(', ')})`);
  return spec;
}

/** Where a value came from, for messages: 'cohort.csv row 12', 'study.yaml patients[3]'. */
export type Where = string;

function describeRange(spec: NumericColumn): string {
  const unit = spec.unit ? ` ${spec.unit}` : '';
  const low = spec.minExclusive ? `above ${spec.min}` : `${spec.min}`;
  return spec.minExclusive ? `a number ${low} and at most ${spec.max}${unit}` : `${low} to ${spec.max}${unit}`;
}

/**
 * Parses and range-checks one value of column `name`. `raw` may be a CSV cell (string or null), a number or a
 * JSON/YAML value. Missing (null, undefined, NA) gives null; anything invalid throws an HccError naming the field,
 * the value and the expected unit or levels.
 */
export function parseField(name: string, raw: unknown, where: Where): string | number | null {
  const spec = columnSpec(name);
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string' && ['', 'NA', 'NaN', '.', 'NULL'].includes(raw.trim())) return null;
  if (spec.kind === 'text') return String(raw);
  if (spec.kind === 'category') {
    const s = String(raw).trim();
    if (!spec.levels.includes(s)) {
      throw new HccError(`${where}: ${name} = '${s}' is not one of ${spec.levels.map((l) => `'${l}'`).join(', ')} (${spec.description})`);
    }
    return s;
  }
  const x = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  const expected = () => `expected ${describeRange(spec)} (${spec.description})`;
  if (!Number.isFinite(x)) throw new HccError(`${where}: ${name} = '${String(raw)}' is not a number; ${expected()}`);
  if (spec.kind === 'integer' && !Number.isInteger(x)) throw new HccError(`${where}: ${name} = ${x} is not a whole number; ${expected()}`);
  if (x < spec.min || (spec.minExclusive && x === spec.min) || x > spec.max) {
    throw new HccError(`${where}: ${name} = ${x} is outside the valid range; ${expected()}`);
  }
  return x;
}

/**
 * Validates one patient: every known column present in `raw` is parsed and range-checked, unknown keys are
 * ignored (cohort.csv also carries derived stages), and the cross-field rules hold: PVTT and its Vp grade
 * agree, and regional nodes count as extrahepatic spread. Missing values are allowed (a missing OS time drops the
 * row from survival analyses there, as R does), contradictory ones are not.
 */
export function validateClinical(raw: Readonly<Record<string, unknown>>, where: Where): ClinicalValues {
  const id = raw.id;
  if (id === null || id === undefined || String(id).trim() === '') throw new HccError(`${where}: id is missing (a study id is required)`);
  const out: Record<string, unknown> = { id: String(id) };
  for (const spec of CLINICAL_COLUMNS) {
    if (spec.name === 'id' || !(spec.name in raw)) continue;
    out[spec.name] = parseField(spec.name, raw[spec.name], where);
  }
  const v = out as ClinicalValues;
  if (v.pvtt === 0 && v.vp_grade != null && v.vp_grade > 0) {
    throw new HccError(`${where}: pvtt = 0 but vp_grade = ${v.vp_grade}; a Vp grade above 0 means a portal vein tumour thrombus (set pvtt = 1)`);
  }
  if (v.pvtt === 1 && v.vp_grade === 0) {
    throw new HccError(`${where}: pvtt = 1 but vp_grade = 0; give the Vp grade 1-4, or NA if it is unknown`);
  }
  if (v.nodes === 1 && v.ehs === 0) {
    throw new HccError(`${where}: nodes = 1 but ehs = 0; regional node metastasis is extrahepatic spread (set ehs = 1)`);
  }
  return v;
}
