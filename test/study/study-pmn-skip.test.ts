import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { casePaths } from '../../src/imaging/case.js';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { writeNiftiSync } from '../../src/imaging/nifti/write.js';
import { generateCohort } from '../../src/phantom/generate.js';
import { renderStudyReport } from '../../src/report/study-report.js';
import { parseStudyConfig } from '../../src/study/config.js';
import { CohortFrame } from '../../src/study/frame.js';
import { runStudy } from '../../src/study/run.js';
import { stratifiedSplit } from '../../src/study/splits.js';
import { Rng } from '../../src/util/rng.js';

test('a resection training split whose cases with a tumour crop are all of one class: the PMN and radiomics are skipped with the reason, the clinical analyses finish', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hcc-pmn-skip-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // A real-format resection cohort made from tiny phantoms, in which the proliferative cases of the study's
  // training split (stage 2's stratified split from the config's seed, recomputed here and checked below) have
  // no tumour in their label map, as when segmentation misses them: they get no crop, while the test split's
  // proliferative cases keep theirs.
  const generated = join(root, 'generated');
  await generateCohort({ cohort: 'resection', n: 16, seed: 1, out: generated, images: true, grid: 'tiny', site: null, workers: 1, progress: false });
  const frame = CohortFrame.read(join(generated, 'cohort.csv'));
  const seed = 5;
  const split = stratifiedSplit(frame.ids, frame.str('proliferative').map((v) => v ?? 'NA'), 0.3, 5, Rng.stream(seed, 'split', 'resection'));
  const label = frame.num('proliferative');
  const stripped = split.train.filter((id) => label[frame.rowOf(id)!] === 1);
  assert.ok(stripped.length > 0 && split.test.some((id) => label[frame.rowOf(id)!] === 1), 'both splits hold proliferative cases');
  const images = join(root, 'images');
  mkdirSync(images);
  for (const id of frame.ids) {
    const from = casePaths(join(generated, 'images', id));
    const to = casePaths(join(images, id));
    symlinkSync(from.art, to.art);
    symlinkSync(from.pv, to.pv);
    if (!stripped.includes(id)) symlinkSync(from.label, to.label);
    else {
      const labels = readNiftiSync(from.label);
      writeNiftiSync(to.label, { ...labels, data: Uint8Array.from(labels.data as ArrayLike<number>, (v) => (v === 2 ? 1 : v)) });
    }
  }
  const config = parseStudyConfig(
    {
      name: 'pmn-one-class',
      seed,
      cohorts: {
        resection: { csv: join(generated, 'cohort.csv'), images },
        iat: { synthetic: { n: 240, seed: 4, grid: 'tiny', images: false } },
      },
      pmn: { epochs: 1 },
      analyses: { bootstrap: 3 },
    },
    join(root, 'config.json'),
  );
  const logged: string[] = [];
  const outDir = join(root, 'study');
  const r = await runStudy(config, { outDir, resume: false, log: (line) => logged.push(line) });
  assert.deepEqual(r.cohorts.resection.n, 16);
  const splits = JSON.parse(readFileSync(join(outDir, 'splits.json'), 'utf8'));
  assert.deepEqual(splits.cohorts.resection.train, split.train, 'the split recomputed above is the study\'s');

  // Enough crops for the PMN, both classes among them, but one class only among the training cases with a crop.
  const cropped = CohortFrame.read(r.imaging.resection!.croppedCsv);
  assert.ok(cropped.length >= 10);
  const trainCropped = cropped.subset(split.train);
  assert.ok(trainCropped.num('proliferative').every((v) => v === 0) && cropped.num('proliferative').some((v) => v === 1));
  assert.equal(r.pmn, null);
  assert.equal(
    r.pmnSkipped,
    `the ${stripped.length} training cases with proliferative = 1 have no tumour in their mask, so none of the ${trainCropped.length} training cases with a tumour crop has that class; the image models (PMN, radiomics) need both classes to train`,
  );
  assert.ok(logged.includes(`stage 4-pmn: skipped: ${r.pmnSkipped}`));
  assert.ok(!existsSync(join(outDir, 'models', 'pmn')));

  // Detection keeps the clinical baseline (trained on every training case, both classes); the analyses finish.
  assert.deepEqual(r.detection.models.map((m) => m.model), ['clinical']);
  assert.ok(r.detection.models[0]!.test.auc >= 0 && r.detection.models[0]!.test.auc <= 1);
  const saved = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
  for (const section of ['detection', 'nomogram', 'staging_comparison', 'risk_groups', 'treatment_effect']) assert.ok(saved[section], `results.json lacks ${section}`);
  assert.equal(saved.pmnSkipped, r.pmnSkipped);
  assert.ok(!r.nomogram.candidates.includes('pmn_score'));
  assert.ok(r.treatment_effect.predictions.length > 0);
  assert.ok(renderStudyReport(r).includes(`No PMN in this study: ${r.pmnSkipped}.`));
});
