/**
 * Every R-oracle fixture of the evaluation-metric tasks (score, roc, maxstat, calibration, dca), run through the
 * same code path as `hcc stats <task> --json` and compared key by key to a relative 1e-6 (p-values and CIs
 * included): the shared fixtures (/work/shared/oracle/data) and ours (test/fixtures/survival/metrics.tsv, made
 * with the same oracle; see make-metrics.sh there). Resampled quantities (bootstrap CIs and tests, maxstat's
 * quasi-Monte Carlo exactGauss p-value) cannot equal R's random streams: they are compared within Monte-Carlo
 * error instead (`MC_KEYS`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, shared } from '../helpers.js';
import { runTask } from '../../src/survival/tasks/index.js';
import { parseTaskArgs } from '../../src/survival/tasks/task.js';
import { compareOracle, readFixtureTable, splitArgs } from './oracle-compare.js';
import { pnorm } from '../../src/survival/distributions.js';

const METRIC_TASKS = new Set(['score', 'tdauc', 'brier', 'roc', 'maxstat', 'calibration', 'dca']);

/**
 * Resampled keys and how close they must be. A bootstrap percentile bound has a Monte-Carlo sd of about
 * 2.7 sd(AUC)/sqrt(B) per run, so two independent runs of B >= 1000 agree within 0.4 sd(AUC) (over 3 sd of their
 * difference); the bootstrap test's D within 10% (its sd is about D/sqrt(2B) per run); its p-value is checked as
 * 2 pnorm(-|D|) of our own D; condMC within 4 binomial sd; exactGauss within 15% (R's own default run carries an error bound larger than the
 * p-value; the Miwa value is checked in maxstat.test.ts).
 */
const MC_KEYS: Array<[RegExp, (expected: number, actual: number, path: string, rResult: unknown, ourResult: unknown) => boolean]> = [
  [/\.p_exactGauss$/, (e, a) => Math.abs(a - e) <= 0.15 * e],
  // condMC fixtures use B = 10000 permutations on both sides: 4 sd of the difference of two binomial estimates.
  [/\.p_condMC$/, (e, a) => Math.abs(a - e) <= 4 * Math.sqrt((2 * e * (1 - e)) / 10000) + 1e-4],
  [/\.ci_bootstrap_percentile\[\d\]$/, (e, a, path, result) => Math.abs(a - e) <= 0.4 * Math.sqrt(get(result, path.replace(/^result\./, '').replace(/ci_bootstrap_percentile\[\d\]$/, 'var_delong')) as number)],
  [/\.bootstrap_test\.d$/, (e, a) => Math.abs(a - e) <= 0.1 * Math.abs(e)],
  [/\.bootstrap_test\.p$/, (_e, a, _p, _r, ours) => Math.abs(a - 2 * pnorm(-Math.abs(get(ours, 'bootstrap_test.d') as number))) <= 1e-12],
];

const sources = [
  { dir: shared('oracle', 'data'), tsv: shared('oracle', 'fixtures.tsv') },
  { dir: fixture('survival'), tsv: fixture('survival', 'metrics.tsv') },
];

function get(obj: unknown, path: string): unknown {
  return path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '').reduce<unknown>((o, k) => (o === null || o === undefined ? o : (o as Record<string, unknown>)[k]), obj);
}

for (const src of sources) {
  if (!existsSync(src.tsv)) continue;
  for (const row of readFixtureTable(src.tsv)) {
    if (!METRIC_TASKS.has(row.task)) continue;
    const json = join(src.dir, `${row.name}.json`);
    if (!existsSync(json)) continue;
    test(`oracle fixture ${row.name} (${row.task} ${row.args})`, async () => {
      const expected = JSON.parse(readFileSync(json, 'utf8')) as { na: unknown; result: unknown };
      const { opts } = parseTaskArgs(splitArgs(row.args));
      const doc = await runTask(row.task, join(src.dir, row.input), opts);
      const mc = (p: string) => MC_KEYS.some(([re]) => re.test(p));
      const diffs = [...compareOracle(expected.na, doc.na, {}, 'na'), ...compareOracle(expected.result, doc.result, { skip: mc }, 'result')];
      assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences from R`);
      // Monte-Carlo quantities: same keys, within the stated relative tolerance.
      const walk = (e: unknown, path: string): string[] => {
        const hit = MC_KEYS.find(([re]) => re.test(path));
        if (hit && typeof e === 'number') {
          const a = get(doc, path);
          return typeof a === 'number' && hit[1](e, a, path, expected.result, doc.result) ? [] : [`${path}: R ${e}, ours ${String(a)} (beyond Monte-Carlo error)`];
        }
        if (Array.isArray(e)) return e.flatMap((x, i) => walk(x, `${path}[${i}]`));
        if (e !== null && typeof e === 'object') return Object.entries(e).flatMap(([k, v]) => walk(v, `${path}.${k}`));
        return [];
      };
      assert.deepEqual(walk(expected.result, 'result'), []);
    });
  }
}
