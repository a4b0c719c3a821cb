import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as torch from '@hcc/torch';
import { labelMetrics } from '../../src/imaging/metrics.js';
import { withData } from '../../src/imaging/volume.js';
import { generateCohort } from '../../src/phantom/generate.js';
import { readCase } from '../../src/segmentation/cases.js';
import { segmentCase } from '../../src/segmentation/infer.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';
import { trainSegmentation } from '../../src/segmentation/pipeline.js';

torch.setNumThreads(1);

let dir = '';
const prefix = (i: number) => join(dir, 'images', `I0000${i}`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hcc-seg-train-'));
  await generateCohort({ cohort: 'iat', n: 5, seed: 21, out: dir, images: true, grid: 'tiny', site: null, workers: 1, progress: false });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a tiny portal-venous liver model trained for 40 steps lowers the loss and segments an unseen phantom with Dice > 0.5', async () => {
  const out = join(dir, 'model-pv');
  const r = await trainSegmentation({
    cases: [1, 2, 3, 4].map(prefix), out, preset: 'test', phases: ['portal_venous'], cascade: false, progress: false,
    splits: [{ train: ['I00001', 'I00002', 'I00003'], val: ['I00004'] }],
    config: { epochs: 5, itersPerEpoch: 8, baseFeatures: 8 },
  });
  const log = r.stages[0]!.folds[0]!.log;
  assert.equal(log.length, 5);
  assert.ok(log[4]!.trainLoss < log[0]!.trainLoss - 0.3, `loss ${log.map((l) => l.trainLoss.toFixed(3)).join(' -> ')}`);
  const model = loadSegmentationModel(out);
  assert.deepEqual(model.channels, ['portal_venous']);
  const c = await readCase(prefix(5), { labels: true });
  const res = segmentCase(model, c);
  const liverRef = withData(c.labels!, Uint8Array.from(c.labels!.data, (v) => (v > 0 ? 1 : 0)));
  const d = labelMetrics(res.labels, liverRef, 1).dice;
  assert.ok(d > 0.5, `liver Dice ${d}`);
  assert.ok(res.measurements.liverVolumeMl > 0);
  assert.equal(res.labels.shape.join(), c.pv!.shape.join());
  assert.deepEqual(res.labels.affine, c.pv!.affine);
  // the model's input channels are checked
  assert.throws(() => segmentCase(model, { art: c.pv }), /needs the portal-venous \(--pv\) phase/);
});

test('training killed after an epoch resumes to bit-identical weights', async () => {
  const common = {
    cases: [1, 2, 3].map(prefix), preset: 'test' as const, phases: ['portal_venous' as const], cascade: false, progress: false,
    splits: [{ train: ['I00001', 'I00002'], val: ['I00003'] }], config: { epochs: 2, itersPerEpoch: 2, valIters: 1, augment: true },
  };
  await trainSegmentation({ ...common, out: join(dir, 'straight') });
  const first = await trainSegmentation({ ...common, out: join(dir, 'resumed'), stopAfterEpochs: 1 });
  assert.equal(first.finished, false);
  const second = await trainSegmentation({ ...common, out: join(dir, 'resumed'), resume: true });
  assert.equal(second.finished, true);
  const a = torch.loadRaw(join(dir, 'straight', 'stage1_liver', 'fold_0', 'checkpoint_final.pth')) as Record<string, any>;
  const b = torch.loadRaw(join(dir, 'resumed', 'stage1_liver', 'fold_0', 'checkpoint_final.pth')) as Record<string, any>;
  const keys = Object.keys(a.network_weights);
  assert.ok(keys.length > 20);
  for (const k of keys) assert.deepEqual(b.network_weights[k].data, a.network_weights[k].data, k);
  assert.equal(b.current_epoch, 2);
  assert.deepEqual(b.logging.epochs.map((e: any) => e.trainLoss), a.logging.epochs.map((e: any) => e.trainLoss));
});

