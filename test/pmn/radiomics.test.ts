import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glcmFeatures, radiomicsFeatures, shell } from '../../src/pmn/baselines/radiomics.js';
import type { TumourCrop } from '../../src/pmn/crop.js';

test('GLCM of an alternating row matches the hand-computed IBSI values', () => {
  // 0 HU -> bin 8, 200 HU -> bin 24 over [-100, 300) in 32 bins; three horizontal pairs, symmetric.
  const f = glcmFeatures(new Float32Array([0, 200, 0, 200]), new Uint8Array([1, 1, 1, 1]), [4, 1, 1]);
  assert.equal(f.glcm_contrast, 256);
  assert.equal(f.glcm_dissimilarity, 16);
  assert.equal(f.glcm_energy, 0.5);
  assert.equal(f.glcm_entropy, 1);
  assert.ok(Math.abs(f.glcm_homogeneity! - 1 / 17) < 1e-12);
  assert.ok(Math.abs(f.glcm_correlation! + 1) < 1e-12);
});

test('shape and first-order features of a cube: volume, face-count surface, the cube sphericity 0.806', () => {
  const size: [number, number, number] = [10, 10, 10];
  const n = 1000;
  const tumour = new Uint8Array(n);
  const art = new Float32Array(n).fill(50);
  for (let k = 2; k < 8; k++) for (let j = 2; j < 8; j++) for (let i = 2; i < 8; i++) {
    tumour[i + 10 * (j + 10 * k)] = 1;
    art[i + 10 * (j + 10 * k)] = i < 5 ? 100 : 200;
  }
  const crop: TumourCrop = { size, spacing: [1, 1, 1], scale: 1, centre: [0, 0, 0], art, pv: Float32Array.from(art, (v) => v - 30), tumour, liver: new Uint8Array(n).fill(1), affine: [] };
  const f = radiomicsFeatures(crop);
  assert.equal(f.volume_ml, 0.216);
  assert.equal(f.surface_mm2, 216);
  assert.ok(Math.abs(f.sphericity! - Math.cbrt(Math.PI) * Math.pow(6 * 216, 2 / 3) / 216) < 1e-12);
  assert.ok(Math.abs(f.sphericity! - 0.806) < 0.001);
  assert.equal(f.art_mean, 150);
  assert.equal(f.art_sd, 50);
  assert.equal(f.washout, -30);
  assert.equal(f.rim_art_mean, 50);
  // A 1-voxel shell around the 6^3 cube (26-neighbourhood) is the 8^3 cube minus the 6^3 one.
  assert.equal(shell(tumour, size, 1).reduce((s, v) => s + v, 0), 512 - 216);
});
