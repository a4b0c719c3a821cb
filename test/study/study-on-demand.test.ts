import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStudyConfig, parseStudyConfig } from '../../src/study/config.js';
import { runStudy, type StudyResults } from '../../src/study/run.js';
import { caseVolumes, prepareCohort, type CohortEntry } from '../../src/study/stages/cohorts.js';
import { processImagingCase, studyCropSpec, type ImagingJob } from '../../src/study/stages/imaging.js';
import { segmentCohort } from '../../src/study/stages/segmentation.js';
import { cropPath } from '../../src/pmn/crop-store.js';
import { patientId, patientIndex } from '../../src/phantom/cohort.js';
import { imagePaths, writeCases } from '../../src/phantom/images.js';
import { trainSegmentation } from '../../src/segmentation/pipeline.js';
import { readCase } from '../../src/segmentation/cases.js';
import { disposeModel, loadSegmentationModel } from '../../src/segmentation/model.js';
import { casePaths } from '../../src/imaging/case.js';
import { repoRoot } from '../helpers.js';
import { MINI_IMAGE_SEEDS, miniImageStudy } from './mini-image-study.js';

// A miniature study whose cohorts keep no images (`images: on-demand`), compared case by case with the same
// seeds' stored images. The cohorts are those of study-images.test.ts, which are known to train a PMN.
const root = mkdtempSync(join(tmpdir(), 'hcc-study-on-demand-'));
const studyDir = join(root, 'study');
const seeds = MINI_IMAGE_SEEDS;
let study: StudyResults;
let config: ReturnType<typeof parseStudyConfig>;
before(async () => {
  config = parseStudyConfig(miniImageStudy('mini-on-demand', { images: 'on-demand' }), join(root, 'config.json'));
  study = await runStudy(config, { outDir: studyDir, resume: false, log: () => {} });
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Every path under `dir`, folders included. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? [p, ...walk(p)] : [p];
  });
}

test("images: 'on-demand' parses; a bad value and pmn.tumours all with it fail naming the field; paper-scale uses it", () => {
  const cohorts = (images: unknown) => ({ resection: { synthetic: { n: 20, seed: 1, grid: 'tiny', images } }, iat: { synthetic: { n: 20, seed: 2, grid: 'tiny' } } });
  assert.equal((parseStudyConfig({ name: 'x', cohorts: cohorts('on-demand') }, 'c.json').cohorts.resection as { synthetic: { images: unknown } }).synthetic.images, 'on-demand');
  for (const bad of ['yes', 'on_demand', 1]) {
    assert.throws(() => parseStudyConfig({ name: 'x', cohorts: cohorts(bad) }, 'c.json'), new RegExp(`c\\.json\\.cohorts\\.resection\\.synthetic\\.images: expected true .*, false .* or 'on-demand' .*got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)}`));
  }
  assert.throws(
    () => parseStudyConfig({ name: 'x', cohorts: cohorts('on-demand'), pmn: { tumours: 'all' } }, 'c.json'),
    /c\.json\.pmn\.tumours: 'all' crops every tumour from the stored images, but cohorts\.resection\.synthetic\.images is 'on-demand'/,
  );
  const paper = loadStudyConfig(join(repoRoot, 'configs', 'paper-scale.yaml'));
  for (const c of [paper.cohorts.resection, paper.cohorts.iat]) assert.equal((c as { synthetic: { images: unknown } }).synthetic.images, 'on-demand');
});

test('generated ids map back to their index; other ids are refused', () => {
  for (const [kind, i] of [['resection', 0], ['iat', 1748], ['iat', 99998], ['resection', 123456]] as const) assert.equal(patientIndex(kind, patientId(kind, i)), i);
  for (const [kind, id] of [['iat', 'R00001'], ['iat', 'I0001'], ['iat', 'I00000'], ['resection', 'R000001'], ['resection', 'x']] as const) {
    assert.throws(() => patientIndex(kind, id), new RegExp(`'${id}' is not a generated ${kind} patient id`));
  }
});

