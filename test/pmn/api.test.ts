import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { writeNiftiSync } from '../../src/imaging/nifti/write.js';
import type { Volume } from '../../src/imaging/volume.js';
import { explainPmn, pmnPrototypes, scorePmn, trainPmnModel } from '../../src/pmn/api.js';
import { ensureCrop } from '../../src/pmn/input.js';
import { loadModel, readModelJson } from '../../src/pmn/model-store.js';
import { predictCases } from '../../src/pmn/predict.js';
import { formatCsv } from '../../src/util/csv.js';
import { Rng } from '../../src/util/rng.js';
import { TINY_CONFIG, TINY_TRAINING, tinyCohort, tinyCrop, tmp } from './tiny.js';

torch.setNumThreads(1);

function writeCohortCsvs(dir: string, n: number) {
  const cohort = tinyCohort(join(dir, 'crops'), n, 7);
  writeFileSync(join(dir, 'resection.csv'), formatCsv(['id', 'proliferative'], cohort.resection.map((c) => ({ id: c.id, proliferative: c.label }))));
  writeFileSync(join(dir, 'iat.csv'), formatCsv(['id', 'os_months', 'os_event'], cohort.iat.map((c) => ({ id: c.id, os_months: c.time, os_event: c.event }))));
  return cohort;
}

test('study API: train with a stratified 7:3 split, score to the detection CSV, explain with contributions that sum to the logit', async () => {
  const dir = tmp('api');
  const cohort = writeCohortCsvs(dir, 20);
  const crops = join(dir, 'crops');
  const out = join(dir, 'model');
  const summary = await trainPmnModel({
    resection: { csv: join(dir, 'resection.csv'), crops },
    iat: { csv: join(dir, 'iat.csv'), crops },
    out,
    config: TINY_CONFIG,
    training: { ...TINY_TRAINING, epochs: 3, batchSize: 8, augment: true, lastLayerSteps: 20 },
    folds: 2,
    progress: false,
  });
  const { train, test: held } = summary.split.resection!;
  assert.equal(train.length + held.length, 20);
  assert.equal(held.length, 6, '30% held out');
  assert.ok(!held.some((id) => train.includes(id)));
  const heldLabels = held.map((id) => cohort.resection.find((c) => c.id === id)!.label);
  assert.equal(heldLabels.filter((y) => y === 1).length, 3, 'stratified by label');
  const meta = readModelJson(out);
  assert.ok(meta.metrics.resection_test_auc !== undefined && meta.metrics.iat_test_cindex !== undefined);
  assert.deepEqual(meta.channels, ['arterial', 'portal_venous', 'tumour_mask']);
  assert.ok(existsSync(join(out, 'prototypes', 'prototype_0.png')));
  // 2-fold CV inside the training split: one model per fold, out-of-fold AUC over all 14 training cases.
  const cv = meta.metrics.cv as { k: number; auc: { n: number } };
  assert.equal(cv.k, 2);
  assert.equal(cv.auc.n, 14);
  assert.ok(existsSync(join(out, 'fold_0', 'model.pth')) && existsSync(join(out, 'fold_1', 'model.pth')));

  const csv = join(dir, 'scores.csv');
  const scores = await scorePmn({ model: out, cohort: { csv: join(dir, 'resection.csv'), crops }, out: csv });
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'id,probability,risk_score');
  assert.equal(lines.length, 21);
  const loaded = loadModel(out);
  const direct = await predictCases(loaded, cohort.resection);
  loaded.net.dispose();
  assert.deepEqual(scores, direct);
  assert.equal(Number(lines[1]!.split(',')[1]), scores[0]!.probability);

  const ex = await explainPmn({ model: out, case: cohort.resection[1]!, out: join(dir, 'explain') });
  const sum = ex.prototypes.reduce((a, p) => a + p.contribution, 0);
  assert.ok(Math.abs(sum - ex.logit) < 1e-5, `contributions ${sum} vs logit ${ex.logit}`);
  const rsum = ex.prototypes.reduce((a, p) => a + p.riskContribution, 0);
  assert.ok(Math.abs(rsum - ex.risk) < 1e-5, `risk contributions ${rsum} vs risk ${ex.risk}`);
  // Batch of 1 against a batch of 8: float32 sums differ in the last bits.
  assert.ok(Math.abs(ex.probability - scores[1]!.probability) < 1e-4, `${ex.probability} vs ${scores[1]!.probability} ${ex.logit} ${scores[1]!.logit}`);
  for (let i = 1; i < ex.prototypes.length; i++) assert.ok(Math.abs(ex.prototypes[i - 1]!.contribution) >= Math.abs(ex.prototypes[i]!.contribution));
  const png = readFileSync(ex.prototypes[0]!.similarityMap);
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
  assert.ok(ex.prototypes.every((p) => p.pushedFrom && train.includes(p.pushedFrom.caseId)), 'pushed onto training cases only');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'explain', 'explanation.json'), 'utf8')).logit, ex.logit);

  // The gallery's weights are the ones every explanation multiplies by its similarities.
  const gallery = pmnPrototypes(out);
  assert.deepEqual(gallery.map((g) => g.prototype), ex.prototypes.map((p) => p.prototype).sort((a, b) => a - b));
  for (const p of ex.prototypes) {
    const g = gallery[p.prototype]!;
    assert.equal(g.class, p.class);
    assert.ok(Math.abs(g.logitWeight * p.similarity - p.contribution) < 1e-9, `prototype ${p.prototype}: ${g.logitWeight} x ${p.similarity} vs ${p.contribution}`);
    assert.ok(Math.abs(g.riskWeight * p.similarity - p.riskContribution) < 1e-9);
    assert.deepEqual(g.pushedFrom, p.pushedFrom);
    assert.equal(g.trainingPatch, p.trainingPatch);
  }
  assert.ok(gallery.every((g) => g.trainingPatch !== null && existsSync(g.trainingPatch)));
});

