import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as torch from '@hcc/torch';
import type { Vec3 } from '../../src/imaging/volume.js';
import { generateCohort } from '../../src/phantom/generate.js';
import { Rng } from '../../src/util/rng.js';
import { lowresReference, perturbCascadeInput, transferMask, type ZoomGrid } from '../../src/segmentation/cascade.js';
import { readCase } from '../../src/segmentation/cases.js';
import { liverWithNearbyPieces, predictStage, segmentCase } from '../../src/segmentation/infer.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';
import { trainSegmentation } from '../../src/segmentation/pipeline.js';
import type { ZYX } from '../../src/segmentation/plans.js';
import { fixture, repoRoot } from '../helpers.js';

torch.setNumThreads(1);

let dir = '';
const prefix = (id: string) => join(dir, 'images', id);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hcc-seg-cascade-'));
  // The phantoms the old-cascade fixture was made from (test/fixtures/segmentation/old-cascade/make.mjs).
  await generateCohort({ cohort: 'iat', n: 3, seed: 21, out: dir, images: true, grid: 'tiny', site: null, workers: 1, progress: false });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A ball of `radius` voxels at `centre` in a volume of `shape` (x, y, z), C order. */
function ball(shape: Vec3, centre: Vec3, radius: number): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1] * shape[2]);
  let p = 0;
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++, p++) {
    if ((i - centre[0]) ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2 <= radius ** 2) out[p] = 1;
  }
  return out;
}

function count(m: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) n += m[i]!;
  return n;
}

test('transferMask reads a mask across zoomed grids at the positions the resampling gives them (hand-computed)', () => {
  // Coarse voxel i of a 4-voxel crop zoomed to 2 sits at input 2i + 0.5; fine voxels 0, 1 are nearest to coarse 0.
  const coarse: ZoomGrid = { origin: [0, 0, 0], crop: [4, 1, 1], shape: [2, 1, 1] };
  assert.deepEqual([...transferMask([1, 0], coarse, { origin: [0, 0, 0], crop: [4, 1, 1], shape: [4, 1, 1] })], [1, 1, 0, 0]);
  // A grid starting at input voxel 1, and one reaching outside the coarse grid (background there).
  assert.deepEqual([...transferMask([1, 0], coarse, { origin: [1, 0, 0], crop: [2, 1, 1], shape: [2, 1, 1] })], [1, 0]);
  assert.deepEqual([...transferMask([0, 1], coarse, { origin: [-2, 0, 0], crop: [8, 1, 1], shape: [8, 1, 1] })], [0, 0, 0, 0, 1, 1, 0, 0]);
  // y and z strides: the voxel (1, 0, 1) of a 2x2x2 mask lands at fine x 2-3, y 0-1, z 2-3.
  const m = new Uint8Array(8);
  m[1 + 2 * 2 * 1] = 1;
  const fine = transferMask(m, { origin: [0, 0, 0], crop: [4, 4, 4], shape: [2, 2, 2] }, { origin: [0, 0, 0], crop: [4, 4, 4], shape: [4, 4, 4] });
  const on = [...fine.keys()].filter((i) => fine[i]).map((i) => [i % 4, Math.floor(i / 4) % 4, Math.floor(i / 16)].join());
  assert.deepEqual(on, ['2,0,2', '3,0,2', '2,1,2', '3,1,2', '2,0,3', '3,0,3', '2,1,3', '3,1,3']);
});

test("stage 1's liver keeps the pieces within reach of its largest component and drops the far ones (hand-computed)", () => {
  // A 30x1x1 line at 5 mm: the largest piece at x 0-9, pieces at x 15-16 (30 mm from voxel 9) and x 26-27 (85 mm).
  const shape: Vec3 = [30, 1, 1];
  const mask = new Uint8Array(30);
  for (const x of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 26, 27]) mask[x] = 1;
  const kept = liverWithNearbyPieces(mask, shape, [5, 5, 5]);
  assert.deepEqual([...kept.keys()].filter((i) => kept[i]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16]);
  // Reach is measured in mm on the grid's spacing: at 10 mm voxels the nearer piece is 60 mm away.
  assert.equal(count(liverWithNearbyPieces(mask, shape, [10, 5, 5])), 10);
  assert.equal(count(liverWithNearbyPieces(mask, shape, [5, 5, 5], 90)), 14);
  assert.equal(count(liverWithNearbyPieces(new Uint8Array(30), shape, [5, 5, 5])), 0);
});

