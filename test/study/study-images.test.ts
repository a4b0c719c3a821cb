import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../../src/study/config.js';
import { runStudy } from '../../src/study/run.js';
import { renderStudyReport } from '../../src/report/study-report.js';
import { renderPatientReport } from '../../src/report/patient-report.js';
import { predictPatient } from '../../src/study/predict.js';
import { CohortFrame } from '../../src/study/frame.js';
import { casePaths } from '../../src/imaging/case.js';

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

  // One IAT patient through hcc predict: the PMN reads its tumour, and its explanation adds up to the logit.
  const iat = CohortFrame.read(r.cohorts.iat.csv);
  const id = iat.ids[0]!;
  const fields = ['age_years', 'sex', 'hbv', 'afp_ng_ml', 'bilirubin_umol_l', 'albumin_g_l', 'inr', 'ascites', 'encephalopathy', 'ecog', 'pvtt', 'vp_grade', 'ehs', 'nodes'];
  const clinical = Object.fromEntries(fields.map((f) => [f, iat.str(f)[0]]));
  const files = casePaths(join(r.cohorts.iat.images!, id));
  const p = await predictPatient({ studyDir: join(out, 'study'), clinical, art: files.art, pv: files.pv, mask: files.label, researchUseOnly: false, outDir: join(out, 'predict') });
  assert.ok(p.imaging !== null);
  const sum = p.imaging!.explanation.prototypes.reduce((s, e) => s + e.contribution, 0);
  assert.ok(Math.abs(sum - p.imaging!.explanation.logit) < 1e-4, `${sum} vs ${p.imaging!.explanation.logit}`);
  assert.ok(p.imaging!.probability > 0 && p.imaging!.probability < 1);
  assert.match(renderPatientReport(p), /id="pmn"/);
});
