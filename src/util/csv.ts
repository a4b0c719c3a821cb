import { readFileSync } from 'node:fs';
import { HccError } from './errors.js';

/**
 * CSV as R's read.csv and write.csv see it: a header row, RFC 4180 quoting ("" inside quotes), CRLF or LF,
 * a UTF-8 BOM ignored, and `NA`, empty, `NaN`, `.` and `NULL` read as missing (null).
 */
export type Cell = string | null;

export interface CsvTable {
  columns: string[];
  rows: Cell[][];
  /** Where the table came from, for error messages. */
  source: string;
}

const MISSING = new Set(['', 'NA', 'NaN', '.', 'NULL']);

export function parseCsv(text: string, source = '<csv>'): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const quotedCell: boolean[][] = [];
  let field = '';
  let record: string[] = [];
  let quotedFlags: boolean[] = [];
  let quoted = false;
  let inQuotes = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      inQuotes = true;
      quoted = true;
    } else if (ch === ',') {
      record.push(field);
      quotedFlags.push(quoted);
      field = '';
      quoted = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      quotedFlags.push(quoted);
      if (!(record.length === 1 && record[0] === '' && !quoted)) {
        records.push(record);
        quotedCell.push(quotedFlags);
      }
      record = [];
      quotedFlags = [];
      field = '';
      quoted = false;
      line++;
    } else field += ch;
  }
  if (inQuotes) throw new HccError(`${source}: a quoted field opened on or before line ${line} is never closed`);
  if (field !== '' || record.length > 0 || quoted) {
    record.push(field);
    quotedFlags.push(quoted);
    records.push(record);
    quotedCell.push(quotedFlags);
  }
  if (records.length === 0) throw new HccError(`${source}: empty file, expected a header row`);
  const columns = records[0]!.map((c) => c.trim());
  const seen = new Set<string>();
  for (const c of columns) {
    if (c === '') throw new HccError(`${source}: the header has an empty column name`);
    if (seen.has(c)) throw new HccError(`${source}: column '${c}' appears twice in the header`);
    seen.add(c);
  }
  const rows = records.slice(1).map((r, idx) => {
    if (r.length !== columns.length) {
      throw new HccError(`${source}: data row ${idx + 1} has ${r.length} fields, the header has ${columns.length}`);
    }
    // A quoted "NA" is a string, as in R; an unquoted one is missing.
    return r.map((v, j) => (!quotedCell[idx + 1]![j] && MISSING.has(v.trim()) ? null : v));
  });
  return { columns, rows, source };
}

export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HccError(`cannot read CSV file ${path}: ${(err as Error).message}`);
  }
  return parseCsv(text, path);
}

/** The values of one column; a clear error names the column and the file when it is absent. */
export function column(table: CsvTable, name: string): Cell[] {
  const j = table.columns.indexOf(name);
  if (j < 0) throw new HccError(`${table.source}: no column '${name}' (columns: ${table.columns.join(', ')})`);
  return table.rows.map((r) => r[j]!);
}

/** A numeric column; missing cells become NaN, and a non-numeric cell is an error naming row and column. */
export function numericColumn(table: CsvTable, name: string): Float64Array {
  const values = column(table, name);
  const out = new Float64Array(values.length);
  values.forEach((v, i) => {
    if (v === null) out[i] = NaN;
    else {
      const x = Number(v.trim());
      if (v.trim() === '' || Number.isNaN(x)) {
        throw new HccError(`${table.source}: column '${name}', data row ${i + 1}: '${v}' is not a number`);
      }
      out[i] = x;
    }
  });
  return out;
}

function quote(value: unknown): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return 'NA';
  // String(x) for a number is the shortest text that reads back as the same double.
  const s = String(value);
  return /[",\r\n]/.test(s) || s === 'NA' ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as objects keyed by `columns`; missing keys and null/NaN become NA. */
export function formatCsv(columns: string[], rows: Array<Record<string, unknown>>): string {
  const lines = [columns.map(quote).join(',')];
  for (const row of rows) lines.push(columns.map((c) => quote(row[c])).join(','));
  return lines.join('\n') + '\n';
}
