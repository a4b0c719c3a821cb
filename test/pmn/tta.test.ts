// Test-time augmentation over the axial symmetries, and the top-k similarity option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { inputBatch } from '../../src/pmn/batches.js';
import type { PmnConfig } from '../../src/pmn/config.js';
import { explainCase } from '../../src/pmn/explain.js';
import { axialSymmetries, liverStatistics } from '../../src/pmn/input.js';
import { loadCrop } from '../../src/pmn/crop-store.js';
import { PrototypeMambaNet } from '../../src/pmn/model.js';
import type { LoadedPmn, PmnModelJson } from '../../src/pmn/model-store.js';
import { predictCases } from '../../src/pmn/predict.js';
import { TINY_CONFIG, tinyCohort, tmp } from './tiny.js';

torch.setNumThreads(1);

const values = (t: torch.Tensor) => Array.from(t.toArray() as Float32Array);

/** A untrained tiny model with a non-zero Cox head, as predictCases and explainCase take it. */
function randomModel(config: PmnConfig, dir: string, crops: string[]): LoadedPmn {
  torch.manualSeed(4);
  const net = new PrototypeMambaNet(config);
  torch.noGrad(() => net.cox_head.weight.uniform_(-1, 1));
  net.eval();
  const meta = { config, normalisation: liverStatistics(crops.map(loadCrop), config.clipHu), riskScale: { mean: 0.1, sd: 2 }, prototypes: [] } as unknown as PmnModelJson;
  return { dir, meta, net };
}

test('axial symmetries: the 8 views of a square input are the dihedral group of the central input; a non-square input has the 4 mirrors', () => {
  const dir = tmp('tta-views');
  const { resection } = tinyCohort(join(dir, 'crops'), 2, 5);
  const c = resection[1]!;
  const norm = liverStatistics([loadCrop(c.crop)], TINY_CONFIG.clipHu);
  const [nx, ny, nz] = TINY_CONFIG.inputSize;
  torch.tidy(() => {
    const syms = axialSymmetries(TINY_CONFIG);
    assert.equal(syms.length, 8);
    const views = syms.map((s) => values(inputBatch([c], norm, TINY_CONFIG, s)));
    assert.deepEqual(views[0], values(inputBatch([c], norm, TINY_CONFIG, null)), 'the first view is the central input');
    const key = (v: number[]) => v.join(',');
    assert.equal(new Set(views.map(key)).size, 8, 'eight distinct views');
    // Closed under a quarter turn and an x mirror of the array (done here independently of fillInput): with 8
    // distinct members that makes them exactly the symmetries of the square applied to the central input.
    const turn = (v: number[], f: (x: number, y: number) => [number, number]) => v.map((_, o) => {
      const x = o % nx;
      const y = Math.floor(o / nx) % ny;
      const rest = o - x - nx * y;
      const [sx, sy] = f(x, y);
      return v[rest + sx + nx * sy]!;
    });
    const all = new Set(views.map(key));
    for (const v of views) {
      assert.ok(all.has(key(turn(v, (x, y) => [y, nx - 1 - x]))), 'a quarter turn of a view is a view');
      assert.ok(all.has(key(turn(v, (x, y) => [nx - 1 - x, y]))), 'an x mirror of a view is a view');
    }
    assert.equal(nz * ny * nx * 3, views[0]!.length);
  });
  const flat: PmnConfig = { ...TINY_CONFIG, inputSize: [16, 8, 8] };
  assert.deepEqual(axialSymmetries(flat).map((s) => [s.rot90, s.flipX, s.flipY]), [[0, false, false], [0, false, true], [0, true, false], [0, true, true]]);
});

