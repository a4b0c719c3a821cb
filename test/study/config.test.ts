import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStudyConfig, parseStudyConfig } from '../../src/study/config.js';
import { runStudy } from '../../src/study/run.js';
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
  // Absent, not empty, so the stage hashes of configs written before `force` existed stay the same.
  assert.ok(!('force' in c.nomogram));
  assert.deepEqual(parseStudyConfig({ ...minimal, nomogram: { force: ['pmn_score'] } }, 'c.json').nomogram.force, ['pmn_score']);
  assert.ok(!('device' in c.segmentation));
  assert.equal(parseStudyConfig({ ...minimal, segmentation: { device: 'cuda:1' } }, 'c.json').segmentation.device, 'cuda:1');
});

test('unknown keys and bad values fail with the key path', () => {
  assert.throws(() => parseStudyConfig({ ...minimal, splitz: {} }, 'c.json'), /c\.json: unknown key 'splitz'/);
  assert.throws(() => parseStudyConfig({ ...minimal, splits: { testFraction: 1.5 } }, 'c.json'), /c\.json\.splits\.testFraction: expected a fraction/);
  assert.throws(
    () => parseStudyConfig({ ...minimal, cohorts: { ...minimal.cohorts, resection: { synthetic: { n: 20, seed: 1, grid: 'huge' } } } }, 'c.json'),
    /grid: expected one of clinical, small, tiny/,
  );
  assert.throws(() => parseStudyConfig({ ...minimal, nomogram: { candidates: ['age_years'], force: ['pmn_score'] } }, 'c.json'), /c\.json\.nomogram\.force: expected a list of terms from nomogram\.candidates \(age_years\)/);
  assert.throws(() => parseStudyConfig({ ...minimal, segmentation: { device: 'gpu' } }, 'c.json'), /c\.json\.segmentation\.device: expected 'cpu', 'cuda' or 'cuda:N', got "gpu"/);
});

test('a segmentation device the machine lacks fails before the first stage runs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hcc-device-'));
  try {
    const config = parseStudyConfig({ ...minimal, segmentation: { mode: 'train', device: 'cuda:99' } }, join(root, 'c.json'));
    const out = join(root, 'study');
    // CPU-only libtorch (CI) or a CUDA one with fewer devices: either way the message names the device.
    await assert.rejects(runStudy(config, { outDir: out, resume: false, log: () => {} }), (e: Error) => e.name === 'HccError' && /device 'cuda:99': /.test(e.message));
    assert.equal(existsSync(out), false, 'nothing was written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the shipped configs parse', () => {
  const names = readdirSync(join(repoRoot, 'configs')).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(names.length >= 3);
  for (const name of names) {
    const c = loadStudyConfig(join(repoRoot, 'configs', name));
    assert.ok(c.name.length > 0);
  }
});

import { stratifiedSplit } from '../../src/study/splits.js';
import { Rng } from '../../src/util/rng.js';

test('stratified split keeps each stratum share, disjoint, covering, and reproducible', () => {
  const ids = Array.from({ length: 100 }, (_, i) => `p${i}`);
  const strata = ids.map((_, i) => (i < 30 ? '1' : '0'));
  const a = stratifiedSplit(ids, strata, 0.3, 5, Rng.stream(7));
  const b = stratifiedSplit(ids, strata, 0.3, 5, Rng.stream(7));
  assert.deepEqual(a, b);
  assert.equal(a.test.length, 30);
  assert.equal(a.test.filter((id) => Number(id.slice(1)) < 30).length, 9);
  assert.equal(new Set([...a.train, ...a.test]).size, 100);
  assert.equal(a.folds.flat().length, a.train.length);
  assert.deepEqual([...a.folds.flat()].sort(), [...a.train].sort());
});
