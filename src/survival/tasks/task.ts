/**
 * The shape of an `hcc stats <task>` handler and the option conventions shared with the R oracle
 * (/work/shared/oracle/oracle.R): `--key=value`, `--key value` or a bare `--flag`; keys are reported in the JSON
 * `options` with '-' as '_', values as the strings given (flags as "TRUE").
 *
 * Exports:
 * - `StatsTask` {name, aliases?, summary, usage, options, run(table, opts) -> TaskOutput, print(out) -> text}.
 *   Each task lives in src/survival/tasks/<task>.ts and is listed in src/survival/tasks/index.ts.
 * - `TaskOutput` {na, result}: the oracle's `na` and `result` blocks (plain data; NaN becomes null in JSON).
 * - `parseTaskArgs(argv)` -> {positional, opts}: the oracle's argument grammar.
 * - Option readers: `optString`, `optNumber`, `optNumbers` (a,b,c or from:to:by), `optList`, `optFlag`,
 *   `dataOptions(opts)` (time/status/event-value/factors/ref-COL/na).
 * - `COMMON_OPTIONS`: the options every task accepts.
 * - `toJsonValue(x)`: NaN/Infinity -> null, typed arrays -> arrays (jsonlite's na = "null").
 * - `formatTable(columns)`: a plain right-aligned text table for the readable output.
 */
import { usageError } from '../../util/errors.js';
import type { CsvTable } from '../../util/csv.js';
import type { DataOptions, NaReport } from '../data.js';

export type TaskOptions = Record<string, string>;

export interface TaskOutput {
  na: NaReport;
  result: Record<string, unknown>;
}

export interface StatsTask {
  name: string;
  aliases?: string[];
  summary: string;
  /** Option lines for --help. */
  usage: string;
  /** Accepted option keys (without dashes, as typed); `prefixes` accept any key starting with them. */
  options: string[];
  prefixes?: string[];
  run(table: CsvTable, opts: TaskOptions): TaskOutput | Promise<TaskOutput>;
  /** Readable text, as R's print would show it. */
  print(out: TaskOutput, opts: TaskOptions): string;
}

export const COMMON_OPTIONS = ['time', 'status', 'event-value', 'factors', 'na', 'json', 'out'];
export const COMMON_PREFIXES = ['ref-'];

export function parseTaskArgs(argv: string[]): { positional: string[]; opts: TaskOptions } {
  const positional: string[] = [];
  const opts: TaskOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const body = a.slice(2);
    const eq = body.indexOf('=');
    if (eq >= 0) opts[body.slice(0, eq)] = body.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--') && body !== 'json' && body !== 'pairwise' && body !== 'higher-is-longer' && body !== 'no-se' && body !== 'conservative') {
      opts[body] = argv[++i]!;
    } else opts[body] = 'TRUE';
  }
  return { positional, opts };
}

export function checkOptions(task: StatsTask, opts: TaskOptions): void {
  const known = new Set([...COMMON_OPTIONS, ...task.options]);
  const prefixes = [...COMMON_PREFIXES, ...(task.prefixes ?? [])];
  for (const k of Object.keys(opts)) {
    if (!known.has(k) && !prefixes.some((p) => k.startsWith(p))) {
      throw usageError(`stats ${task.name}: unknown option --${k} (options: ${[...task.options, ...COMMON_OPTIONS].map((o) => '--' + o).join(' ')})`);
    }
  }
}

export function optString(opts: TaskOptions, key: string, fallback?: string): string | undefined {
  return opts[key] ?? fallback;
}

export function optNumber(opts: TaskOptions, key: string, fallback?: number): number | undefined {
  const v = opts[key];
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v.trim() === '' || Number.isNaN(x)) throw usageError(`--${key} must be numeric, got '${v}'`);
  return x;
}

export function optList(opts: TaskOptions, key: string): string[] | undefined {
  const v = opts[key];
  if (v === undefined || v === '') return undefined;
  return v.split(',').map((s) => s.trim());
}

/** a,b,c or from:to:by (R's seq, rounded to 10 decimals as the oracle does). */
export function optNumbers(opts: TaskOptions, key: string): number[] | undefined {
  const v = optList(opts, key);
  if (!v) return undefined;
  if (v.length === 1 && /^[-0-9.eE]+:[-0-9.eE]+:[-0-9.eE]+$/.test(v[0]!)) {
    const [from, to, by] = v[0]!.split(':').map(Number) as [number, number, number];
    if (!(by > 0) || to < from) throw usageError(`--${key}=${v[0]}: expected from:to:by with by > 0`);
    const out: number[] = [];
    const n = Math.floor((to - from) / by + 1e-10);
    for (let k = 0; k <= n; k++) out.push(Math.round((from + k * by) * 1e10) / 1e10);
    return out;
  }
  const x = v.map(Number);
  if (x.some((e) => Number.isNaN(e))) throw usageError(`--${key} must be a comma-separated list of numbers, got '${opts[key]}'`);
  return x;
}

export function optFlag(opts: TaskOptions, key: string): boolean {
  const v = opts[key];
  return v !== undefined && ['true', '1', 'yes', 't', 'y'].includes(v.toLowerCase());
}

export function dataOptions(opts: TaskOptions): DataOptions {
  const refs: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) if (k.startsWith('ref-')) refs[k.slice(4)] = v;
  const na = opts['na'];
  if (na !== undefined && na !== 'omit' && na !== 'fail') throw usageError(`--na must be omit or fail, got '${na}'`);
  return { time: opts['time'], status: opts['status'], eventValue: opts['event-value'], factors: optList(opts, 'factors'), refs, na: na as 'omit' | 'fail' | undefined };
}

/** The oracle's `options` block: keys with '-' as '_', without --out and --json. */
export function reportedOptions(opts: TaskOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) if (k !== 'out' && k !== 'json') out[k.replace(/-/g, '_')] = v;
  return out;
}

export function toJsonValue(x: unknown): unknown {
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return Array.from(x as unknown as ArrayLike<number>, (v) => toJsonValue(v));
  if (Array.isArray(x)) return x.map(toJsonValue);
  if (x !== null && typeof x === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) o[k] = toJsonValue(v);
    return o;
  }
  return x;
}

/** Numbers as R prints them by default (7 significant digits). */
export function fmt(x: unknown, digits = 7): string {
  if (typeof x !== 'number') return x === null || x === undefined ? 'NA' : String(x);
  if (Number.isNaN(x)) return 'NA';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const s = x.toPrecision(digits);
  return s.includes('e') ? s : String(Number(s));
}

/** Right-aligned text table from named columns. */
export function formatTable(columns: Record<string, unknown[]>, digits = 7): string {
  const names = Object.keys(columns);
  const cells = names.map((n) => [n, ...columns[n]!.map((v) => fmt(v, digits))]);
  const widths = cells.map((c) => Math.max(...c.map((s) => s.length)));
  const rows = cells[0] ? cells[0].length : 0;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) lines.push(cells.map((c, j) => c[r]!.padStart(widths[j]!)).join('  '));
  return lines.join('\n');
}

/** type = 1 sample quantiles (inverse of the empirical cdf), as the oracle's default Cox prediction times. */
export function quantileType1(values: number[], probs: number[]): number[] {
  const x = [...values].sort((a, b) => a - b);
  const n = x.length;
  return probs.map((p) => {
    const np = n * p;
    const j = Math.floor(np + 4 * 2.220446049250313e-16 * np);
    const g = np - j;
    return x[Math.max(0, Math.min(n - 1, g > 4 * 2.220446049250313e-16 * np ? j : j - 1))]!;
  });
}
