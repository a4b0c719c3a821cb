/**
 * `hcc stats <task> <file.csv> [options] [--json]`: the survival and diagnostic statistics, with the R oracle's
 * task names, options and JSON layout (/work/shared/oracle/README.md), so any result can be diffed against R.
 *
 * Adding a task: write src/survival/tasks/<task>.ts exporting a `StatsTask` (see src/survival/tasks/task.ts) and
 * add it to the `tasks` array in src/survival/tasks/index.ts. Nothing here changes: usage, option checking, JSON
 * and text output all come from the task table.
 */
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { usageError } from '../../util/errors.js';
import { findTask, runTask, tasks } from '../../survival/tasks/index.js';
import { parseTaskArgs, type TaskOutput } from '../../survival/tasks/task.js';

function usage(): string {
  return [
    'Usage: hcc stats <task> <file.csv> [options] [--json] [--out=FILE]',
    '',
    'Tasks:',
    ...tasks.map((t) => `  ${t.name.padEnd(12)} ${t.summary}`),
    '',
    'Common options: --time=COL (default time) --status=COL (default status; 0/1, FALSE/TRUE or 1/2 with 2 = event)',
    '  --event-value=V  --factors=a,b (numeric codes as factors)  --ref-COL=LEVEL  --na=omit|fail',
    '--json prints the same keys and layout as the R oracle (Rscript oracle.R <task> ...); without it, R-like tables.',
    '',
    ...tasks.flatMap((t) => [`${t.name}:`, t.usage, '']),
  ].join('\n');
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Survival and diagnostic statistics validated against R (cox, km, logrank, concordance, ...)',
  get usage() {
    return usage();
  },
  async run(argv) {
    const { positional, opts } = parseTaskArgs(argv);
    if (positional.length < 2) throw usageError(`expected a task and a CSV file: hcc stats <task> <file.csv> (tasks: ${tasks.map((t) => t.name).join(', ')})`);
    if (positional.length > 2) throw usageError(`unexpected argument '${positional[2]}'`);
    const [name, csv] = positional as [string, string];
    const task = findTask(name);
    const doc = await runTask(name, csv, opts);
    const json = opts['json'] !== undefined;
    const text = json ? JSON.stringify(doc, null, 2) + '\n' : task.print({ na: doc.na, result: doc.result } as TaskOutput, opts) + '\n' + naLine(doc.na);
    if (opts['out'] !== undefined) writeFileAtomicSync(opts['out'], text);
    else if (json) printJson(doc);
    else process.stdout.write(text);
    return 0;
  },
};

function naLine(na: unknown): string {
  const n = na as { n_dropped: number; n_input: number; used_columns: string[] };
  return n.n_dropped > 0 ? `(${n.n_dropped} of ${n.n_input} rows dropped for missing values in ${n.used_columns.join(', ')})\n` : '';
}
