import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { DEFAULT_CONFIG } from '../../src/pmn/config.js';
import { fromScanOrder, PrototypeMambaNet, scanOrder, toScanOrder } from '../../src/pmn/model.js';
import { computeFeatures } from '../../src/pmn/push.js';
import { loadModel, saveModel } from '../../src/pmn/model-store.js';
import { predictCases } from '../../src/pmn/predict.js';
import { trainPmn } from '../../src/pmn/train.js';
import { TINY_CONFIG, TINY_TRAINING, tinyCohort, tmp } from './tiny.js';

torch.setNumThreads(1);

test('PMN-S default configuration has the design table\'s 179,582 parameters and PyTorch-style names', () => {
  torch.manualSeed(0);
  const net = new PrototypeMambaNet(DEFAULT_CONFIG);
  assert.equal(net.numParameters(), 179582);
  const names = net.namedParameters().map(([n]) => n);
  for (const n of ['stem.0.weight', 'stem.1.weight', 'patch_embed.weight', 'layers.3.mixer.A_b_log', 'layers.0.mixer.dt_proj.bias', 'layers.0.mixer.conv1d_b.weight', 'norm_f.weight', 'add_on.2.weight', 'prototype_vectors', 'last_layer.weight', 'cox_head.weight']) {
    assert.ok(names.includes(n), n);
  }
  net.dispose();
});

test('scan orders are permutations whose inverse undoes them; x-, y-, z-fastest', () => {
  const grid: [number, number, number] = [3, 2, 4];
  for (let o = 0; o < 3; o++) {
    const { perm, inv } = scanOrder(grid, o);
    assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i));
    assert.deepEqual(inv.map((i) => perm[i]), Array.from({ length: 24 }, (_, i) => i));
  }
  assert.deepEqual(scanOrder(grid, 1).perm.slice(0, 3), [0, 3, 1]);
  assert.deepEqual(scanOrder(grid, 2).perm.slice(0, 4), [0, 6, 12, 18]);
});

test('the model applies a scan order as an axis permutation equal to the index gather by perm, undone by inv', () => {
  const grid: [number, number, number] = [3, 2, 4];
  const values = (t: torch.Tensor) => Array.from(t.toArray() as Float32Array);
  torch.tidy(() => {
    const x = torch.randn([2, 24, 5]);
    for (let o = 0; o < 3; o++) {
      const order = scanOrder(grid, o);
      const ordered = toScanOrder(x, order);
      assert.deepEqual(values(ordered), values(x.indexSelect(1, torch.tensor(order.perm))), `order ${o}`);
      assert.deepEqual(values(fromScanOrder(ordered, order)), values(x), `order ${o} inverse`);
      const y = torch.randn([2, 24, 5]);
      assert.deepEqual(values(fromScanOrder(y, order)), values(y.indexSelect(1, torch.tensor(order.inv))));
    }
  });
});

test('training overfits a tiny batch to accuracy 1 (after the push and last-layer fit), pushes onto training tokens, and save/load predicts identically', async () => {
  const dir = tmp('train');
  const { resection, iat } = tinyCohort(join(dir, 'crops'), 8);
  const out = join(dir, 'model');
  const result = await trainPmn(resection, iat, out, { config: TINY_CONFIG, training: { ...TINY_TRAINING, epochs: 40 }, progress: false });
  const first = result.epochs[0]!;
  const last = result.epochs.at(-1)!;
  assert.ok(last.ce! < first.ce!, `CE fell: ${first.ce} -> ${last.ce}`);
  assert.ok(last.cluster! < first.cluster!, `cluster cost fell: ${first.cluster} -> ${last.cluster}`);

  const model = loadModel(out);
  const preds = await predictCases(model, resection);
  const accuracy = preds.filter((p, i) => (p.probability > 0.5 ? 1 : 0) === resection[i]!.label).length / preds.length;
  assert.equal(accuracy, 1, `probabilities ${preds.map((p) => p.probability.toFixed(3)).join(' ')}`);

  // After the push each prototype is exactly one own-class training token's feature vector, all distinct.
  const cache = await computeFeatures(model.net, resection, model.meta.normalisation, 8);
  const protos = model.net.prototypeVectors.detach().toArray() as Float32Array;
  const P = TINY_CONFIG.dModel;
  const seen = new Set<string>();
  assert.equal(model.meta.prototypes.length, 2 * TINY_CONFIG.prototypesPerClass);
  for (const pp of model.meta.prototypes) {
    const i = resection.findIndex((c) => c.id === pp.caseId);
    assert.equal(resection[i]!.label, pp.class, 'pushed onto its own class');
    assert.equal(cache.masks[i]![pp.token], 1, 'pushed onto a token in the tumour mask');
    assert.deepEqual(Array.from(cache.features[i]!.subarray(pp.token * P, (pp.token + 1) * P)), Array.from(protos.subarray(pp.prototype * P, (pp.prototype + 1) * P)));
    assert.ok(!seen.has(`${pp.caseId}:${pp.token}`), 'unique (case, token)');
    seen.add(`${pp.caseId}:${pp.token}`);
  }
  // The case a prototype came from matches it at distance 0: similarity log(1e4).
  const pushedCase = preds.find((p) => p.id === model.meta.prototypes[0]!.caseId)!;
  const s0 = pushedCase.similarity[model.meta.prototypes[0]!.prototype]!;
  assert.ok(s0 > 9 && s0 <= Math.log(1e4) + 1e-4, `similarity to its own patch ${s0} is log(1e4) up to float32 rounding`);

  // Save and load give bit-identical predictions.
  const again = join(dir, 'model2');
  saveModel(again, model.net, model.meta);
  const reloaded = loadModel(again);
  const preds2 = await predictCases(reloaded, [...resection, ...iat]);
  const preds1 = await predictCases(model, [...resection, ...iat]);
  assert.deepEqual(preds2, preds1);
});