test('the reference liver degraded through a 5 mm grid keeps its place but not its outline', () => {
  const shape: Vec3 = [40, 36, 30];
  const liver = ball(shape, [18.3, 17.6, 14.2], 11);
  const low = lowresReference(liver, shape, [1.5, 1.5, 2.5], [5, 5, 5]);
  assert.deepEqual(low.grid.shape, [12, 11, 15]);
  const back = transferMask(low.mask, low.grid, { origin: [0, 0, 0], crop: shape, shape });
  let inter = 0;
  for (let i = 0; i < liver.length; i++) inter += liver[i]! & back[i]!;
  const dice = (2 * inter) / (count(liver) + count(back));
  assert.ok(dice > 0.85 && dice < 0.99, `Dice ${dice}`);
});

test('the cascade input is perturbed as nnU-Net does: seeded, reproducible, by growing or shrinking it, in about half the patches', () => {
  const patch: ZYX = [12, 16, 16];
  const shape: Vec3 = [16, 16, 12];
  const mask = ball(shape, [7.5, 7.5, 5.5], 4);
  const n = count(mask);
  let grown = 0;
  let shrunk = 0;
  for (let seed = 0; seed < 40; seed++) {
    const a = perturbCascadeInput(mask, patch, Rng.stream(seed, 'cascade'));
    assert.deepEqual(a, perturbCascadeInput(mask, patch, Rng.stream(seed, 'cascade')), `seed ${seed}`);
    let added = 0;
    let removed = 0;
    for (let i = 0; i < mask.length; i++) {
      if (a[i]! > mask[i]!) added++;
      if (a[i]! < mask[i]!) removed++;
    }
    // dilation and closing only add, erosion, opening and component removal only remove
    assert.ok(added === 0 || removed === 0, `seed ${seed}: +${added} -${removed}`);
    if (added) grown++;
    if (removed) shrunk++;
  }
  // P(changed) = 1 - 0.6 * 0.8 = 0.52 (the ball is one component of 4 % of the patch, so removal applies).
  assert.ok(grown >= 3 && shrunk >= 3, `grown ${grown}, shrunk ${shrunk}`);
  assert.ok(grown + shrunk >= 10 && grown + shrunk <= 32, `changed in ${grown + shrunk} of 40`);
  assert.ok(n > 200);
});

