/**
 * From a CSV table to survival data, with the R oracle's conventions (read.csv + prep_surv in oracle.R).
 *
 * Exports:
 * - `DataOptions` {time, status, eventValue, factors, refs, na}: the --time/--status/--event-value/--factors/
 *   --ref-COL=LEVEL/--na options of every task.
 * - `Variable`: a column as R sees it: numeric, or a factor (levels sorted, first = reference; logical columns
 *   are factors FALSE/TRUE).
 * - `readVariables(table, opts)`: the typed view of every column (type.convert rules, factors, reference levels).
 * - `parseFormula(rhs)`: `a + log(b) + factor(c) + strata(d)` into terms (also accepts a comma list).
 * - `prepare(table, opts, {columns, survival})`: complete cases over the used columns, the event coded 0/1 and
 *   checked; returns a `SurvFrame` with `na` exactly as the oracle's JSON (`n_input, n_used, n_dropped,
 *   dropped_rows, used_columns`).
 * - `designMatrix(frame, terms)`: treatment-coded columns with R's names (`sexM`, `log(bili)`, `factor(stage)2`),
 *   column-major.
 * - `frameVariable(frame, name)`: a variable restricted to the used rows (factor levels dropped as droplevels).
 * - `groupOf(frame, name)`: a grouping column as level labels + codes over the used rows.
 * - `requireEvents(frame, what)`: the "no events" error.
 */
import { HccError, usageError } from '../util/errors.js';
import { aeqTimes } from './timefix.js';
import type { CsvTable } from '../util/csv.js';

export interface DataOptions {
  time?: string;
  status?: string;
  /** Event iff status equals this value (everything else censored), as the oracle's --event-value. */
  eventValue?: string;
  /** Numeric columns to treat as factors. */
  factors?: string[];
  /** Reference level per factor column (--ref-COL=LEVEL). */
  refs?: Record<string, string>;
  /** 'omit' (default): complete cases with a count; 'fail': missing values are an error. */
  na?: 'omit' | 'fail';
}

export type Variable =
  | { kind: 'numeric'; name: string; values: Float64Array }
  | { kind: 'factor'; name: string; levels: string[]; codes: Int32Array };

export interface NaReport {
  n_input: number;
  n_used: number;
  n_dropped: number;
  dropped_rows: number[];
  used_columns: string[];
}

export interface SurvFrame {
  source: string;
  table: CsvTable;
  variables: Map<string, Variable>;
  /** 1-based CSV data rows kept, in file order. */
  rows: number[];
  /** Indices into table.rows of the kept rows. */
  index: Int32Array;
  time: Float64Array;
  /** 1 = event, 0 = censored. */
  event: Uint8Array;
  na: NaReport;
  timeColumn: string;
  statusColumn: string;
}

const LOGICAL = new Set(['TRUE', 'FALSE', 'T', 'F', 'true', 'false', 'True', 'False']);
const isTrue = (s: string) => s === 'TRUE' || s === 'T' || s === 'true' || s === 'True';

/** R's sort() of level labels (en_US collation for text, numeric order for numbers). */
function sortLevels(values: string[], numeric: boolean): string[] {
  const u = [...new Set(values)];
  return numeric ? u.sort((a, b) => Number(a) - Number(b)) : u.sort((a, b) => a.localeCompare(b, 'en') || (a < b ? -1 : a > b ? 1 : 0));
}

function numberLabel(x: number): string {
  return String(Number(x.toPrecision(15)));
}

function toFactor(name: string, labels: (string | null)[], levels: string[]): Variable {
  const at = new Map(levels.map((l, i) => [l, i]));
  return { kind: 'factor', name, levels, codes: Int32Array.from(labels, (l) => (l === null ? -1 : at.get(l)!)) };
}