test('predictCases with tta: logits, risk and similarities are the means over the 8 views; without it, the central view; explanations sum to the averaged logit', async () => {
  const dir = tmp('tta-predict');
  const { resection } = tinyCohort(join(dir, 'crops'), 4, 6);
  const model = randomModel(TINY_CONFIG, dir, resection.map((c) => c.crop));
  const { net, meta } = model;
  const plain = await predictCases(model, resection);
  const tta = await predictCases(model, resection, { tta: true, batchSize: 3 });
  const perView = axialSymmetries(TINY_CONFIG).map((s) => torch.tidy(() => torch.noGrad(() => {
    const o = net.forward(inputBatch(resection, meta.normalisation, TINY_CONFIG, s));
    const l = o.logits.tolist() as number[][];
    return { logit: l.map((r) => r[1]! - r[0]!), risk: o.risk.tolist() as number[], sim: o.similarity.tolist() as number[][] };
  })));
  const mean = (f: (v: (typeof perView)[number]) => number) => perView.reduce((a, v) => a + f(v), 0) / perView.length;
  resection.forEach((c, i) => {
    assert.ok(Math.abs(plain[i]!.logit - perView[0]!.logit[i]!) < 1e-5, 'without tta: the central view');
    const logit = mean((v) => v.logit[i]!);
    assert.ok(Math.abs(tta[i]!.logit - logit) < 1e-5, `${c.id}: ${tta[i]!.logit} vs mean ${logit}`);
    assert.ok(Math.abs(tta[i]!.probability - 1 / (1 + Math.exp(-logit))) < 1e-6);
    assert.ok(Math.abs(tta[i]!.risk - mean((v) => v.risk[i]!)) < 1e-5);
    assert.ok(Math.abs(tta[i]!.riskScore - (tta[i]!.risk - 0.1) / 2) < 1e-9);
    tta[i]!.similarity.forEach((s, j) => assert.ok(Math.abs(s - mean((v) => v.sim[i]![j]!)) < 1e-5));
  });
  assert.ok(resection.some((_, i) => Math.abs(tta[i]!.logit - plain[i]!.logit) > 1e-4), 'the views change the score of an untrained model');

  const ex = explainCase(model, resection[1]!, join(dir, 'explain'), { tta: true });
  assert.ok(Math.abs(ex.logit - tta[1]!.logit) < 1e-5, `explanation ${ex.logit} vs predictCases ${tta[1]!.logit}`);
  const sum = ex.prototypes.reduce((a, p) => a + p.contribution, 0);
  assert.ok(Math.abs(sum - ex.logit) < 1e-5, `contributions ${sum} vs logit ${ex.logit}`);
  net.dispose();
});

test('similarityTopK k: a prototype distance is the mean of its k nearest in-mask tokens (masked tokens at max_dist); argmin stays the nearest', () => {
  torch.manualSeed(7);
  const P = TINY_CONFIG.dModel;
  const [gx, gy, gz] = [2, 2, 2];
  const L = gx * gy * gz;
  const K = 2 * TINY_CONFIG.prototypesPerClass;
  for (const k of [1, 3]) {
    const net = new PrototypeMambaNet({ ...TINY_CONFIG, similarityTopK: k });
    torch.tidy(() => {
      const f = torch.rand([2, L, P]);
      // Case 0: only 2 tokens allowed (so the top-3 mean takes one max_dist); case 1: all tokens.
      const maskRows = [[1, 0, 0, 1, 0, 0, 0, 0], new Array(L).fill(1)];
      const o = net.head(f, torch.tensor(maskRows));
      const fa = values(f);
      const pa = values(net.prototypeVectors.detach());
      const got = o.minDistance.tolist() as number[][];
      const arg = (o.argmin.tolist() as number[][]).map((r) => r.map(Number));
      for (let b = 0; b < 2; b++) for (let j = 0; j < K; j++) {
        const d = Array.from({ length: L }, (_, t) => {
          if (!maskRows[b]![t]) return P;
          let s = 0;
          for (let p = 0; p < P; p++) s += (fa[(b * L + t) * P + p]! - pa[j * P + p]!) ** 2;
          return s;
        });
        const sorted = [...d].sort((x, y) => x - y);
        const expected = sorted.slice(0, k).reduce((a, v) => a + v, 0) / k;
        assert.ok(Math.abs(got[b]![j]! - expected) < 1e-4, `k ${k} case ${b} prototype ${j}: ${got[b]![j]} vs ${expected}`);
        assert.equal(d[arg[b]![j]!], sorted[0], 'argmin is the nearest token');
      }
      const sim = o.similarity.tolist() as number[][];
      assert.ok(Math.abs(sim[1]![0]! - Math.log((got[1]![0]! + 1) / (got[1]![0]! + 1e-4))) < 1e-4, 'log-similarity of the top-k distance');
    });
    net.dispose();
  }
});
