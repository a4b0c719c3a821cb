import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../../src/study/config.js';
import { runStudy, type StudyResults } from '../../src/study/run.js';
import { predictPatient } from '../../src/study/predict.js';
import { CohortFrame } from '../../src/study/frame.js';

let dir: string;
let results: StudyResults;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hcc-predict-'));
  const config = parseStudyConfig(
    {
      name: 'predict-test',
      seed: 5,
      cohorts: {
        resection: { synthetic: { n: 30, seed: 1, grid: 'tiny', images: false } },
        iat: { synthetic: { n: 240, seed: 4, grid: 'tiny', images: false } },
      },
      analyses: { bootstrap: 8 },
    },
    join(dir, 'config.json'),
  );
  results = await runStudy(config, { outDir: join(dir, 'study'), resume: false, log: () => {} });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const CLINICAL_FIELDS = ['age_years', 'sex', 'hbv', 'afp_ng_ml', 'bilirubin_umol_l', 'albumin_g_l', 'inr', 'ascites', 'encephalopathy', 'ecog', 'tumour_count', 'tumour_diameter_cm', 'liver_occupancy_fraction', 'pvtt', 'vp_grade', 'ehs', 'nodes'];

test('predict reproduces the study: same linear predictor, risk group and RMST gain as for the test patient in the study', async () => {
  const cohort = CohortFrame.read(results.cohorts.iat.csv);
  const studied = results.treatment_effect.predictions[0]!;
  const i = cohort.rowOf(studied.id)!;
  const clinical = Object.fromEntries(CLINICAL_FIELDS.map((f) => [f, cohort.str(f)[i]]));
  const out = await predictPatient({ studyDir: join(dir, 'study'), clinical, researchUseOnly: false, outDir: join(dir, 'predict-out') });
  assert.ok(Math.abs(out.nomogram.lp - studied.lp) < 1e-9, `${out.nomogram.lp} vs ${studied.lp}`);
  assert.equal(out.nomogram.riskGroup, studied.riskGroup);
  assert.ok(Math.abs(out.survival.deltaRmst - studied.deltaRmst) < 1e-9);
  assert.deepEqual(out.survival.deltaRmstCi, studied.deltaRmstCi);
  assert.equal(out.recommendation.choice, studied.recommendation);
  assert.ok(out.banner && /synthetic/.test(out.banner));
  // Survival under either arm is a probability that does not increase with time.
  for (const arm of [out.survival.tace, out.survival.haic]) {
    for (let k = 1; k < arm.length; k++) assert.ok(arm[k]! <= arm[k - 1]! && arm[k]! >= 0);
  }
});

test('missing and out-of-range inputs get clear messages; DICOM is refused for a synthetic study', async () => {
  const studyDir = join(dir, 'study');
  await assert.rejects(predictPatient({ studyDir, clinical: { age_years: 60 }, researchUseOnly: false, outDir: join(dir, 'predict-out') }), /the nomogram needs \w+/);
  await assert.rejects(predictPatient({ studyDir, clinical: { albumin_g_l: 900 }, researchUseOnly: false, outDir: join(dir, 'predict-out') }), /albumin_g_l = 900 is outside the valid range/);
  const fakeDicomDir = join(dir, 'dicom');
  writeFileSync(join(dir, 'x.txt'), '');
  await assert.rejects(predictPatient({ studyDir, clinical: {}, art: fakeDicomDir, researchUseOnly: false, outDir: join(dir, 'predict-out') }), /trained on synthetic data only.*--research-use-only/s);
  await assert.rejects(predictPatient({ studyDir: join(dir, 'nope'), clinical: {}, researchUseOnly: false, outDir: join(dir, 'predict-out') }), /missing; is this a finished study folder/);
});

import { generateCohort } from '../../src/phantom/generate.js';
import { imagePaths } from '../../src/phantom/images.js';

test('a mask gives the tumour burden, and inputs unlike the training data are flagged', async () => {
  const patientDir = join(dir, 'patient');
  await generateCohort({ cohort: 'iat', n: 1, seed: 4242, out: patientDir, images: true, grid: 'tiny', site: null, workers: 1, progress: false });
  const row = CohortFrame.read(join(patientDir, 'cohort.csv'));
  const clinical = Object.fromEntries(CLINICAL_FIELDS.filter((f) => !f.startsWith('tumour_') && f !== 'liver_occupancy_fraction').map((f) => [f, row.str(f)[0]]));
  const files = imagePaths(patientDir, row.ids[0]!);
  const out = await predictPatient({ studyDir: join(dir, 'study'), clinical, art: files.art, pv: files.pv, mask: files.label, researchUseOnly: false, outDir: join(dir, 'predict-out') });
  assert.ok(out.measurements && out.measurements.count >= 1);
  assert.equal(out.clinical.tumour_count, Math.max(1, out.measurements.count));
  assert.ok(Math.abs(out.clinical.tumour_diameter_cm! - out.measurements.largestDiameterMm / 10) < 1e-9);
  // The tiny test grid is much coarser than any clinical CT, so the spacing is flagged.
  assert.ok(out.warnings.some((w) => /spacing .* outside/.test(w)), out.warnings.join('; '));
  const overridden = await predictPatient({ studyDir: join(dir, 'study'), clinical, mask: files.label, tumourCount: 4, researchUseOnly: false, outDir: join(dir, 'predict-out') });
  assert.equal(overridden.clinical.tumour_count, 4);
});
