/**
 * Every R-oracle fixture of the survival-model tasks, run through the same code path as `hcc stats <task> --json`
 * and compared key by key to a relative 1e-6 (p-values and CIs included): the shared fixtures
 * (/work/shared/oracle/data) and our own (test/fixtures/survival, made with the same oracle; see make.sh there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, shared } from '../helpers.js';
import { runTask } from '../../src/survival/tasks/index.js';
import { parseTaskArgs } from '../../src/survival/tasks/task.js';
import { compareOracle, readFixtureTable, splitArgs } from './oracle-compare.js';

const OUR_TASKS = new Set(['cox', 'km', 'logrank', 'concordance', 'nomogram']);

const sources = [
  { dir: shared('oracle', 'data'), tsv: shared('oracle', 'fixtures.tsv') },
  { dir: fixture('survival'), tsv: fixture('survival', 'fixtures.tsv') },
];

for (const src of sources) {
  if (!existsSync(src.tsv)) continue;
  for (const row of readFixtureTable(src.tsv)) {
    if (!OUR_TASKS.has(row.task)) continue;
    const json = join(src.dir, `${row.name}.json`);
    if (!existsSync(json)) continue;
    test(`oracle fixture ${row.name} (${row.task} ${row.args})`, async () => {
      const expected = JSON.parse(readFileSync(json, 'utf8')) as { na: unknown; result: unknown };
      const { opts } = parseTaskArgs(splitArgs(row.args));
      // Files named in the arguments (e.g. --newdata) sit beside the fixture, as when the oracle ran.
      for (const [k, v] of Object.entries(opts)) if (v.endsWith('.csv')) opts[k] = join(src.dir, v);
      const doc = await runTask(row.task, join(src.dir, row.input), opts);
      const diffs = [...compareOracle(expected.na, doc.na, {}, 'na'), ...compareOracle(expected.result, doc.result, {}, 'result')];
      assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences from R`);
    });
  }
}

test('the comparison catches a changed number, a missing key and a wrong NA', () => {
  const r = { a: [1, 2, 3], b: { c: 0.5, d: null }, e: 'x', f: 4 };
  assert.deepEqual(compareOracle(r, { a: [1, 2, 3], b: { c: 0.5, d: null }, e: 'x', f: [4] }), []);
  assert.equal(compareOracle(r, { a: [1, 2, 3.00001], b: { c: 0.5, d: null }, e: 'x', f: 4 }).length, 1);
  // A key whose R value is NA may be absent (we omit undefined values from JSON).
  assert.equal(compareOracle(r, { a: [1, 2, 3], b: { c: 0.5 }, e: 'x', f: 4 }).length, 0);
  assert.equal(compareOracle(r, { a: [1, 2, 3], b: { d: 1 }, e: 'x', f: 4 }).length, 2);
});