function readColumn(table: CsvTable, j: number, asFactor: boolean): Variable {
  const name = table.columns[j]!;
  const cells = table.rows.map((r) => (r[j] === null ? null : r[j]!.trim()));
  const present = cells.filter((c): c is string => c !== null);
  if (present.length > 0 && present.every((c) => LOGICAL.has(c))) {
    return toFactor(name, cells.map((c) => (c === null ? null : isTrue(c) ? 'TRUE' : 'FALSE')), ['FALSE', 'TRUE'].filter((l) => present.some((c) => (isTrue(c) ? 'TRUE' : 'FALSE') === l)));
  }
  const numeric = present.every((c) => c !== '' && !Number.isNaN(Number(c)));
  if (numeric && !asFactor) {
    return { kind: 'numeric', name, values: Float64Array.from(cells, (c) => (c === null ? NaN : Number(c))) };
  }
  const labels = numeric ? cells.map((c) => (c === null ? null : numberLabel(Number(c)))) : cells;
  return toFactor(name, labels, sortLevels(labels.filter((l): l is string => l !== null), numeric));
}

export function readVariables(table: CsvTable, opts: DataOptions = {}): Map<string, Variable> {
  const factors = new Set(opts.factors ?? []);
  for (const f of factors) {
    if (!table.columns.includes(f)) throw usageError(`--factors: ${table.source} has no column '${f}' (columns: ${table.columns.join(', ')})`);
  }
  const vars = new Map<string, Variable>();
  table.columns.forEach((c, j) => vars.set(c, readColumn(table, j, factors.has(c))));
  for (const [col, ref] of Object.entries(opts.refs ?? {})) {
    const v = vars.get(col);
    if (!v) throw usageError(`--ref-${col}: ${table.source} has no column '${col}'`);
    if (v.kind !== 'factor') throw usageError(`--ref-${col}: column '${col}' is numeric, not a factor (add it to --factors)`);
    const k = v.levels.indexOf(ref);
    if (k < 0) throw usageError(`--ref-${col}=${ref}: '${ref}' is not a level of '${col}' (levels: ${v.levels.join(', ')})`);
    const levels = [ref, ...v.levels.filter((l) => l !== ref)];
    const remap = v.levels.map((l) => levels.indexOf(l));
    vars.set(col, { ...v, levels, codes: v.codes.map((c) => (c < 0 ? c : remap[c]!)) });
  }
  return vars;
}

export type TermKind = 'plain' | 'log' | 'log2' | 'log10' | 'sqrt' | 'exp' | 'factor' | 'strata';

export interface Term {
  /** As written, normalised: `age`, `log(bili)`, `factor(stage)`. */
  label: string;
  kind: TermKind;
  variable: string;
}

const TERM_RE = /^(?:(log|log2|log10|sqrt|exp|factor|strata)\(\s*([^()\s]+)\s*\)|([^()\s+]+))$/;

/** The right-hand side of an R formula, limited to sums of variables and one-argument transforms. */
export function parseFormula(rhs: string): Term[] {
  const parts = rhs.split(/[+,]/).map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw usageError(`formula '${rhs}' has no terms (expected e.g. 'age + sex + log(bili) + factor(stage)')`);
  return parts.map((p) => {
    const m = TERM_RE.exec(p);
    if (!m) throw usageError(`formula term '${p}' is not supported (use a column name, log(), log2(), log10(), sqrt(), exp(), factor() or strata())`);
    if (m[3] !== undefined) return { label: m[3], kind: 'plain' as const, variable: m[3] };
    const kind = m[1] as TermKind;
    return { label: `${kind}(${m[2]})`, kind, variable: m[2]! };
  });
}

export interface PrepareSpec {
  /** Columns the task uses besides time and status. */
  columns: string[];
  /** False for tasks without a survival outcome (roc with --outcome). */
  survival?: boolean;
  /**
   * survival's timefix: times closer than sqrt(eps) count as tied, as coxph, survfit, survdiff and concordance
   * do (aeqSurv). Off for riskRegression/prodlim-based tasks, which do not.
   */
  timefix?: boolean;
}