test('an on-demand study runs end to end without writing images, and its crops, features and overlays equal the stored images\' bit for bit', async () => {
  const saved = JSON.parse(readFileSync(join(studyDir, 'results.json'), 'utf8'));
  for (const section of ['cohorts', 'table1', 'imaging', 'pmn', 'detection', 'nomogram', 'staging_comparison', 'risk_groups', 'treatment_effect', 'truth_comparison', 'provenance']) {
    assert.ok(saved[section] !== undefined && saved[section] !== null, `results.json lacks ${section}`);
  }
  assert.equal(study.pmnSkipped, null);
  // Stage 1 keeps the tables and how to render each case, never an image.
  for (const kind of ['resection', 'iat'] as const) {
    const e = study.cohorts[kind];
    assert.equal(e.images, null);
    assert.deepEqual(e.onDemand, { cohort: kind, seed: seeds[kind], grid: 'tiny', site: null });
    assert.equal(JSON.parse(readFileSync(join(studyDir, 'stages', '1-cohorts', kind, 'cohort.json'), 'utf8')).images, 'on-demand');
  }
  const written = walk(studyDir);
  assert.deepEqual(written.filter((p) => /(^|\/)images$/.test(p) || /\.nii(\.gz)?$/.test(p)), []);
  assert.equal(study.imaging.resection!.overlays.length, 2);

  // The same seeds with stored images (a prefix of each cohort: generation is random access), through the same
  // per-case function from the files, and again rendered on demand.
  for (const kind of ['resection', 'iat'] as const) {
    const n = 4;
    const stored: CohortEntry = await prepareCohort(kind, { synthetic: { n, seed: seeds[kind], grid: 'tiny', images: true } }, join(root, 'stored'), 2);
    assert.ok(!('onDemand' in stored), 'a stored cohort\'s stage-1 result is as before on-demand images existed');
    const features = readFileSync(study.imaging[kind]!.featuresCsv, 'utf8').split('\n');
    for (const id of Array.from({ length: n }, (_, i) => patientId(kind, i))) {
      const job = (source: ImagingJob['source'], where: string): ImagingJob => ({
        kind, id, source, masksDir: null, cropsDir: join(root, where, kind), overlay: join(root, where, kind, `${id}.png`), radiomics: true,
        cropSpec: studyCropSpec(config.pmn),
      });
      const a = job({ images: stored.images }, 'from-files');
      const b = job({ images: null, onDemand: study.cohorts[kind].onDemand! }, 'rendered');
      for (const j of [a, b]) mkdirSync(j.cropsDir, { recursive: true });
      const ra = processImagingCase(a);
      const rb = processImagingCase(b);
      assert.deepEqual(rb, ra, `${id}: measurements and radiomics`);
      assert.ok(readFileSync(b.overlay!).equals(readFileSync(a.overlay!)), `${id}: overlay`);
      const studyCrop = cropPath(study.imaging[kind]!.cropsDir, id);
      assert.equal(existsSync(studyCrop), ra.features !== null, `${id}: a crop exactly when the mask has a tumour`);
      if (ra.features === null) continue;
      const bytes = readFileSync(cropPath(a.cropsDir, id));
      assert.ok(readFileSync(cropPath(b.cropsDir, id)).equals(bytes), `${id}: crop rendered on demand`);
      assert.ok(readFileSync(studyCrop).equals(bytes), `${id}: the study's crop`);
      // The study's features.csv row holds the same numbers (written with full precision).
      const header = features[0]!.split(',');
      const row = features.find((l) => l.startsWith(`${id},`))!.split(',');
      for (const [name, value] of Object.entries(ra.features)) assert.equal(Number(row[header.indexOf(name)]), value, `${id}: ${name}`);
    }
  }
});

test('segmentation of an on-demand cohort: training cases rendered as the stored files, masks equal to those from the files', async () => {
  const dir = join(root, 'seg');
  const source = { cohort: 'iat' as const, seed: 21, grid: 'tiny' as const, site: null };
  const stored = await prepareCohort('iat', { synthetic: { n: 4, seed: 21, grid: 'tiny', images: true } }, dir, 2);
  const onDemand = await prepareCohort('iat', { synthetic: { n: 2, seed: 21, grid: 'tiny', images: 'on-demand' } }, join(dir, 'od'), 2);
  assert.equal(existsSync(join(dir, 'od', 'iat', 'images')), false);
  assert.deepEqual(onDemand.onDemand, source);
  // What the stage writes for training is byte for byte the stored cohort's files.
  const ids = ['I00002', 'I00003', 'I00004'];
  await writeCases(source, ids, join(dir, 'rendered'), 2);
  for (const id of ids) {
    const [a, b] = [imagePaths(join(dir, 'rendered'), id), casePaths(join(stored.images!, id))];
    for (const f of ['art', 'pv', 'label'] as const) assert.ok(readFileSync(a[f]).equals(readFileSync(b[f])), `${id} ${f}`);
  }
  // What the model reads: the rendered volumes are the files' voxel for voxel, with the same (float32) affine.
  const files = await readCase(join(stored.images!, 'I00001'), { labels: true });
  const rendered = caseVolumes(onDemand, 'I00001', true);
  for (const [r, f] of [[rendered.art, files.art!], [rendered.pv, files.pv!], [rendered.label!, files.labels!]] as const) {
    assert.deepEqual(r.affine, f.affine);
    assert.deepEqual(r.shape, f.shape);
    assert.ok(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).equals(Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength)));
  }
  const model = join(dir, 'model');
  await trainSegmentation({
    cases: ids.map((id) => join(dir, 'rendered', 'images', id)), out: model, preset: 'test', phases: ['portal_venous'], cascade: false, progress: false,
    splits: [{ train: ids.slice(0, 2), val: ids.slice(2) }], config: { epochs: 1, itersPerEpoch: 2, valIters: 1, baseFeatures: 4 },
  });
  const loaded = loadSegmentationModel(model);
  try {
    // The same two cases read from the stored files.
    const { onDemand: _, ...twoStored } = { ...onDemand, images: stored.images };
    const fromFiles = await segmentCohort(loaded, twoStored, join(dir, 'masks-files'));
    const fromSeeds = await segmentCohort(loaded, onDemand, join(dir, 'masks-rendered'));
    // Not an empty mask everywhere, where equality would say little.
    assert.ok(fromSeeds.dice!.liver > 0, `liver Dice ${fromSeeds.dice!.liver}`);
    assert.deepEqual(fromSeeds.dice, fromFiles.dice);
    assert.equal(fromSeeds.dice!.n, 2);
    assert.deepEqual(fromSeeds.emptyCases, fromFiles.emptyCases);
    for (const id of readdirSync(fromFiles.masks)) assert.ok(readFileSync(join(fromSeeds.masks, id)).equals(readFileSync(join(fromFiles.masks, id))), id);
    assert.deepEqual(readdirSync(fromSeeds.masks).sort(), readdirSync(fromFiles.masks).sort());
  } finally {
    disposeModel(loaded);
  }
});
