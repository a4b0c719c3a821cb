import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseStudyConfig } from '../../src/study/config.js';
import { runStudy, type StudyResults } from '../../src/study/run.js';
import { validateStudy } from '../../src/study/validate.js';
import { renderStudyReport } from '../../src/report/study-report.js';
import { renderPatientReport } from '../../src/report/patient-report.js';
import { predictPatient } from '../../src/study/predict.js';
import { CohortFrame } from '../../src/study/frame.js';
import type { NomogramModelFile } from '../../src/study/outputs.js';
import { casePaths, type CasePaths } from '../../src/imaging/case.js';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { writeNiftiSync } from '../../src/imaging/nifti/write.js';
import { withData } from '../../src/imaging/volume.js';
import { scorePmn } from '../../src/pmn/api.js';
import { formatCsv } from '../../src/util/csv.js';
import { HccError } from '../../src/util/errors.js';
import { miniImageStudy } from './mini-image-study.js';

// One miniature study with images serves every test here: building it is most of this file's time. pmn_score is
// forced into the nomogram, so external validation runs the imaging path (a one-epoch PMN's score would rarely
// survive selection on its own).
const root = mkdtempSync(join(tmpdir(), 'hcc-study-img-'));
const studyDir = join(root, 'study');
let study: StudyResults;
before(async () => {
  const config = parseStudyConfig(miniImageStudy('mini-images', { forcePmnScore: true }), join(root, 'config.json'));
  study = await runStudy(config, { outDir: studyDir, resume: false, log: () => {} });
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Mann-Whitney AUC by brute force over all case-control pairs (ties count one half). */
function pairAuc(score: number[], label: number[]): number {
  let s = 0;
  let pairs = 0;
  score.forEach((a, i) => {
    if (label[i] !== 1) return;
    score.forEach((b, j) => {
      if (label[j] !== 0) return;
      s += a > b ? 1 : a === b ? 0.5 : 0;
      pairs++;
    });
  });
  return s / pairs;
}

/**
 * A CONTRACTS real cohort (csv + images folder) holding the given rows of a generated cohort.csv; cases outside
 * `withOutcome` have their survival withheld (NA).
 */
function realCohort(dir: string, name: string, frame: CohortFrame, ids: string[], images: string, withOutcome: Set<string> = new Set(ids)): { csv: string; images: string } {
  const rows = frame.subset(ids);
  const csv = join(dir, `${name}.csv`);
  const cell = (c: string, i: number) => (['os_months', 'os_event'].includes(c) && !withOutcome.has(rows.ids[i]!) ? null : rows.str(c)[i]);
  writeFileSync(csv, formatCsv(rows.columns, rows.ids.map((_, i) => Object.fromEntries(rows.columns.map((c) => [c, cell(c, i)])))));
  return { csv, images };
}

/** The NIfTI-1 file with a second frame appended: a 4-D image, as when a site stacks channels in one file. */
function fourD(path: string, out: string): void {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getInt32(0, true), 348, 'a NIfTI-1 file');
  const voxOffset = view.getFloat32(108, true);
  view.setInt16(40, 4, true);
  view.setInt16(48, 2, true);
  writeFileSync(out, gzipSync(Buffer.concat([bytes, bytes.subarray(voxOffset)])));
}

const readModelJsonFile = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as { prototypes: unknown[] };

test('a miniature study with tiny CT phantoms and a one-epoch PMN runs end to end, every section filled', async () => {
  const r = study;
  const saved = JSON.parse(readFileSync(join(studyDir, 'results.json'), 'utf8'));
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
  assert.ok(existsSync(join(studyDir, 'models', 'pmn', 'model.json')));
  const html = renderStudyReport(r);
  for (const id of ['detection', 'segmentation', 'nomogram', 'staging-comparison', 'treatment-effect', 'truth-comparison']) assert.match(html, new RegExp(`id="${id}"`));
  assert.match(html, /data:image\/png;base64,/);
  // The prototype gallery: every prototype of the study's PMN, with its training patch in the report.
  const k = readModelJsonFile(join(studyDir, 'models', 'pmn', 'model.json')).prototypes.length;
  assert.ok(k > 0);
  assert.equal(saved.pmnPrototypes.length, k);
  assert.equal(html.match(/alt="prototype \d+ training patch"/g)?.length, k);
  assert.match(html, /PMN prototype gallery/);
  // The model card warns about the in-sample PMN score exactly when the nomogram kept it.
  const card = readFileSync(join(studyDir, 'model-card.md'), 'utf8');
  assert.equal(/PMN score term is fitted on the IAT training patients the PMN was trained on/.test(card), r.nomogram.selection.selected.includes('pmn_score'));

  // One IAT patient through hcc predict: the PMN reads its tumour, and its explanation adds up to the logit.
  const iat = CohortFrame.read(r.cohorts.iat.csv);
  const id = iat.ids[0]!;
  const fields = ['age_years', 'sex', 'hbv', 'afp_ng_ml', 'bilirubin_umol_l', 'albumin_g_l', 'inr', 'ascites', 'encephalopathy', 'ecog', 'pvtt', 'vp_grade', 'ehs', 'nodes'];
  const clinical = Object.fromEntries(fields.map((f) => [f, iat.str(f)[0]]));
  const files = casePaths(join(r.cohorts.iat.images!, id));
  const p = await predictPatient({ studyDir, clinical, art: files.art, pv: files.pv, mask: files.label, researchUseOnly: false, outDir: join(root, 'predict') });
  assert.ok(p.imaging !== null);
  const sum = p.imaging!.explanation.prototypes.reduce((s, e) => s + e.contribution, 0);
  assert.ok(Math.abs(sum - p.imaging!.explanation.logit) < 1e-4, `${sum} vs ${p.imaging!.explanation.logit}`);
  assert.ok(p.imaging!.probability > 0 && p.imaging!.probability < 1);
  assert.match(renderPatientReport(p), /id="pmn"/);
});

test('a frozen study with a PMN is validated on another site: imaging, pmn_score, nomogram, detection, invariants, errors', async () => {
  const out = join(root, 'validate');
  mkdirSync(out);
  const model = JSON.parse(readFileSync(join(studyDir, 'models', 'nomogram', 'model.json'), 'utf8')) as NomogramModelFile;
  assert.ok(model.terms.some((term) => term.name === 'pmn_score'));

  // Another site: new seeds, site B's scanner, both cohorts with images.
  const external = parseStudyConfig(
    {
      name: 'site-b',
      seed: 5,
      cohorts: {
        resection: { synthetic: { n: 16, seed: 31, grid: 'tiny', site: 'siteB' } },
        iat: { synthetic: { n: 24, seed: 32, grid: 'tiny', site: 'siteB' } },
      },
    },
    join(out, 'site-b.json'),
  );
  const vDir = join(out, 'validation');
  const v = await validateStudy(studyDir, external, vDir);
  const saved = JSON.parse(readFileSync(join(vDir, 'validation.json'), 'utf8'));
  assert.deepEqual(saved.cohort, v.cohort);
  assert.ok(saved.imaging && saved.detection, 'validation.json has the imaging and detection sections');
  const imaging = v.imaging!;
  assert.equal(imaging.masks, 'labels');
  assert.equal(imaging.n, 24);
  assert.equal(imaging.scored + imaging.noTumour.length, 24);
  // Complete cases are those with an imaging score (the synthetic clinical table has no gaps).
  assert.equal(v.cohort.complete, imaging.scored);
  for (const m of [v.frozen.metrics, v.recalibrated.metrics]) {
    assert.equal(m.n, imaging.scored);
    assert.ok(m.unoC.c > 0 && m.unoC.c < 1 && m.ibs > 0 && m.ibs < 1);
  }

  // The frozen linear predictor, recomputed here from the written PMN scores and the cohort table.
  const cohort = CohortFrame.read(join(vDir, 'cohort', 'iat', 'cohort.csv'));
  const scores = CohortFrame.read(imaging.scoresCsv);
  const risk = new Map(scores.ids.map((id, i) => [id, scores.num('risk_score')[i]!]));
  const value = (name: string, id: string): number => {
    if (name === 'pmn_score') return risk.get(id)!;
    const i = cohort.rowOf(id)!;
    if (name === 'afp_log10') return Math.log10(Math.max(cohort.num('afp_ng_ml')[i]!, 1));
    return cohort.num(name)[i]!;
  };
  const cases = CohortFrame.read(v.casesCsv);
  assert.deepEqual([...cases.ids].sort(), [...scores.ids].sort());
  cases.ids.forEach((id, i) => {
    const lp = model.terms.reduce((s, term, j) => s + term.coef * (value(term.name, id) - model.means[j]!), 0);
    assert.ok(Math.abs(cases.num('nomogram_lp')[i]! - lp) < 1e-12, `${id}: ${cases.num('nomogram_lp')[i]} vs ${lp}`);
    assert.equal(cases.str('risk_group')[i], lp > model.riskCut.cutoff ? 'high' : 'low');
  });

  // The scores are the frozen PMN's: cases scored straight from their NIfTIs agree up to float32 noise from the
  // batch composition (about 1e-4 here; the scores have SD 1 on the training cases).
  const direct = await scorePmn({ model: join(studyDir, 'models', 'pmn'), cohort: { csv: join(vDir, 'cohort', 'iat', 'cohort.csv') }, ids: scores.ids.slice(0, 3), cacheDir: join(out, 'cache') });
  direct.forEach((p) => assert.ok(Math.abs(p.riskScore - risk.get(p.id)!) < 1e-3, `${p.id}: ${p.riskScore} vs ${risk.get(p.id)}`));

  // Detection on site B's resection cohort: the AUC is the pairwise one of the written probabilities.
  const d = v.detection!;
  const resection = CohortFrame.read(join(vDir, 'cohort', 'resection', 'cohort.csv'));
  const resScores = CohortFrame.read(d.scoresCsv);
  const labels = resScores.ids.map((id) => resection.num('proliferative')[resection.rowOf(id)!]!);
  assert.equal(d.pmn.n, d.scored);
  assert.ok(Math.abs(d.pmn.auc - pairAuc(Array.from(resScores.num('probability')), labels)) < 1e-12);
  assert.ok(d.pmn.ci[0] <= d.pmn.auc && d.pmn.auc <= d.pmn.ci[1]);
  assert.ok(d.oracle !== null && d.oracle.n === d.scored && Math.abs(d.oracle.gap - (d.oracle.auc - d.pmn.auc)) < 1e-15);

  // Invariant: the study's own IAT cohort validated against itself, as a real cohort from another site with the
  // outcomes of all but the nomogram's training cases withheld. Its images go through the same imaging and
  // PMN batches, so the scores are the study's bit for bit; the linear predictors are the study's; and the
  // calibration slope on the training cases is 1 (the Cox MLE is the optimum along the slope).
  const studyCases = CohortFrame.read(join(studyDir, 'stages', '5-prognosis', 'cases.csv'));
  const trainIds = studyCases.ids.filter((_, i) => studyCases.str('split')[i] === 'train');
  const iatFrame = CohortFrame.read(study.cohorts.iat.csv);
  // Another site whose IAT cohort is made of the study's cases `ids`, as a real cohort: image files linked, except
  // those `rewrite` writes itself (it returns true); outcomes only for `withOutcome`; a resection cohort without images.
  const site = (name: string, ids: string[], rewrite: (id: string, file: keyof CasePaths, from: string, to: string) => boolean, withOutcome?: Set<string>) => {
    const images = join(out, name);
    mkdirSync(images);
    for (const id of ids) {
      const from = casePaths(join(study.cohorts.iat.images!, id));
      const to = casePaths(join(images, id));
      for (const file of ['art', 'pv', 'label'] as const) if (!rewrite(id, file, from[file], to[file])) symlinkSync(from[file], to[file]);
    }
    const iat = realCohort(out, name, iatFrame, ids, images, withOutcome);
    return parseStudyConfig({ name, cohorts: { resection: { synthetic: { n: 10, seed: 1, grid: 'tiny', images: false } }, iat } }, join(out, `${name}.json`));
  };
  const sv = await validateStudy(studyDir, site('own', iatFrame.ids, () => false, new Set(trainIds)), join(out, 'v-own'));
  assert.equal(sv.cohort.complete, trainIds.length);
  assert.ok(Math.abs(sv.recalibrated.slope - 1) < 1e-6, `slope ${sv.recalibrated.slope}`);
  assert.equal(sv.detection, null);
  assert.equal(readFileSync(sv.imaging!.scoresCsv, 'utf8'), readFileSync(join(studyDir, 'stages', '4-pmn', 'scores_iat.csv'), 'utf8'));
  const ownCases = CohortFrame.read(sv.casesCsv);
  assert.deepEqual([...ownCases.ids].sort(), [...trainIds].sort());
  for (const [i, id] of ownCases.ids.entries()) assert.ok(Math.abs(ownCases.num('nomogram_lp')[i]! - studyCases.num('nomogram_lp')[studyCases.rowOf(id)!]!) < 1e-12);

  // Site D: two masks without a tumour. Those cases get no imaging score, are counted, and drop out as incomplete.
  const dIds = trainIds.slice(0, 22);
  const empty = dIds.slice(3, 5);
  const noTumour = (id: string, file: keyof CasePaths, from: string, to: string) => {
    if (file !== 'label' || !empty.includes(id)) return false;
    const label = readNiftiSync(from);
    writeNiftiSync(to, withData(label, Uint8Array.from(label.data as ArrayLike<number>, (v) => (v === 2 ? 1 : v))));
    return true;
  };
  const dv = await validateStudy(studyDir, site('site-d', dIds, noTumour), join(out, 'v-site-d'));
  assert.deepEqual(dv.imaging!.noTumour, empty);
  assert.equal(dv.imaging!.scored, 20);
  assert.equal(dv.cohort.n, 22);
  assert.equal(dv.cohort.complete, 20);
  assert.deepEqual(CohortFrame.read(dv.casesCsv).ids, dIds.filter((id) => !empty.includes(id)));

  // Errors, each before any cohort is imaged.
  const isHcc = (pattern: RegExp) => (err: Error) => {
    assert.ok(err instanceof HccError, `${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };
  const noPmn = join(out, 'no-pmn');
  cpSync(join(studyDir, 'models', 'nomogram'), join(noPmn, 'models', 'nomogram'), { recursive: true });
  cpSync(join(studyDir, 'results.json'), join(noPmn, 'results.json'));
  await assert.rejects(validateStudy(noPmn, external, join(out, 'v-no-pmn')), isHcc(/models\/pmn\/model\.json: missing; the nomogram .* has the term pmn_score/));
  // A PMN whose model.json lists channels other than those its network and the study's crops have.
  const badChannels = join(out, 'bad-channels');
  cpSync(join(studyDir, 'models'), join(badChannels, 'models'), { recursive: true });
  cpSync(join(studyDir, 'results.json'), join(badChannels, 'results.json'));
  const pmnJson = join(badChannels, 'models', 'pmn', 'model.json');
  writeFileSync(pmnJson, JSON.stringify({ ...JSON.parse(readFileSync(pmnJson, 'utf8')), channels: ['arterial', 'delayed', 'tumour_mask'] }));
  await assert.rejects(validateStudy(badChannels, external, join(out, 'v-bad-channels')), isHcc(/bad-channels\/models\/pmn\/model\.json: channels \[arterial, delayed, tumour_mask\] do not match/));
  const noImages = parseStudyConfig(
    { name: 'no-images', cohorts: { resection: { synthetic: { n: 10, seed: 1, grid: 'tiny', images: false } }, iat: { synthetic: { n: 30, seed: 32, grid: 'tiny', images: false } } } },
    join(out, 'no-images.json'),
  );
  await assert.rejects(validateStudy(studyDir, noImages, join(out, 'v-no-images')), isHcc(/no-images\.json: cohorts\.iat has no images.*pmn_score/));
  // Site C stores one case's arterial phase as a 4-D file.
  const two = trainIds.slice(0, 2);
  const channels = site('site-c', two, (id, file, from, to) => {
    if (id !== two[0] || file !== 'art') return false;
    fourD(from, to);
    return true;
  });
  await assert.rejects(validateStudy(studyDir, channels, join(out, 'v-site-c')), isHcc(new RegExp(`${two[0]}_art\\.nii\\.gz: 4-D image \\(dim \\d+x\\d+x\\d+x2\\) with 2 channels/frames; the study's PMN reads the channels \\[arterial, portal_venous, tumour_mask`)));
});