function codeEvents(v: Variable, statusCol: string, source: string, eventValue: string | undefined, raw: (string | null)[]): Uint8Array {
  if (eventValue !== undefined) {
    const evNum = Number(eventValue);
    return Uint8Array.from(raw, (c) => {
      const s = c!.trim();
      return s === eventValue || (!Number.isNaN(evNum) && s !== '' && Number(s) === evNum) ? 1 : 0;
    });
  }
  if (v.kind === 'factor' && v.levels.every((l) => l === 'TRUE' || l === 'FALSE')) {
    return Uint8Array.from(raw, (c) => (isTrue(c!.trim()) ? 1 : 0));
  }
  if (v.kind === 'numeric') {
    const vals = raw.map((c) => Number(c));
    const u = new Set(vals);
    if ([...u].every((x) => x === 0 || x === 1)) return Uint8Array.from(vals);
    if ([...u].every((x) => x === 1 || x === 2)) return Uint8Array.from(vals, (x) => (x === 2 ? 1 : 0));
  }
  const seen = [...new Set(raw.map((c) => c!.trim()))].sort().slice(0, 8);
  throw new HccError(
    `${source}: status column '${statusCol}' must be coded 0/1, FALSE/TRUE or 1/2 (2 = event); found ${seen.join(', ')}. ` +
      `Give --event-value=V to mark the event value.`,
  );
}

export function prepare(table: CsvTable, opts: DataOptions, spec: PrepareSpec): SurvFrame {
  const survival = spec.survival ?? true;
  const timeColumn = opts.time ?? 'time';
  const statusColumn = opts.status ?? 'status';
  const cols = [...(survival ? [timeColumn, statusColumn] : []), ...spec.columns];
  const used = [...new Set(cols.filter((c) => c !== ''))];
  const missing = used.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) {
    throw new HccError(`${table.source}: column(s) not found: ${missing.join(', ')} (columns: ${table.columns.join(', ')})`);
  }
  const variables = readVariables(table, opts);
  const idx = used.map((c) => table.columns.indexOf(c));
  const keep: number[] = [];
  const dropped: number[] = [];
  table.rows.forEach((r, i) => (idx.every((j) => r[j] !== null) ? keep : dropped).push(i));
  if (dropped.length > 0 && opts.na === 'fail') {
    throw new HccError(`${table.source}: ${dropped.length} row(s) have missing values in the used columns (${used.join(', ')}), and --na=fail was given; first: data row ${dropped[0]! + 1}`);
  }
  if (keep.length === 0) throw new HccError(`${table.source}: no complete rows over the used columns (${used.join(', ')})`);
  const index = Int32Array.from(keep);
  let time: Float64Array = new Float64Array(keep.length);
  let event: Uint8Array = new Uint8Array(keep.length);
  if (survival) {
    const tv = variables.get(timeColumn)!;
    if (tv.kind !== 'numeric') throw new HccError(`${table.source}: time column '${timeColumn}' is not numeric`);
    time = Float64Array.from(keep, (i) => tv.values[i]!);
    time.forEach((t, k) => {
      if (!Number.isFinite(t) || t < 0) {
        throw new HccError(`${table.source}: time column '${timeColumn}', data row ${keep[k]! + 1}: ${t} is not a non-negative finite time`);
      }
    });
    const sj = table.columns.indexOf(statusColumn);
    event = codeEvents(variables.get(statusColumn)!, statusColumn, table.source, opts.eventValue, keep.map((i) => table.rows[i]![sj]!));
  }
  return {
    source: table.source,
    table,
    variables,
    rows: keep.map((i) => i + 1),
    index,
    time: spec.timefix ? aeqTimes(time) : time,
    event,
    na: { n_input: table.rows.length, n_used: keep.length, n_dropped: dropped.length, dropped_rows: dropped.map((i) => i + 1), used_columns: used },
    timeColumn,
    statusColumn,
  };
}

export function requireEvents(frame: SurvFrame, what: string): void {
  if (!frame.event.some((e) => e === 1)) {
    throw new HccError(`${frame.source}: ${what}: no events in status column '${frame.statusColumn}' over the ${frame.time.length} used rows (all censored)`);
  }
}

