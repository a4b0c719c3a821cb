/** Grouping for km/logrank: --group=COL and/or --cut-score=COL --cuts=c1[,c2] (right-closed g1 = score <= c1). */
import { usageError } from '../../util/errors.js';
import { frameVariable, groupOf, type SurvFrame } from '../data.js';
import { optNumbers, type TaskOptions } from './task.js';

export interface Grouping {
  /** Column name reported as `group` ("risk_group" for cut scores). */
  name: string;
  levels: string[];
  codes: Int32Array;
}

export function groupColumns(opts: TaskOptions): string[] {
  return [opts['group'] ?? '', opts['cut-score'] ?? ''];
}

export function grouping(frame: SurvFrame, opts: TaskOptions): Grouping | undefined {
  const g = opts['group'];
  const cs = opts['cut-score'];
  if (cs === undefined) return g === undefined ? undefined : { name: g, ...groupOf(frame, g) };
  const cuts = optNumbers(opts, 'cuts');
  if (!cuts) throw usageError('--cut-score needs --cuts=c1[,c2]');
  const v = frameVariable(frame, cs);
  if (v.kind !== 'numeric') throw usageError(`--cut-score: column '${cs}' is not numeric`);
  const sorted = [...cuts].sort((a, b) => a - b);
  const risk = Array.from(v.values, (x) => {
    const k = sorted.findIndex((c) => x <= c);
    return `g${(k < 0 ? sorted.length : k) + 1}`;
  });
  const other = g === undefined ? undefined : groupOf(frame, g);
  const labels = risk.map((r, i) => (other ? `${r}:${other.levels[other.codes[i]!]}` : r));
  const allRisk = Array.from({ length: sorted.length + 1 }, (_, k) => `g${k + 1}`);
  const order = other ? allRisk.flatMap((r) => other.levels.map((l) => `${r}:${l}`)) : allRisk;
  const levels = order.filter((l) => labels.includes(l));
  return { name: 'risk_group', levels, codes: Int32Array.from(labels, (l) => levels.indexOf(l)) };
}
