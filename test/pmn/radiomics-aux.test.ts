import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { radiomicsFeatures } from '../../src/pmn/baselines/radiomics.js';
import { loadCrop } from '../../src/pmn/crop-store.js';
import { radiomicsAuxLoss, radiomicsTargets } from '../../src/pmn/radiomics-aux.js';
import { trainPmn } from '../../src/pmn/train.js';
import { TINY_CONFIG, TINY_TRAINING, tinyCohort, tmp } from './tiny.js';

torch.setNumThreads(1);

test('radiomics targets are the crops\' features standardised over the given cases', () => {
  const { resection, iat } = tinyCohort(join(tmp('aux-targets'), 'crops'), 4, 2);
  const cases = [...resection, ...iat];
  const targets = radiomicsTargets(cases);
  const raw = cases.map((c) => radiomicsFeatures(loadCrop(c.crop)));
  assert.deepEqual(targets.names, Object.keys(raw[0]!).sort());
  for (const [j, name] of targets.names.entries()) {
    const z = cases.map((c) => targets.byId.get(c.id)![j]!);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    assert.ok(Math.abs(mean) < 1e-5, `${name}: mean ${mean}`);
    const values = raw.map((r) => r[name]!);
    if (values.every((v) => v === values[0])) assert.ok(z.every((v) => v === 0), `${name}: constant feature gives 0`);
    else {
      const sd = Math.sqrt(z.reduce((a, b) => a + b * b, 0) / (z.length - 1));
      assert.ok(Math.abs(sd - 1) < 1e-4, `${name}: SD ${sd}`);
      // Standardising is affine and increasing: the order of the cases is kept.
      const i = values.indexOf(Math.max(...values));
      assert.equal(z[i], Math.max(...z), name);
    }
  }
});

test('the auxiliary loss is the squared error of the prediction from the in-mask mean token, averaged over features and cases', () => {
  torch.tidy(() => {
    const head = new torch.nn.Linear(2, 2);
    torch.noGrad(() => {
      head.weight.copy_(torch.tensor([[1, 0], [0, 2]]));
      head.bias!.copy_(torch.tensor([0, 1]));
    });
    // Tokens [B=2, L=3, d=2]; the head maps the in-mask mean token m to [m0, 2 m1 + 1].
    const features = torch.tensor([[[1, 0], [5, 5], [0, 1]], [[9, 9], [2, 0.5], [1, 1]]]);
    const mask = torch.tensor([[1, 0, 1], [0, 1, 1]]);
    const targets = [Float32Array.of(1, 2), Float32Array.of(0, 0)];
    // Case 1: tokens 0 and 2, mean (0.5, 0.5), predicts (0.5, 2): errors 0.25, 0.
    // Case 2: tokens 1 and 2, mean (1.5, 0.75), predicts (1.5, 2.5): errors 2.25, 6.25. Mean of the four: 8.75 / 4.
    const loss = radiomicsAuxLoss(head, features, mask, targets).item();
    assert.ok(Math.abs(loss - 8.75 / 4) < 1e-6, String(loss));
  });
});

test('training with the radiomics task lowers its loss, keeps it out of the saved model, and resumes only with the same setting, either way', async () => {
  const dir = tmp('aux-train');
  const { resection, iat } = tinyCohort(join(dir, 'crops'), 8, 3);
  const training = { ...TINY_TRAINING, epochs: 25, lastLayerSteps: 10, batchSize: 4, radiomicsAux: 1 };
  const run = await trainPmn(resection, iat, join(dir, 'a'), { config: TINY_CONFIG, training, progress: false });
  const first = run.epochs[0]!['radiomics']!;
  const last = run.epochs.at(-1)!['radiomics']!;
  assert.ok(last < 0.7 * first, `radiomics loss ${first} → ${last}`);
  const saved = torch.load(join(dir, 'a', 'model.pth')) as Record<string, torch.Tensor>;
  assert.ok(Object.keys(saved).every((k) => !k.startsWith('aux')), Object.keys(saved).join(', '));
  torch.dispose(saved);

  const plain = { ...training, radiomicsAux: 0, epochs: 1 };
  await trainPmn(resection, iat, join(dir, 'b'), { config: TINY_CONFIG, training: plain, progress: false });
  await assert.rejects(
    trainPmn(resection, iat, join(dir, 'b'), { config: TINY_CONFIG, training, progress: false, resume: true }),
    /checkpoint\.pth: written without the radiomics auxiliary task, which this run turns on \(training\.radiomicsAux 1\)/,
  );
  await assert.rejects(
    trainPmn(resection, iat, join(dir, 'a'), { config: TINY_CONFIG, training: { ...plain, epochs: 30 }, progress: false, resume: true }),
    /checkpoint\.pth: written with the radiomics auxiliary task, which this run turns off \(training\.radiomicsAux 0\)/,
  );
});
