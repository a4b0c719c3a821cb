import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../../src/study/config.js';
import { runStudy, type StudyResults } from '../../src/study/run.js';
import { predictPatient } from '../../src/study/predict.js';
import { CohortFrame } from '../../src/study/frame.js';
import { generateCohort } from '../../src/phantom/generate.js';
import { imagePaths } from '../../src/phantom/images.js';
import { casePaths } from '../../src/imaging/case.js';
import { scorePmn } from '../../src/pmn/api.js';
import { ensureTumourCrops } from '../../src/pmn/input.js';
import { renderPatientReport } from '../../src/report/patient-report.js';
import { imagingLines } from '../../src/cli/commands/predict.js';
import { miniImageStudy } from './mini-image-study.js';

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

test("a study scored with pmn.tumours 'all': predict reads every tumour as the PMN stage did, so pmn_score and the linear predictor are the study's", async (ctx) => {
  // A second miniature study, with tiny CT phantoms in both cohorts, a one-epoch PMN-XS and pmn_score forced into
  // the nomogram (a one-epoch PMN's score would rarely survive selection).
  const allDir = join(dir, 'study-all');
  const config = parseStudyConfig(miniImageStudy('predict-tumours-all', { resectionN: 16, tumours: 'all', forcePmnScore: true }), join(dir, 'config-all.json'));
  const study = await runStudy(config, { outDir: allDir, resume: false, log: () => {} });
  assert.equal(study.pmnSkipped, null);
  const pmnModel = join(allDir, 'models', 'pmn');
  assert.deepEqual(JSON.parse(readFileSync(join(pmnModel, 'scoring.json'), 'utf8')), { kind: 'hcc-iat/pmn-scoring', version: 1, tumours: 'all' });

  // An IAT training case with two or more tumours of at least 1 cm (each gets its own crop).
  const iat = CohortFrame.read(study.cohorts.iat.csv);
  const cases = CohortFrame.read(join(allDir, 'stages', '5-prognosis', 'cases.csv'));
  const cacheDir = join(dir, 'predict-all', 'cache');
  let id: string | undefined;
  for (const candidate of cases.ids) {
    if (iat.num('tumour_count')[iat.rowOf(candidate)!]! < 2) continue;
    const files = casePaths(join(study.cohorts.iat.images!, candidate));
    if ((await ensureTumourCrops({ id: candidate, art: files.art, pv: files.pv, mask: files.label }, cacheDir)).length >= 2) {
      id = candidate;
      break;
    }
  }
  assert.ok(id, 'the miniature IAT cohort has a case with two or more tumours of at least 1 cm');
  const files = casePaths(join(study.cohorts.iat.images!, id));
  const clinical = Object.fromEntries(CLINICAL_FIELDS.map((f) => [f, iat.str(f)[iat.rowOf(id!)!]]));
  const run = (outDir: string) => predictPatient({ studyDir: allDir, clinical, art: files.art, pv: files.pv, mask: files.label, researchUseOnly: false, outDir });
  const out = await run(join(dir, 'predict-all'));
  const im = out.imaging!;
  assert.equal(im.aggregation, 'all');
  assert.ok(im.tumours !== null && im.tumours.length >= 2);
  const pmnScore = out.nomogram.terms.find((t) => t.name === 'pmn_score')!.value;
  assert.equal(pmnScore, im.riskScore);

  // The reference: scorePmn with tumours 'all', as stage 4-pmn wrote it into its scores CSV and straight from
  // the case's NIfTI files; and the stage 5 linear predictor of the same case.
  const staged = CohortFrame.read(join(allDir, 'stages', '4-pmn', 'scores_iat.csv'));
  const stagedRisk = staged.num('risk_score')[staged.rowOf(id)!]!;
  assert.ok(Math.abs(pmnScore - stagedRisk) < 1e-9, `predict ${pmnScore} vs stage 4-pmn ${stagedRisk}`);
  const cohort = { csv: study.cohorts.iat.csv, images: study.cohorts.iat.images! };
  const [all] = await scorePmn({ model: pmnModel, cohort, ids: [id], cacheDir: join(dir, 'score-cache'), tumours: 'all' });
  assert.ok(Math.abs(pmnScore - all!.riskScore) < 1e-9 && Math.abs(im.probability - all!.probability) < 1e-9, `predict ${pmnScore} vs scorePmn ${all!.riskScore}`);
  const studiedLp = cases.num('nomogram_lp')[cases.rowOf(id)!]!;
  assert.ok(Math.abs(out.nomogram.lp - studiedLp) < 1e-9, `lp ${out.nomogram.lp} vs ${studiedLp}`);
  // The aggregate is the mean over the tumours shown, each with its own explanation.
  const meanRisk = im.tumours!.reduce((s, t) => s + t.riskScore, 0) / im.tumours!.length;
  assert.ok(Math.abs(im.riskScore - meanRisk) < 1e-12);
  assert.equal(im.explanation, im.tumours![0]);

  // The largest tumour alone scores differently; a study that scored that way (scoring.json 'largest') has
  // predict read the largest tumour only, which is scorePmn's 'largest' value.
  const [largest] = await scorePmn({ model: pmnModel, cohort, ids: [id], cacheDir: join(dir, 'score-cache'), tumours: 'largest' });
  assert.ok(Math.abs(largest!.riskScore - pmnScore) > 1e-6, `largest ${largest!.riskScore} vs all ${pmnScore}`);
  ctx.diagnostic(`${id}: ${im.tumours!.length} tumours; pmn_score ${pmnScore} (stage 4-pmn ${stagedRisk}), largest tumour only ${largest!.riskScore}`);
  const scoring = readFileSync(join(pmnModel, 'scoring.json'), 'utf8');
  writeFileSync(join(pmnModel, 'scoring.json'), JSON.stringify({ kind: 'hcc-iat/pmn-scoring', version: 1, tumours: 'largest' }));
  try {
    const one = await run(join(dir, 'predict-largest'));
    assert.equal(one.imaging!.aggregation, 'largest');
    assert.equal(one.imaging!.tumours, null);
    assert.ok(Math.abs(one.imaging!.riskScore - largest!.riskScore) < 1e-9, `${one.imaging!.riskScore} vs ${largest!.riskScore}`);
  } finally {
    writeFileSync(join(pmnModel, 'scoring.json'), scoring);
  }

  // The patient page shows each tumour's probability and its strongest prototypes.
  const html = renderPatientReport(out);
  assert.match(html, /each of the \d+ tumours of at least 1 cm was read on its own/);
  for (const t of im.tumours!) assert.ok(html.includes(`Tumour ${t.tumour} (${(t.probability * 100).toFixed(0)}%): prototypes`), `tumour ${t.tumour}`);
  // So does the text output of `hcc predict`: the mean, then a line per tumour.
  const lines = imagingLines(im);
  assert.equal(lines.length, 1 + im.tumours!.length);
  assert.match(lines[0]!, new RegExp(`imaging risk score ${im.riskScore.toFixed(2)}: the mean over ${im.tumours!.length} tumours`));
  im.tumours!.forEach((t, r) => assert.match(lines[r + 1]!, new RegExp(`^  tumour ${t.tumour} \\(.* mL\\): probability ${(t.probability * 100).toFixed(0)}%, risk score ${t.riskScore.toFixed(2)}; top prototypes: #`)));
});
