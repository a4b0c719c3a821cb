import { validateClinical, type ClinicalField, type ClinicalValues } from '../clinical/schema.js';
import type { CsvTable } from '../util/csv.js';
import { HccError } from '../util/errors.js';
import { ALBI_INPUTS, albi } from './albi.js';
import { BCLC_INPUTS, bclc2022 } from './bclc.js';
import { CHILD_PUGH_INPUTS, childPugh } from './child-pugh.js';
import { CLIP_INPUTS, clip } from './clip.js';
import { CNLC_INPUTS, cnlc } from './cnlc.js';
import { HAP_INPUTS, MHAP2_INPUTS, hap, mhap2 } from './hap.js';
import { JIS_INPUTS, jis } from './jis.js';
import { OKUDA_INPUTS, okuda } from './okuda.js';
import { SIX_TWELVE_INPUTS, sixTwelve } from './six-twelve.js';
import { TNM_INPUTS, tnm8 } from './tnm.js';

export * from './albi.js';
export * from './bclc.js';
export * from './child-pugh.js';
export * from './clip.js';
export * from './cnlc.js';
export * from './hap.js';
export * from './jis.js';
export * from './okuda.js';
export * from './six-twelve.js';
export * from './tnm.js';

/** The derived columns, named as CONTRACTS.md names them, in the order cohort.csv and `hcc stats stage` write them. */
export const STAGE_COLUMNS = [
  'child_pugh_score',
  'child_pugh_class',
  'albi_score',
  'albi_grade',
  'bclc',
  'cnlc',
  'tnm8',
  'okuda',
  'clip',
  'jis',
  'hap',
  'mhap2',
  'six_twelve',
] as const;
export type StageColumn = (typeof STAGE_COLUMNS)[number];
export type StageRow = Record<StageColumn, string | number | null>;

type Values = Readonly<Partial<Record<ClinicalField, unknown>>>;

/** Each system with the inputs it needs; a system whose inputs are not all present is left NA (null). */
const SYSTEMS: ReadonlyArray<{ inputs: readonly ClinicalField[]; fill(v: Values, where: string, out: StageRow): void }> = [
  {
    inputs: CHILD_PUGH_INPUTS,
    fill(v, where, out) {
      const r = childPugh(v, where);
      out.child_pugh_score = r.score;
      out.child_pugh_class = r.class;
    },
  },
  {
    inputs: ALBI_INPUTS,
    fill(v, where, out) {
      const r = albi(v, where);
      out.albi_score = r.score;
      out.albi_grade = r.grade;
    },
  },
  { inputs: BCLC_INPUTS, fill: (v, where, out) => void (out.bclc = bclc2022(v, where)) },
  { inputs: CNLC_INPUTS, fill: (v, where, out) => void (out.cnlc = cnlc(v, where)) },
  { inputs: TNM_INPUTS, fill: (v, where, out) => void (out.tnm8 = tnm8(v, where).stage) },
  { inputs: OKUDA_INPUTS, fill: (v, where, out) => void (out.okuda = okuda(v, where).stage) },
  { inputs: CLIP_INPUTS, fill: (v, where, out) => void (out.clip = clip(v, where)) },
  { inputs: JIS_INPUTS, fill: (v, where, out) => void (out.jis = jis(v, where).score) },
  { inputs: HAP_INPUTS, fill: (v, where, out) => void (out.hap = hap(v, where).class) },
  { inputs: MHAP2_INPUTS, fill: (v, where, out) => void (out.mhap2 = mhap2(v, where).class) },
  { inputs: SIX_TWELVE_INPUTS, fill: (v, where, out) => void (out.six_twelve = sixTwelve(v, where).class) },
];

/**
 * Every stage and score of one validated patient. Systems whose inputs are incomplete give null (NA), so a real
 * cohort without, say, INR still gets ALBI, HAP and six-and-twelve.
 */
export function deriveStages(v: ClinicalValues | Values, where = 'patient'): StageRow {
  const out = Object.fromEntries(STAGE_COLUMNS.map((c) => [c, null])) as StageRow;
  const values = v as Values;
  for (const system of SYSTEMS) {
    if (system.inputs.every((f) => values[f] !== null && values[f] !== undefined)) system.fill(values, where, out);
  }
  return out;
}

export interface StageTable {
  columns: Array<'id' | StageColumn>;
  rows: Array<{ id: string } & StageRow>;
}

/**
 * Stages for rows read from a CSV (or any objects keyed by schema column names): each row is validated against
 * the clinical schema (an invalid value is an error naming the row, the field, the value and the unit), then
 * every system is derived. This is what `hcc stats stage` prints.
 */
export function stageTable(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, source = 'input'): StageTable {
  if (rows.length === 0) throw new HccError(`${source}: no rows to stage`);
  const out = rows.map((raw, i) => {
    const where = `${source} row ${i + 1}`;
    const v = validateClinical(raw, where);
    return { id: v.id, ...deriveStages(v, where) };
  });
  return { columns: ['id', ...STAGE_COLUMNS], rows: out };
}

/** `stageTable` for a table read with src/util/csv.ts (header names are schema column names). */
export function stageCsv(table: CsvTable): StageTable {
  const rows = table.rows.map((r) => Object.fromEntries(table.columns.map((c, j) => [c, r[j]])));
  return stageTable(rows, table.source);
}
