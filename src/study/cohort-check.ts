import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLINICAL_COLUMNS, validateClinical } from '../clinical/schema.js';
import { casePaths } from '../imaging/case.js';
import { deriveStages, STAGE_COLUMNS } from '../staging/index.js';
import { formatCsv, readCsv } from '../util/csv.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import type { CohortKind } from '../phantom/patient.js';

/**
 * Validation of a real cohort before any work starts: required columns, every value against the clinical
 * schema, missing values per column, and the images each case needs. All problems are collected and reported
 * together, so a user fixes the file once rather than one error per run.
 */
export interface CohortCheck {
  cohort: CohortKind;
  n: number;
  missingByColumn: Record<string, number>;
  /** Cases without both phases on disk (empty when no image folder is configured). */
  missingImages: string[];
}

const REQUIRED: Record<CohortKind, string[]> = {
  resection: ['id', 'proliferative'],
  iat: ['id', 'treatment', 'os_months', 'os_event'],
};

/** Validates `csvPath`, then writes the normalised table (with every derivable stage) to `outCsv`. */
export function checkRealCohort(cohort: CohortKind, csvPath: string, imagesDir: string | undefined, outCsv: string): CohortCheck {
  const table = readCsv(csvPath);
  const problems: string[] = [];
  const known = new Set<string>([...CLINICAL_COLUMNS.map((c) => c.name), ...STAGE_COLUMNS]);
  for (const c of REQUIRED[cohort]) if (!table.columns.includes(c)) problems.push(`required column '${c}' is missing`);
  for (const c of table.columns) if (!known.has(c)) problems.push(`unknown column '${c}' (see docs/cohort.md for the column dictionary)`);
  const rows: Array<Record<string, unknown>> = [];
  table.rows.forEach((r, i) => {
    const raw = Object.fromEntries(table.columns.map((c, j) => [c, r[j]]));
    try {
      const v = validateClinical(raw, `${csvPath} row ${i + 1}`);
      rows.push({ ...raw, ...v, ...deriveStages(v, `${csvPath} row ${i + 1}`) });
    } catch (err) {
      problems.push((err as Error).message);
    }
  });
  const missingImages: string[] = [];
  if (imagesDir) {
    for (const row of rows) {
      const p = casePaths(join(imagesDir, String(row.id)));
      if (!existsSync(p.art) || !existsSync(p.pv)) missingImages.push(String(row.id));
    }
    if (missingImages.length > 0) {
      problems.push(`${missingImages.length} case(s) lack ${'<id>'}_art.nii.gz or _pv.nii.gz in ${imagesDir}: ${missingImages.slice(0, 5).join(', ')}${missingImages.length > 5 ? ', ...' : ''}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
    throw new HccError(`${cohort} cohort ${csvPath} is not usable:\n  - ${shown.join('\n  - ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`);
  }
  const columns = [...new Set([...table.columns, ...STAGE_COLUMNS])];
  const missingByColumn = Object.fromEntries(columns.map((c) => [c, rows.filter((r) => r[c] === null || r[c] === undefined).length]));
  writeFileAtomicSync(outCsv, formatCsv(columns, rows));
  return { cohort, n: rows.length, missingByColumn, missingImages };
}
