// Segmentation on a GPU against the same run on the CPU. Runs only where @hcc/torch links a CUDA libtorch and a
// device is visible (docs/torch.md); elsewhere skipped with the reason.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as torch from '@hcc/torch';
import { generateCohort } from '../../src/phantom/generate.js';
import { readCase } from '../../src/segmentation/cases.js';
import { segmentCase } from '../../src/segmentation/infer.js';
import { disposeModel, loadSegmentationModel } from '../../src/segmentation/model.js';
import { trainSegmentation } from '../../src/segmentation/pipeline.js';

const skip = torch.cuda.isAvailable() ? false : `no CUDA device (cudaBuild: ${torch.buildInfo().cudaBuild})`;

let dir = '';
const prefix = (i: number) => join(dir, 'images', `I0000${i}`);

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'hcc-seg-cuda-'));
  await generateCohort({ cohort: 'iat', n: 4, seed: 21, out: dir, images: true, grid: 'tiny', site: null, workers: 1, progress: false });
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

test('cuda: training on the GPU follows the CPU run, and its checkpoint segments on either device alike', { skip }, async () => {
  const train = (device: string) => trainSegmentation({
    cases: [1, 2, 3].map(prefix), out: join(dir, device), preset: 'test', phases: ['portal_venous'], cascade: false,
    progress: false, splits: [{ train: ['I00001', 'I00002'], val: ['I00003'] }], config: { epochs: 4, itersPerEpoch: 8, valIters: 1, baseFeatures: 8 },
    device,
  });
  const cpu = await train('cpu');
  const gpu = await train('cuda');
  const losses = (r: typeof cpu) => r.stages[0]!.folds[0]!.log.map((e) => e.trainLoss);
  // cuDNN computes float32 convolutions in TF32 by default (libtorch's allowTF32CuDNN), so the runs drift apart
  // in the low digits; the same batches and initial weights keep the losses within a few percent.
  losses(gpu).forEach((l, i) => {
    const ref = losses(cpu)[i]!;
    assert.ok(Math.abs(l - ref) < 0.03 * Math.abs(ref) + 1e-3, `epoch ${i}: loss ${l} on cuda, ${ref} on cpu`);
  });

  const c = await readCase(prefix(4));
  const onCpu = loadSegmentationModel(join(dir, 'cuda'));
  const onGpu = loadSegmentationModel(join(dir, 'cuda'), { device: 'cuda' });
  try {
    assert.equal(onGpu.device, 'cuda');
    const a = segmentCase(onCpu, c).labels.data;
    const b = segmentCase(onGpu, c).labels.data;
    let differ = 0;
    for (let i = 0; i < a.length; i++) differ += a[i] !== b[i] ? 1 : 0;
    assert.ok(differ <= a.length * 1e-4, `${differ} of ${a.length} voxels differ`);
    assert.ok(a.some((v) => v > 0), 'the model finds some liver');
  } finally {
    disposeModel(onCpu);
    disposeModel(onGpu);
  }
});
