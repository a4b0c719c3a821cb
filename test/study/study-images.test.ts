import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../../src/study/config.js';
import { runStudy } from '../../src/study/run.js';
import { renderStudyReport } from '../../src/report/study-report.js';

test('a miniature study with tiny CT phantoms and a one-epoch PMN runs end to end, every section filled', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'hcc-study-img-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const config = parseStudyConfig(
    {
      name: 'mini-images',
      seed: 11,
      cohorts: {
        resection: { synthetic: { n: 24, seed: 1, grid: 'tiny' } },
        iat: { synthetic: { n: 60, seed: 2, grid: 'tiny' } },
      },
      pmn: { epochs: 1, network: { inputSize: [32, 32, 16], stemChannels: [8, 16], dModel: 16, depth: 1, prototypesPerClass: 2 } },
      analyses: { bootstrap: 3 },
    },
    join(out, 'config.json'),
  );
  const r = await runStudy(config, { outDir: join(out, 'study'), resume: false, log: () => {} });
  const saved = JSON.parse(readFileSync(join(out, 'study', 'results.json'), 'utf8'));
  for (const section of ['cohorts', 'table1', 'imaging', 'pmn', 'detection', 'nomogram', 'treatment_effect', 'provenance']) {
    assert.ok(saved[section] !== undefined && saved[section] !== null, `results.json lacks ${section}`);
  }
  assert.equal(r.pmnSkipped, null);
  assert.deepEqual(r.detection.models.map((m) => m.model), ['pmn', 'radiomics', 'clinical']);
  for (const m of r.detection.models) assert.ok(m.test.auc >= 0 && m.test.auc <= 1 && m.test.ci[0] <= m.test.auc);
  assert.ok(r.detection.oracle !== null);
  // The IAT cohort has images, so the PMN risk score is a nomogram candidate and is screened like the others.
  assert.ok(r.nomogram.candidates.includes('pmn_score'));
  assert.ok(r.nomogram.selection.screen.some((s) => s.name === 'pmn_score'));
  assert.ok(r.imaging.resection!.measurement.countAgreement > 0.5);
  assert.ok(existsSync(join(out, 'study', 'models', 'pmn', 'model.json')));
  const html = renderStudyReport(r);
  for (const id of ['detection', 'segmentation', 'nomogram', 'staging-comparison', 'treatment-effect', 'truth-comparison']) assert.match(html, new RegExp(`id="${id}"`));
  assert.match(html, /data:image\/png;base64,/);
});