/** A variable over the used rows; factor levels absent there are dropped (R's droplevels). */
export function frameVariable(frame: SurvFrame, name: string): Variable {
  const v = frame.variables.get(name);
  if (!v) throw new HccError(`${frame.source}: no column '${name}'`);
  if (v.kind === 'numeric') return { ...v, values: Float64Array.from(frame.index, (i) => v.values[i]!) };
  const codes = Int32Array.from(frame.index, (i) => v.codes[i]!);
  const present = v.levels.map((_, k) => codes.includes(k));
  const levels = v.levels.filter((_, k) => present[k]);
  const remap = v.levels.map((l) => levels.indexOf(l));
  return { kind: 'factor', name, levels, codes: codes.map((c) => remap[c]!) };
}

/** A grouping column (factor or numeric codes) as labels and codes over the used rows. */
export function groupOf(frame: SurvFrame, name: string): { levels: string[]; codes: Int32Array } {
  const v = frameVariable(frame, name);
  if (v.kind === 'factor') return { levels: v.levels, codes: v.codes };
  const levels = sortLevels(Array.from(v.values, numberLabel), true);
  const at = new Map(levels.map((l, i) => [l, i]));
  return { levels, codes: Int32Array.from(v.values, (x) => at.get(numberLabel(x))!) };
}

export interface Design {
  /** Column names as R's model.matrix gives them. */
  names: string[];
  /** Column-major: columns[j][i] is row i of column j. */
  columns: Float64Array[];
  /** Index of the term each column comes from. */
  assign: number[];
  terms: Term[];
  /** Factor levels per factor term (for new data and nomograms). */
  levels: Map<string, string[]>;
}

const TRANSFORMS: Record<string, (x: number) => number> = {
  log: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  exp: Math.exp,
};

export function applyTransform(kind: TermKind, x: number): number {
  const f = TRANSFORMS[kind];
  return f ? f(x) : x;
}

/** Treatment-coded model matrix (no intercept column) for the non-strata terms. */
export function designMatrix(frame: SurvFrame, terms: Term[]): Design {
  const names: string[] = [];
  const columns: Float64Array[] = [];
  const assign: number[] = [];
  const levels = new Map<string, string[]>();
  const n = frame.index.length;
  terms.forEach((term, t) => {
    if (term.kind === 'strata') return;
    let v = frameVariable(frame, term.variable);
    if (term.kind === 'factor' && v.kind === 'numeric') {
      const g = groupOf(frame, term.variable);
      v = { kind: 'factor', name: v.name, levels: g.levels, codes: g.codes };
    }
    if (v.kind === 'factor') {
      if (term.kind !== 'plain' && term.kind !== 'factor') throw usageError(`formula term '${term.label}': '${term.variable}' is a factor, ${term.kind}() needs a number`);
      if (v.levels.length < 2) {
        throw new HccError(`${frame.source}: covariate '${term.variable}' has a single level ('${v.levels[0]}') over the ${n} used rows; it cannot be estimated`);
      }
      levels.set(term.label, v.levels);
      for (let k = 1; k < v.levels.length; k++) {
        names.push(`${term.label}${v.levels[k]}`);
        columns.push(Float64Array.from(v.codes, (c) => (c === k ? 1 : 0)));
        assign.push(t);
      }
      return;
    }
    const values = v.values.map((x) => applyTransform(term.kind, x));
    values.forEach((x, i) => {
      if (!Number.isFinite(x)) {
        throw new HccError(`${frame.source}: term '${term.label}', data row ${frame.rows[i]}: value ${v.kind === 'numeric' ? v.values[i] : ''} gives ${x}`);
      }
    });
    if (values.every((x) => x === values[0])) {
      throw new HccError(`${frame.source}: covariate '${term.label}' is constant (${values[0]}) over the ${n} used rows; it cannot be estimated`);
    }
    names.push(term.label);
    columns.push(values);
    assign.push(t);
  });
  return { names, columns, assign, terms, levels };
}