test('a model and an input with different channel counts give a clear error', () => {
  torch.manualSeed(0);
  const net = new PrototypeMambaNet({ ...TINY_CONFIG, inChannels: 4 });
  const x = torch.zeros([1, 3, 8, 16, 16]);
  assert.throws(() => net.forward(x), /PMN: input shape \[1, 3, 8, 16, 16\] does not match the model's \[B, 4, 8, 16, 16\]/);
  net.dispose();
  x.dispose();
});


for (const radiomicsAux of [0, 0.5]) test(`an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one (radiomicsAux ${radiomicsAux})`, async () => {
  const dir = tmp('resume');
  const { resection, iat } = tinyCohort(join(dir, 'crops'), 8, 3);
  const training = { ...TINY_TRAINING, epochs: 4, pushEpochs: [2], lastLayerSteps: 10, augment: true, batchSize: 4, radiomicsAux };
  await trainPmn(resection, iat, join(dir, 'a'), { config: TINY_CONFIG, training, progress: false });
  await assert.rejects(trainPmn(resection, iat, join(dir, 'b'), {
    config: TINY_CONFIG, training, progress: false,
    onEpoch: (e) => {
      if (e === 3) throw new Error('interrupted');
    },
  }), /interrupted/);
  await trainPmn(resection, iat, join(dir, 'b'), { config: TINY_CONFIG, training, progress: false, resume: true });
  const a = torch.load(join(dir, 'a', 'model.pth')) as Record<string, torch.Tensor>;
  const b = torch.load(join(dir, 'b', 'model.pth')) as Record<string, torch.Tensor>;
  for (const k of Object.keys(a)) assert.ok(torch.equal(a[k]!, b[k]!), `${k} differs after resuming`);
  torch.dispose([a, b]);
});

test('augmentation geometry: identity affine reproduces the centre crop; a quarter turn and flips move voxels exactly', async () => {
  const { fillInput, centreOffset, liverStatistics } = await import('../../src/pmn/input.js');
  const { tinyCrop } = await import('./tiny.js');
  const { Rng } = await import('../../src/util/rng.js');
  const crop = tinyCrop(1, Rng.stream(9, 'aug'));
  const norm = liverStatistics([crop], [-160, 240]);
  const [nx, ny, nz] = TINY_CONFIG.inputSize;
  const n = 3 * nx * ny * nz;
  const plain = new Float32Array(n);
  fillInput(plain, crop, norm, TINY_CONFIG, null, null);
  const offset = centreOffset(TINY_CONFIG, crop.size);
  const base = { offset, flipX: false, flipY: false, rot90: 0, affine: { angle: 0, zoom: 1 }, scale: [1, 1] as [number, number], shift: [0, 0] as [number, number], noise: 0 };
  const same = new Float32Array(n);
  fillInput(same, crop, norm, TINY_CONFIG, base, null);
  assert.deepEqual(same, plain);
  const turned = new Float32Array(n);
  fillInput(turned, crop, norm, TINY_CONFIG, { ...base, affine: null, rot90: 1, flipX: true }, null);
  // One quarter turn ((x, y) -> (y, n-1-x)) then the x flip: output (x, y) reads (n-1-y, n-1-x).
  for (let c = 0; c < 3; c++) for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const o = c * nx * ny * nz + x + nx * (y + ny * z);
    const i = c * nx * ny * nz + (nx - 1 - y) + nx * (nx - 1 - x + ny * z);
    assert.equal(turned[o], plain[i]);
  }
});