test("a cascade stage 2 with cascade input plans one more input channel, trains, and segments with stage 1's liver", async () => {
  const out = join(dir, 'cascade-input');
  const common = { cases: ['I00001', 'I00002'].map(prefix), out, preset: 'test' as const, progress: false, splits: [{ train: ['I00001'], val: ['I00002'] }] };
  const config = { epochs: 1, itersPerEpoch: 2, valIters: 1, cascadeInput: true, augment: true };
  const stage = (name: string) => JSON.parse(readFileSync(join(out, name, 'model.json'), 'utf8'));
  const r = await trainSegmentation({ ...common, stages: [2], config });
  assert.equal(r.stages[0]!.plans.configuration.previous_stage, 'liver');
  assert.ok(r.stages[0]!.folds[0]!.validation!.liverDice >= 0);
  assert.equal(r.stages[0]!.folds[0]!.validation!.pipeline, 'stage', 'without stage 1, stage 2 is validated on the reference liver box');
  // Without stage 1 the pipeline cannot run end to end, so no postprocessing is chosen yet.
  assert.equal(stage('stage2_liver_tumour').postprocessing, undefined);
  // Stage 2 on stage 1's own predictions (as nnU-Net) needs stage 1 first.
  await assert.rejects(trainSegmentation({ ...common, stages: [2], config: { ...config, cascadeInputFrom: 'stage1' } }), /stage1_liver\/fold_0\/checkpoint_final\.pth: missing; .*train stage 1 first/);
  await trainSegmentation({ ...common, stages: [1], config });
  const fromStage1 = await trainSegmentation({ ...common, stages: [2], config: { ...config, cascadeInputFrom: 'stage1' } });
  assert.ok(fromStage1.finished && fromStage1.stages[0]!.folds[0]!.validation!.cases === 1);
  assert.equal(fromStage1.stages[0]!.folds[0]!.validation!.pipeline, 'end-to-end', 'with stage 1 there, stage 2 is validated end to end only');
  // With both stages, the validation case went through the whole pipeline to choose the liver-contact rule.
  const { postprocessing, postprocessingChoice } = stage('stage2_liver_tumour');
  assert.ok(postprocessing.tumourMinLiverContact >= 0 && postprocessing.tumourMinLiverContact <= 1, JSON.stringify(postprocessing));
  assert.deepEqual([postprocessingChoice.folds, postprocessingChoice.cases], [[0], 1]);
  assert.ok(postprocessingChoice.after.f1 >= postprocessingChoice.before.f1);
  assert.equal(stage('stage1_liver').plans.configuration.previous_stage, undefined);
  assert.equal(stage('stage2_liver_tumour').plans.configuration.previous_stage, 'liver');
  const model = loadSegmentationModel(out);
  assert.deepEqual(model.stages.map((s) => s.nets[0]!.inputChannels), [2, 3]);
  const ck = torch.loadRaw(join(out, 'stage2_liver_tumour', 'fold_0', 'checkpoint_final.pth')) as Record<string, any>;
  const firstConv = Object.entries(ck.network_weights as Record<string, { shape: number[] }>).find(([k]) => /^encoder\.stages\.0\..*conv\.weight$/.test(k))!;
  assert.equal(firstConv[1].shape[1], 3, firstConv[0]);

  const images = await readCase(prefix('I00003'));
  const res = segmentCase(model, images);
  assert.ok(res.steps['liver_tumour.cascade_input'], 'stage 2 read stage 1 liver');
  // A contact threshold above 1 removes every tumour component the rule-free result has, and says how much.
  const chosen = model.stages[1]!.postprocessing;
  model.stages[1]!.postprocessing = {};
  const tumourVoxels = segmentCase(model, images).labels.data.reduce((n, v) => n + (v === 2 ? 1 : 0), 0);
  model.stages[1]!.postprocessing = { tumourMinLiverContact: 1.01 };
  const strict = segmentCase(model, images);
  model.stages[1]!.postprocessing = chosen;
  assert.ok(!strict.labels.data.includes(2));
  assert.equal(strict.removedTumours.components >= 1, tumourVoxels > 0);
  assert.equal(strict.warnings.some((w) => /postprocessing removed \d+ tumour component\(s\), [\d.]+ mL, bordering the liver on less than 1\.01 .*tumourMinLiverContact to 0/.test(w)), tumourVoxels > 0, strict.warnings.join('; '));
  assert.ok(Math.abs(strict.removedTumours.volumeMl - (tumourVoxels * images.art!.spacing.reduce((a, b) => a * b, 1)) / 1000) < 1e-9, JSON.stringify(strict.removedTumours));
  assert.equal(res.labels.shape.join(), images.art!.shape.join());
  // Stage 2 reads the channel: an empty stage-1 liver gives other logits than a full one.
  const s2 = model.stages[1]!;
  const channels = [images.art!, images.pv!];
  const grid: ZoomGrid = { origin: [0, 0, 0], crop: images.art!.shape, shape: images.art!.shape };
  const none = predictStage(s2, channels, {}, { mask: new Uint8Array(images.art!.data.length), grid });
  const all = predictStage(s2, channels, {}, { mask: new Uint8Array(images.art!.data.length).fill(1), grid });
  assert.notDeepEqual(none.data, all.data);
  assert.throws(() => predictStage(s2, channels), /stage liver_tumour: it takes the liver stage's segmentation as input, which was not given/);

  // A stage that reads a liver stage's output needs one before it.
  const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  writeFileSync(join(out, 'model.json'), JSON.stringify({ ...manifest, stages: manifest.stages.slice(1) }));
  assert.throws(() => loadSegmentationModel(out), /stage liver_tumour takes the liver stage's output as input, but the stage before it is missing/);
});

test('the postprocessing choice pools the validation cases of every fold the model has, trained in this run or before', async () => {
  const out = join(dir, 'two-folds');
  const splits = [{ train: ['I00001', 'I00002'], val: ['I00003'] }, { train: ['I00001', 'I00003'], val: ['I00002'] }];
  const common = { cases: ['I00001', 'I00002', 'I00003'].map(prefix), out, preset: 'test' as const, progress: false, splits, config: { epochs: 1, itersPerEpoch: 2, valIters: 1 } };
  const stage2 = () => JSON.parse(readFileSync(join(out, 'stage2_liver_tumour', 'model.json'), 'utf8'));
  const r = await trainSegmentation({ ...common, folds: [0] });
  assert.deepEqual([stage2().postprocessingChoice.folds, stage2().postprocessingChoice.cases], [[0], 1]);
  // Trained whole, the cascade's stage 2 is validated end to end only, with nnU-Net's postprocessing and not yet
  // the chosen rule: the figures equal segmenting the validation case with the fold's model that way.
  const [s1, s2] = r.stages.map((s) => s.folds[0]!.validation!);
  assert.equal(s1!.pipeline, 'stage');
  assert.equal(s2!.pipeline, 'end-to-end');
  assert.deepEqual(stage2().metrics['0'], s2);
  const model = loadSegmentationModel(out, { folds: [0] });
  model.stages[1]!.postprocessing = {};
  const images = await readCase(prefix('I00003'), { labels: true });
  const labels = segmentCase(model, images).labels.data;
  const dice = (p: (v: number) => boolean) => {
    let both = 0, a = 0, b = 0;
    labels.forEach((v, i) => {
      const x = p(v), y = p(images.labels!.data[i]!);
      a += +x; b += +y; both += +(x && y);
    });
    return a + b === 0 ? 1 : (2 * both) / (a + b);
  };
  assert.ok(Math.abs(s2!.liverDice - dice((v) => v > 0)) < 1e-12, `liver Dice ${s2!.liverDice}`);
  assert.ok(Math.abs(s2!.tumourDice! - dice((v) => v === 2)) < 1e-12, `tumour Dice ${s2!.tumourDice}`);
  await trainSegmentation({ ...common, folds: [1] });
  assert.deepEqual([stage2().postprocessingChoice.folds, stage2().postprocessingChoice.cases], [[0, 1], 2]);
  assert.deepEqual(Object.keys(stage2().metrics).sort(), ['0', '1'], 'fold 0 keeps its figures');
  assert.equal(stage2().metrics['1'].pipeline, 'end-to-end');
});

test('a model folder from before the cascade input (no previous_stage) loads and segments exactly as that code did', async () => {
  const dirOld = fixture('segmentation', 'old-cascade');
  const expected = JSON.parse(readFileSync(join(dirOld, 'expected.json'), 'utf8'));
  const model = loadSegmentationModel(join(dirOld, 'model'));
  assert.deepEqual(model.stages.map((s) => [s.role, s.plans.configuration.previous_stage, s.nets[0]!.inputChannels]), [['liver', undefined, 2], ['liver_tumour', undefined, 2]]);
  // That code's stage 1 kept only its largest liver component.
  const images = await readCase(prefix('I00003'));
  const res = segmentCase(model, images, { liverPieceReachMm: 0 });
  assert.equal(res.steps['liver_tumour.cascade_input'], undefined);
  const counts = [0, 0, 0];
  for (const v of res.labels.data) counts[v]!++;
  assert.deepEqual(counts, expected.counts);
  assert.deepEqual(res.liverBox, expected.liverBox);
  assert.equal(createHash('sha256').update(res.labels.data).digest('hex'), expected.sha256);
  // Now the pieces near it widen stage 2's box, here by stage 1's stray components of this barely trained model.
  const now = segmentCase(model, images);
  for (let a = 0; a < 3; a++) {
    assert.ok(now.liverBox!.start[a]! <= expected.liverBox.start[a] && now.liverBox!.end[a]! >= expected.liverBox.end[a], JSON.stringify(now.liverBox));
  }
});

test('hcc train seg --cascade-input maps onto the training config, and a bad value is a usage error', () => {
  const hcc = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'hcc.js'), 'train', 'seg', '--data', dir, ...args], { encoding: 'utf8', env: { ...process.env, TORCH_NUM_THREADS: '1' } });
  const bad = hcc('--out', join(dir, 'cli-bad'), '--cascade-input', 'lowres');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--cascade-input: expected none, reference or stage1, got 'lowres'/);
  const out = join(dir, 'cli-reference');
  const ok = hcc('--out', out, '--preset', 'test', '--stage', '2', '--epochs', '1', '--iters', '1', '--cascade-input', 'reference');
  assert.equal(ok.status, 0, ok.stderr);
  const plans = JSON.parse(readFileSync(join(out, 'stage2_liver_tumour', 'model.json'), 'utf8')).plans;
  assert.equal(plans.configuration.previous_stage, 'liver');
});

