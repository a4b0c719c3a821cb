// The configurable ranges of the training augmentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_AUGMENTATION, trainingConfig } from '../../src/pmn/config.js';
import { drawAugmentation } from '../../src/pmn/input.js';
import { Rng } from '../../src/util/rng.js';
import { TINY_CONFIG, TINY_CROP } from './tiny.js';

const deg = (rad: number) => (rad * 180) / Math.PI;

test('augmentation ranges: draws stay inside the configured ranges and fill them; the default is the design note\'s', () => {
  const strong = { affineProbability: 1, rotationDeg: 30, zoom: 0.3, intensityScale: 0.3, intensityShift: 0.3, noise: 0.1 };
  for (const [ranges, r] of [[undefined, DEFAULT_AUGMENTATION], [strong, strong]] as const) {
    const rng = Rng.stream(3, 'aug-ranges');
    const draws = Array.from({ length: 400 }, () => drawAugmentation(TINY_CONFIG, TINY_CROP, rng, ranges));
    const affine = draws.filter((a) => a.affine);
    const share = affine.length / draws.length;
    assert.ok(Math.abs(share - r.affineProbability) < 0.08, `affine share ${share}`);
    const angles = affine.map((a) => Math.abs(deg(a.affine!.angle)));
    const zooms = affine.map((a) => Math.abs(a.affine!.zoom - 1));
    const scales = draws.flatMap((a) => a.scale.map((s) => Math.abs(s - 1)));
    const shifts = draws.flatMap((a) => a.shift.map(Math.abs));
    for (const [name, v, max] of [['angle', angles, r.rotationDeg], ['zoom', zooms, r.zoom], ['scale', scales, r.intensityScale], ['shift', shifts, r.intensityShift]] as const) {
      assert.ok(Math.max(...v) <= max, `${name} within ±${max}`);
      assert.ok(Math.max(...v) > 0.9 * max, `${name} fills ±${max}`);
    }
    assert.ok(draws.every((a) => a.noise === r.noise));
  }
  assert.ok(drawAugmentation(TINY_CONFIG, TINY_CROP, Rng.stream(1, 'x'), { ...strong, affineProbability: 0 }).affine === null);
});

test('trainingConfig merges augmentation overrides field by field', () => {
  const t = trainingConfig({ lr: 3e-3, augmentation: { rotationDeg: 20 } as never });
  assert.equal(t.lr, 3e-3);
  assert.deepEqual(t.augmentation, { ...DEFAULT_AUGMENTATION, rotationDeg: 20 });
  assert.deepEqual(trainingConfig().augmentation, DEFAULT_AUGMENTATION);
});
