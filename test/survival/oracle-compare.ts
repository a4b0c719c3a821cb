/**
 * Generic comparison of our `--json` documents with the R oracle's (shared by every statistics test).
 *
 * - `compareOracle(expected, actual, {rel, skip})` walks the oracle's JSON and lists every difference: numbers
 *   within a relative tolerance (with a 1e-13 absolute floor for values that are 0 up to round-off), strings and
 *   booleans equal, null as null/NaN, every oracle key present. jsonlite writes length-1 vectors as scalars, so a
 *   scalar equals a one-element array; an empty vector `[]` equals an empty object.
 * - `readFixtureTable(tsv)` parses a fixtures.tsv (name, task, input, args).
 * - `splitArgs(args)` splits the args column on whitespace.
 */
import { readFileSync } from 'node:fs';

export interface CompareOptions {
  rel?: number;
  /** Paths (as printed, e.g. `result.cox_zph`) to leave out, with the reason kept by the caller. */
  skip?: (path: string) => boolean;
}

export function compareOracle(expected: unknown, actual: unknown, opts: CompareOptions = {}, path = ''): string[] {
  const rel = opts.rel ?? 1e-6;
  if (opts.skip?.(path)) return [];
  if (expected === null) return actual === null || actual === undefined || (typeof actual === 'number' && Number.isNaN(actual)) ? [] : [`${path}: R gives NA, got ${JSON.stringify(actual)}`];
  if (actual === undefined) return [`${path}: missing (R gives ${JSON.stringify(expected).slice(0, 80)})`];
  if (Array.isArray(actual) && !Array.isArray(expected) && actual.length === 1) return compareOracle(expected, actual[0], opts, path);
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return [`${path}: R gives ${expected}, got ${JSON.stringify(actual)}`];
    const ok = Math.abs(actual - expected) <= rel * Math.abs(expected) || Math.abs(actual - expected) <= 1e-13;
    return ok ? [] : [`${path}: R gives ${expected}, got ${actual} (rel. diff ${(Math.abs(actual - expected) / Math.abs(expected)).toExponential(2)})`];
  }
  if (typeof expected === 'string' || typeof expected === 'boolean') return expected === actual ? [] : [`${path}: R gives ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  if (Array.isArray(expected)) {
    if (expected.length === 0 && actual !== null && typeof actual === 'object' && Object.keys(actual).length === 0) return [];
    if (!Array.isArray(actual)) return [`${path}: R gives an array of ${expected.length}, got ${JSON.stringify(actual).slice(0, 80)}`];
    if (actual.length !== expected.length) return [`${path}: R gives ${expected.length} elements, got ${actual.length}`];
    return expected.flatMap((e, i) => compareOracle(e, actual[i], opts, `${path}[${i}]`));
  }
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: R gives an object, got ${JSON.stringify(actual).slice(0, 80)}`];
    return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) => compareOracle(v, (actual as Record<string, unknown>)[k], opts, path ? `${path}.${k}` : k));
  }
  return [`${path}: unexpected value in the fixture`];
}

export interface FixtureRow {
  name: string;
  task: string;
  input: string;
  args: string;
}

export function readFixtureTable(tsv: string): FixtureRow[] {
  const lines = readFileSync(tsv, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return lines.slice(1).map((l) => {
    const [name, task, input, args] = l.split('\t') as [string, string, string, string?];
    return { name, task, input, args: args ?? '' };
  });
}

export function splitArgs(args: string): string[] {
  return args.split(/\s+/).filter((a) => a !== '');
}
