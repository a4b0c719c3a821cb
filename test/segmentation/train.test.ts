import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
