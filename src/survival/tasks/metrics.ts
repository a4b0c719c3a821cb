/** The evaluation-metric tasks of `hcc stats` (score, ...), listed once for the task table in ./index.ts. */
import type { StatsTask } from './task.js';
import { scoreTask } from './score.js';
import { maxstatTask } from './maxstat.js';

export const metricTasks: StatsTask[] = [scoreTask, maxstatTask];