test('fingerprinting, preprocessing and end-to-end validation in 1 or 2 worker threads give the same plans, bit-identical weights and the same validation; a bad case names its file', async () => {
  const common = {
    cases: [1, 2, 3].map(prefix), preset: 'test' as const, progress: false,
    splits: [{ train: ['I00001', 'I00002'], val: ['I00003'] }], config: { epochs: 1, itersPerEpoch: 2, valIters: 1 },
  };
  const runs = await Promise.all([1, 2].map((workers) => trainSegmentation({ ...common, out: join(dir, `workers-${workers}`), workers })));
  for (const stage of ['stage1_liver', 'stage2_liver_tumour']) {
    const [a, b] = [1, 2].map((w) => JSON.parse(readFileSync(join(dir, `workers-${w}`, stage, 'model.json'), 'utf8')));
    assert.deepEqual(b.plans, a.plans, `${stage} plans`);
    const [wa, wb] = [1, 2].map((w) => (torch.loadRaw(join(dir, `workers-${w}`, stage, 'fold_0', 'checkpoint_final.pth')) as Record<string, any>).network_weights);
    for (const k of Object.keys(wa)) assert.deepEqual(wb[k].data, wa[k].data, `${stage} ${k}`);
  }
  // Validation segments in the workers, whose torch thread counts differ (2 and 1 here), so a voxel may flip.
  runs[0]!.stages.forEach((s, k) => {
    const [a, b] = [s, runs[1]!.stages[k]!].map((r) => r.folds[0]!.validation!);
    assert.equal(b!.pipeline, a!.pipeline);
    assert.ok(Math.abs(b!.liverDice - a!.liverDice) < 1e-3 && Math.abs((b!.tumourDice ?? 0) - (a!.tumourDice ?? 0)) < 1e-3, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
  });
  const bad = join(dir, 'bad');
  mkdirSync(bad, { recursive: true });
  for (const k of ['art', 'pv', 'label']) copyFileSync(`${prefix(1)}_${k}.nii.gz`, join(bad, `I00009_${k}.nii.gz`));
  writeFileSync(join(bad, 'I00009_pv.nii.gz'), 'not a NIfTI');
  await assert.rejects(trainSegmentation({ ...common, cases: [prefix(2), join(bad, 'I00009')], splits: undefined, out: join(dir, 'bad-out'), workers: 2 }), (e: Error) => {
    assert.match(e.message, /fingerprint .*I00009: .*I00009_pv\.nii\.gz/);
    assert.equal(e.name, 'HccError');
    return true;
  });
});

test("checkpoint_best.pth holds the epoch with the best EMA pseudo-Dice (nnU-Net's 0.9/0.1 EMA), and resume keeps the EMA", async () => {
  const common = {
    cases: [1, 2, 3].map(prefix), preset: 'test' as const, phases: ['portal_venous' as const], cascade: false, progress: false,
    splits: [{ train: ['I00001', 'I00002'], val: ['I00003'] }], config: { epochs: 5, itersPerEpoch: 2, valIters: 1, initialLr: 0.05 },
  };
  const fold = (out: string) => join(dir, out, 'stage1_liver', 'fold_0');
  const straight = await trainSegmentation({ ...common, out: join(dir, 'best-a') });
  const log = straight.stages[0]!.folds[0]!.log;
  // The EMA from the logged per-epoch pseudo-Dice: the first epoch's mean foreground Dice, then 0.9·EMA + 0.1·Dice.
  let ema = NaN;
  let bestEpoch = -1;
  let best = -Infinity;
  for (const [e, l] of log.entries()) {
    const dice = l.pseudoDice.filter((d) => !Number.isNaN(d));
    const mean = dice.reduce((a, b) => a + b, 0) / dice.length;
    ema = e === 0 ? mean : 0.9 * ema + 0.1 * mean;
    assert.ok(Math.abs(l.emaPseudoDice - ema) < 1e-12, `epoch ${e}: EMA ${l.emaPseudoDice}, expected ${ema}`);
    if (ema > best) [best, bestEpoch] = [ema, e];
    assert.equal(l.newBest, e === bestEpoch);
  }
  const a = torch.loadRaw(join(fold('best-a'), 'checkpoint_best.pth')) as Record<string, any>;
  assert.equal(a.current_epoch, bestEpoch + 1);
  assert.equal(a._best_ema, best);
  assert.equal((torch.loadRaw(join(fold('best-a'), 'checkpoint_final.pth')) as Record<string, any>)._best_ema, best);
  // The best checkpoint's weights are those after epoch bestEpoch: a run stopped there has the same ones.
  const stopped = await trainSegmentation({ ...common, out: join(dir, 'best-b'), stopAfterEpochs: bestEpoch + 1 });
  const at = torch.loadRaw(join(fold('best-b'), stopped.finished ? 'checkpoint_final.pth' : 'checkpoint_latest.pth')) as Record<string, any>;
  for (const k of Object.keys(a.network_weights)) assert.deepEqual(at.network_weights[k].data, a.network_weights[k].data, k);
  // Resumed to the end: the same EMA sequence and the same best checkpoint.
  const resumed = await trainSegmentation({ ...common, out: join(dir, 'best-b'), resume: true });
  assert.deepEqual(resumed.stages[0]!.folds[0]!.log.map((l) => l.emaPseudoDice), log.map((l) => l.emaPseudoDice));
  const b = torch.loadRaw(join(fold('best-b'), 'checkpoint_best.pth')) as Record<string, any>;
  assert.equal(b.current_epoch, a.current_epoch);
  assert.equal(b._best_ema, a._best_ema);
  for (const k of Object.keys(a.network_weights)) assert.deepEqual(b.network_weights[k].data, a.network_weights[k].data, k);
  // Inference picks the final checkpoint unless asked for the best one (nnU-Net's -chk).
  assert.equal(loadSegmentationModel(join(dir, 'best-a')).checkpoint, 'checkpoint_final.pth');
  const bestModel = loadSegmentationModel(join(dir, 'best-a'), { checkpoint: 'best' });
  assert.equal(bestModel.checkpoint, 'checkpoint_best.pth');
  assert.throws(() => loadSegmentationModel(join(dir, 'best-a'), { checkpoint: '../x' }), /expected final, best, or a file name/);
});

test('cascade stages train separately into one model folder, and a model trained without mirroring never gets mirroring TTA', async () => {
  const out = join(dir, 'stagewise');
  const common = {
    cases: [1, 2, 3].map(prefix), out, preset: 'test' as const, progress: false,
    splits: [{ train: ['I00001', 'I00002'], val: ['I00003'] }],
  };
  const fold = (stage: string) => join(out, stage, 'fold_0', 'checkpoint_final.pth');
  const second = await trainSegmentation({ ...common, stages: [2], config: { epochs: 1, itersPerEpoch: 1, valIters: 1, mirrorAxes: [] } });
  assert.deepEqual(second.stages.map((s) => s.role), ['liver_tumour']);
  assert.equal(existsSync(fold('stage1_liver')), false);
  assert.equal((torch.loadRaw(fold('stage2_liver_tumour')) as Record<string, any>).inference_allowed_mirroring_axes, null);
  await trainSegmentation({ ...common, stages: [1], config: { epochs: 1, itersPerEpoch: 1, valIters: 1 } });
  assert.deepEqual((torch.loadRaw(fold('stage1_liver')) as Record<string, any>).inference_allowed_mirroring_axes, [0, 1, 2]);
  const model = loadSegmentationModel(out);
  assert.deepEqual(model.stages.map((s) => [s.role, s.mirrorAxes]), [['liver', [0, 1, 2]], ['liver_tumour', null]]);
  await assert.rejects(trainSegmentation({ ...common, stages: [3] }), /--stage 3: this model has 2 stage\(s\)/);
});
