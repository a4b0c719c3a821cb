/** `hcc stats stage`: every staging system for each row of a clinical CSV (src/staging's stageCsv). */
import type { CsvTable } from '../../util/csv.js';
import { stageCsv } from '../../staging/index.js';
import { formatTable, type StatsTask, type TaskOutput } from './task.js';

export function runStage(table: CsvTable): TaskOutput {
  const staged = stageCsv(table);
  const result: Record<string, unknown> = {};
  for (const c of staged.columns) result[c] = staged.rows.map((r) => r[c]);
  const n = table.rows.length;
  return { na: { n_input: n, n_used: n, n_dropped: 0, dropped_rows: [], used_columns: table.columns }, result };
}

export const stageTask: StatsTask = {
  name: 'stage',
  summary: 'Child-Pugh, ALBI, BCLC, CNLC, TNM 8, Okuda, CLIP, JIS, HAP, mHAP-II, six-and-twelve for each row',
  usage: '  the CSV uses the clinical schema columns (docs/clinical.md); output is one row per patient (columnwise in --json)',
  options: [],
  run: runStage,
  print(out) {
    return formatTable(out.result as Record<string, unknown[]>);
  },
};