test("a cascade's stage 1 trains --lowres-epochs, stage 2 and a single-stage liver model train --epochs", async () => {
  const hcc = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'hcc.js'), 'train', 'seg', '--data', dir, '--preset', 'test', '--iters', '1', ...args], { encoding: 'utf8', env: { ...process.env, TORCH_NUM_THREADS: '1' } });
  const bad = hcc('--out', join(dir, 'cli-lowres-bad'), '--lowres-epochs', '0');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--lowres-epochs: expected an integer >= 1, got '0'/);
  const ok = hcc('--out', join(dir, 'cli-lowres'), '--epochs', '2', '--lowres-epochs', '1', '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const summary = JSON.parse(ok.stdout) as { stages: Array<{ role: string; folds: Record<string, { epochs: number; finished: boolean }> }> };
  assert.deepEqual(summary.stages.map((s) => [s.role, s.folds['0']!.epochs, s.folds['0']!.finished]), [['liver', 1, true], ['liver_tumour', 2, true]]);
  // The portal-venous liver model's only stage is its fine stage.
  const pv = await trainSegmentation({
    cases: ['I00001', 'I00002'].map(prefix), out: join(dir, 'pv-lowres'), preset: 'test', phases: ['portal_venous'], cascade: false, progress: false,
    splits: [{ train: ['I00001'], val: ['I00002'] }], config: { epochs: 2, lowresEpochs: 1, itersPerEpoch: 1, valIters: 1 },
  });
  assert.deepEqual(pv.stages.map((s) => [s.role, s.folds[0]!.log.length]), [['liver', 2]]);
});