function volume(data: Float32Array | Uint8Array, size: [number, number, number]): Volume {
  return { data, shape: size, spacing: [1.5, 1.5, 2.5], affine: [1.5, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1], meta: {} } as Volume;
}

test('errors: no tumour in the mask, a missing phase, a model folder that does not match its weights', async () => {
  const dir = tmp('errors');
  const crop = tinyCrop(1, Rng.stream(1, 'e'), [24, 24, 12]);
  const base = join(dir, 'C1');
  writeNiftiSync(`${base}_art.nii.gz`, volume(crop.art, crop.size));
  writeNiftiSync(`${base}_label.nii.gz`, volume(new Uint8Array(crop.liver), crop.size));
  await assert.rejects(ensureCrop({ id: 'C1', art: `${base}_art.nii.gz`, pv: `${base}_pv.nii.gz`, mask: `${base}_label.nii.gz` }, join(dir, 'cache')),
    /case C1: the portal-venous phase is missing \(.*C1_pv\.nii\.gz does not exist\)/);
  writeNiftiSync(`${base}_pv.nii.gz`, volume(crop.pv, crop.size));
  await assert.rejects(ensureCrop({ id: 'C1', art: `${base}_art.nii.gz`, pv: `${base}_pv.nii.gz`, mask: `${base}_label.nii.gz` }, join(dir, 'cache')),
    /case C1 .*: the mask has no tumour \(label 2\)/);
  // With a tumour the crop is made once and cached by content hash.
  const label = Uint8Array.from(crop.liver, (v, p) => (crop.tumour[p] ? 2 : v));
  writeNiftiSync(`${base}_label.nii.gz`, volume(label, crop.size));
  const path = await ensureCrop({ id: 'C1', art: `${base}_art.nii.gz`, pv: `${base}_pv.nii.gz`, mask: `${base}_label.nii.gz` }, join(dir, 'cache'));
  assert.equal(await ensureCrop({ id: 'C1', art: `${base}_art.nii.gz`, pv: `${base}_pv.nii.gz`, mask: `${base}_label.nii.gz` }, join(dir, 'cache')), path);

  // A model folder whose model.json says 4 channels but whose weights were trained with 3.
  const { PrototypeMambaNet } = await import('../../src/pmn/model.js');
  const { saveModel } = await import('../../src/pmn/model-store.js');
  const net = new PrototypeMambaNet(TINY_CONFIG);
  const norm = { clipHu: [-160, 240] as [number, number], art: { mean: 0, sd: 1 }, pv: { mean: 0, sd: 1 } };
  const mdir = join(dir, 'model');
  const meta = saveModel(mdir, net, { training: { ...TINY_TRAINING } as never, normalisation: norm, riskScale: { mean: 0, sd: 1 }, prototypes: [], provenance: {}, metrics: {} });
  net.dispose();
  writeFileSync(join(mdir, 'model.json'), JSON.stringify({ ...meta, config: { ...meta.config, inChannels: 4 }, channels: [...meta.channels, 'liver_mask'] }));
  assert.throws(() => loadModel(mdir), /model\.pth: does not fit model\.json's architecture: .*size mismatch for stem\.0\.weight/s);
  writeFileSync(join(mdir, 'model.json'), JSON.stringify({ ...meta, config: { ...meta.config, inChannels: 4 } }));
  assert.throws(() => loadModel(mdir), /channels \[arterial, portal_venous, tumour_mask\] do not match inChannels 4/);
  writeFileSync(join(mdir, 'model.json'), JSON.stringify({ ...meta, kind: 'nnunet' }));
  assert.throws(() => loadModel(mdir), /kind is 'nnunet', expected 'pmn'/);
});

test("tumours 'all': one crop per tumour of at least 1 cm, largest first, each showing only its own tumour", async () => {
  const { ensureTumourCrops } = await import('../../src/pmn/input.js');
  const { loadCrop } = await import('../../src/pmn/crop-store.js');
  const dir = tmp('all');
  const size: [number, number, number] = [40, 24, 12];
  const n = size[0] * size[1] * size[2];
  const label = new Uint8Array(n).fill(1);
  const art = new Float32Array(n).fill(60);
  const cube = (x0: number, s: number, sz: number) => {
    for (let z = 4; z < 4 + sz; z++) for (let y = 8; y < 8 + s; y++) for (let x = x0; x < x0 + s; x++) label[x + 40 * (y + 24 * z)] = 2;
  };
  cube(4, 6, 4); // 144 voxels = 810 mm³
  cube(28, 5, 4); // 100 voxels = 562 mm³
  cube(18, 2, 2); // 8 voxels: below 1 cm, not scored alone
  const base = join(dir, 'M');
  writeNiftiSync(`${base}_art.nii.gz`, volume(art, size));
  writeNiftiSync(`${base}_pv.nii.gz`, volume(art, size));
  writeNiftiSync(`${base}_label.nii.gz`, volume(label, size));
  const crops = await ensureTumourCrops({ id: 'M', art: `${base}_art.nii.gz`, pv: `${base}_pv.nii.gz`, mask: `${base}_label.nii.gz` }, join(dir, 'cache'));
  assert.equal(crops.length, 2);
  assert.deepEqual(crops.map((p) => loadCrop(p).tumour.reduce((a, v) => a + v, 0)), [144, 100]);
});
