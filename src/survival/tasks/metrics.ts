/** The evaluation-metric tasks of `hcc stats` (score, roc, maxstat, calibration, dca), listed once for the task table in ./index.ts. */
import type { StatsTask } from './task.js';
import { scoreTask } from './score.js';
import { maxstatTask } from './maxstat.js';
import { rocTask } from './roc.js';
import { calibrationTask } from './calibration.js';
import { dcaTask } from './dca.js';

export const metricTasks: StatsTask[] = [scoreTask, rocTask, maxstatTask, calibrationTask, dcaTask];
