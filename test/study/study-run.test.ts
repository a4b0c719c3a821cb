import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../../src/study/config.js';
import { runStudy } from '../../src/study/run.js';
import { validateStudy } from '../../src/study/validate.js';

const quiet = () => {};

test('a miniature synthetic study runs end to end, writes every output, and reuses finished stages', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'hcc-study-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const config = parseStudyConfig(
    {
      name: 'mini',
      seed: 3,
      cohorts: {
        resection: { synthetic: { n: 40, seed: 1, grid: 'tiny', images: false } },
        iat: { synthetic: { n: 240, seed: 2, grid: 'tiny', images: false } },
      },
      analyses: { bootstrap: 5 },
    },
    join(out, 'config.json'),
  );
  const r = await runStudy(config, { outDir: join(out, 'study'), resume: false, log: quiet });
  const saved = JSON.parse(readFileSync(join(out, 'study', 'results.json'), 'utf8'));
  // The sections the study issue names, each at the top level of results.json.
  for (const section of ['detection', 'nomogram', 'staging_comparison', 'risk_groups', 'treatment_effect', 'truth_comparison', 'provenance']) {
    assert.ok(saved[section] !== undefined && saved[section] !== null, `results.json lacks ${section}`);
  }
  assert.ok(r.nomogram.selection.selected.length >= 1);
  const nomo = r.nomogram.metrics;
  assert.deepEqual(r.staging_comparison.metrics[0], nomo, 'the staging comparison starts with the nomogram');
  assert.ok(r.staging_comparison.metrics.some((m) => m.score === 'bclc'));
  assert.deepEqual(r.staging_comparison.skipped, [], 'no system is left out of a 240-patient comparison');
  // The risk-group counts add up to the complete cases of each split.
  const { counts } = r.risk_groups;
  assert.equal(counts.train.low + counts.train.high, r.nomogram.completeCases.train);
  assert.equal(counts.test.low + counts.test.high, r.nomogram.completeCases.test);
  // The synthetic prognosis is strong: a clinical nomogram must beat chance clearly on the test split.
  assert.ok(nomo.test.unoC.c > 0.6, `Uno's C ${nomo.test.unoC.c}`);
  assert.equal(r.splits.train.iat! + r.splits.test.iat!, 240);
  assert.ok(r.truth_comparison !== null && r.truth_comparison.groups.length > 0);
  for (const f of ['study.lock', 'splits.json', 'model-card.md', 'models/nomogram/model.json', 'models/treatment/rules.json', 'tables/prognostic_metrics.csv']) {
    assert.ok(existsSync(join(out, 'study', f)), `${f} missing`);
  }
  const again = await runStudy(config, { outDir: join(out, 'study'), resume: true, log: quiet });
  assert.deepEqual(again.provenance.lock, r.provenance.lock);
  assert.deepEqual(again.nomogram, r.nomogram);
  await assert.rejects(runStudy(config, { outDir: join(out, 'study'), resume: false, log: quiet }), /not empty; pass --resume/);

  // External validation on a new seed from another site: the frozen model still discriminates, the calibration
  // slope is near 1 (same generative model), and recalibrating cannot make the Brier score worse in-sample.
  const external = parseStudyConfig(
    { name: 'ext', cohorts: { resection: { synthetic: { n: 20, seed: 8, grid: 'tiny', images: false } }, iat: { synthetic: { n: 300, seed: 9, grid: 'tiny', images: false, site: 'siteB' } } } },
    join(out, 'ext.json'),
  );
  const v = await validateStudy(join(out, 'study'), external, join(out, 'validation'));
  assert.equal(v.cohort.complete, 300);
  assert.ok(v.frozen.metrics.unoC.c > 0.6, `external Uno's C ${v.frozen.metrics.unoC.c}`);
  assert.ok(v.recalibrated.slope > 0.5 && v.recalibrated.slope < 1.6, `slope ${v.recalibrated.slope}`);
  assert.equal(v.recalibrated.metrics.unoC.c, v.frozen.metrics.unoC.c);
  assert.ok(existsSync(join(out, 'validation', 'validation.json')));
});

test('a real cohort with an unknown column or a missing image fails fast, naming the problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-real-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'img'));
  writeFileSync(join(dir, 'res.csv'), 'id,proliferative,shoe_size\nA1,1,42\n');
  writeFileSync(join(dir, 'iat.csv'), 'id,treatment,os_months,os_event\nB1,TACE,10,1\n');
  const config = parseStudyConfig(
    { name: 'real', cohorts: { resection: { csv: 'res.csv', images: 'img' }, iat: { csv: 'iat.csv' } } },
    join(dir, 'config.json'),
  );
  await assert.rejects(runStudy(config, { outDir: join(dir, 'out'), resume: false, log: quiet }), (err: Error) => {
    assert.match(err.message, /unknown column 'shoe_size'/);
    assert.match(err.message, /lack <id>_art\.nii\.gz or _pv\.nii\.gz in .*img: A1/);
    return true;
  });
});
