import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadStudyConfig, parseStudyConfig } from '../../src/study/config.js';
import { repoRoot } from '../helpers.js';

const minimal = {
  name: 'x',
  cohorts: { resection: { synthetic: { n: 20, seed: 1, grid: 'tiny' } }, iat: { csv: 'iat.csv', images: 'img' } },
};

test('defaults fill what the config leaves out, and relative paths resolve against the config file', () => {
  const c = parseStudyConfig(minimal, '/data/study/config.json');
  assert.equal(c.splits.testFraction, 0.3);
  assert.deepEqual(c.analyses.times, [12, 24, 36]);
  assert.deepEqual(c.cohorts.iat, { csv: '/data/study/iat.csv', images: '/data/study/img' });
  assert.deepEqual(c.cohorts.resection, { synthetic: { n: 20, seed: 1, grid: 'tiny', images: true } });
});

test('unknown keys and bad values fail with the key path', () => {
  assert.throws(() => parseStudyConfig({ ...minimal, splitz: {} }, 'c.json'), /c\.json: unknown key 'splitz'/);
  assert.throws(() => parseStudyConfig({ ...minimal, splits: { testFraction: 1.5 } }, 'c.json'), /c\.json\.splits\.testFraction: expected a fraction/);
  assert.throws(
    () => parseStudyConfig({ ...minimal, cohorts: { ...minimal.cohorts, resection: { synthetic: { n: 20, seed: 1, grid: 'huge' } } } }, 'c.json'),
    /grid: expected one of clinical, small, tiny/,
  );
});

test('the shipped configs parse', () => {
  for (const name of ['demo.yaml', 'paper-scale.yaml']) {
    const c = loadStudyConfig(join(repoRoot, 'configs', name));
    assert.ok(c.name.length > 0);
  }
});
