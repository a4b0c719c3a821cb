/**
 * The `hcc stats` task table. Each task is a `StatsTask` in src/survival/tasks/<task>.ts (run: CSV table +
 * options -> the oracle's {na, result}; print: R-like text), listed once in `tasks` below. The CLI
 * (src/cli/commands/stats.ts) and the fixture tests (test/survival/oracle-fixtures.test.ts) both go through
 * `runTask`, so `--json` output is what the tests compare with the R oracle key by key.
 *
 * Exports: `tasks`, `findTask(name)`, `runTask(name, csvPath, opts)` -> `OracleDocument`.
 */
import { basename } from 'node:path';
import { readCsv } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { checkOptions, reportedOptions, toJsonValue, type StatsTask, type TaskOptions } from './task.js';
import { coxTask } from './cox.js';
import { kmTask } from './km.js';
import { logrankTask } from './logrank.js';
import { concordanceTask } from './concordance.js';
import { stageTask } from './stage.js';
import { iptwTask } from './iptw.js';
import { nomogramTask } from './nomogram.js';
import { metricTasks } from './metrics.js';

export const tasks: StatsTask[] = [coxTask, kmTask, logrankTask, concordanceTask, nomogramTask, ...metricTasks, iptwTask, stageTask];

export function findTask(name: string): StatsTask {
  const t = tasks.find((x) => x.name === name || x.aliases?.includes(name));
  if (!t) throw usageError(`stats: unknown task '${name}' (tasks: ${tasks.map((x) => x.name).join(', ')})`);
  return t;
}

export interface OracleDocument {
  task: string;
  input: string;
  options: Record<string, string>;
  na: unknown;
  result: unknown;
  meta: { implementation: string; elapsed_s: number };
}

/** Runs a task on a CSV file and returns the document `--json` prints (same layout as the R oracle's). */
export async function runTask(name: string, csvPath: string, opts: TaskOptions): Promise<OracleDocument> {
  const task = findTask(name);
  checkOptions(task, opts);
  const table = readCsv(csvPath);
  const t0 = performance.now();
  const out = await task.run(table, opts);
  const elapsed = (performance.now() - t0) / 1000;
  return {
    task: name,
    input: basename(csvPath),
    options: reportedOptions(opts),
    na: toJsonValue(out.na),
    result: toJsonValue(out.result),
    meta: { implementation: 'hcc-iat (TypeScript)', elapsed_s: elapsed },
  };
}
