import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropSpecFor, DEFAULT_CROP, tumourCrop } from '../../src/pmn/crop.js';
import { DEFAULT_CONFIG } from '../../src/pmn/config.js';
import { centreOffset, fillInput, liverStatistics } from '../../src/pmn/input.js';
import type { Vec3, Volume } from '../../src/imaging/volume.js';

/** 40x40x20 grid, 1.5 x 1.5 x 2.5 mm; liver everywhere in the middle, a 12 x 12 x 6 voxel tumour. */
function phantom(flipX: boolean): { art: Volume; pv: Volume; label: Volume } {
  const shape: Vec3 = [40, 40, 20];
  const n = shape[0] * shape[1] * shape[2];
  const label = new Uint8Array(n);
  const art = new Float32Array(n);
  for (let k = 0; k < 20; k++) for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) {
    // The world position does not depend on the storage order: flipX stores x reversed.
    const x = flipX ? 39 - i : i;
    const p = i + 40 * (j + 40 * k);
    const inTumour = x >= 20 && x < 32 && j >= 10 && j < 22 && k >= 8 && k < 14;
    label[p] = inTumour ? 2 : 1;
    art[p] = inTumour ? 150 + x : 60;
  }
  const affine = flipX ? [-1.5, 0, 0, 39 * 1.5, 0, 1.5, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1] : [1.5, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1];
  const vol = (data: Float32Array | Uint8Array): Volume => ({ data, shape, spacing: [1.5, 1.5, 2.5], affine, meta: {} });
  return { art: vol(art), pv: vol(Float32Array.from(art, (v) => v - 10)), label: vol(label) };
}

test('the crop is centred on the tumour, keeps its size and intensities, and registers phases through their affines', () => {
  const a = phantom(false);
  const c = tumourCrop(a.art, a.pv, a.label, { size: [24, 24, 12], spacing: [1.5, 1.5, 2.5], marginMm: 5 });
  assert.equal(c.scale, 1);
  // Centroid of voxels 20..31 (x), 10..21 (y), 8..13 (z).
  assert.deepEqual(c.centre.map((v) => Number(v.toFixed(6))), [25.5 * 1.5, 15.5 * 1.5, 10.5 * 2.5]);
  assert.equal(c.tumour.reduce((s, v) => s + v, 0), 12 * 12 * 6);
  const b = phantom(true);
  const d = tumourCrop(b.art, b.pv, b.label, { size: [24, 24, 12], spacing: [1.5, 1.5, 2.5], marginMm: 5 });
  // Same anatomy stored with x reversed gives the same crop, voxel for voxel.
  assert.deepEqual(Array.from(d.art), Array.from(c.art));
  assert.deepEqual(Array.from(d.tumour), Array.from(c.tumour));
  for (let p = 0; p < c.art.length; p++) assert.ok(Math.abs(c.pv[p]! - (c.art[p]! - 10)) < 1e-4);
});

test('a tumour larger than the field of view scales the spacing; no tumour is a clear error', () => {
  const a = phantom(false);
  const c = tumourCrop(a.art, a.pv, a.label, { size: [8, 8, 4], spacing: [1.5, 1.5, 2.5], marginMm: 10 });
  assert.ok(c.scale > 1);
  // Tumour extent in y is 11 voxels * 1.5 mm = 16.5 mm; plus 2 x 10 mm margin over 8 voxels of 1.5 mm.
  assert.ok(Math.abs(c.scale - Math.max((16.5 + 20) / 12, (16.5 + 20) / 12, (12.5 + 20) / 10)) < 1e-9);
  const empty = { ...a.label, data: new Uint8Array(a.label.data.length).fill(1) };
  assert.throws(() => tumourCrop(a.art, a.pv, empty, undefined, { source: 'case R1' }), /case R1: the mask has no tumour/);
});

test('the crop spec follows the model: the input plus a jitter margin, at its spacing, the tumour fitted into the input', () => {
  assert.deepEqual(DEFAULT_CROP, { size: [72, 72, 36], spacing: [1.5, 1.5, 2.5], marginMm: 10, fit: [64, 64, 32] });
  assert.deepEqual(cropSpecFor({ inputSize: [48, 48, 24], spacingMm: [2, 2, 10 / 3] }), { size: [54, 54, 28], spacing: [2, 2, 10 / 3], marginMm: 10, fit: [48, 48, 24] });
  // The tumour (12 x 12 x 6 voxels: 16.5 x 16.5 x 12.5 mm between voxel centres) plus 10 mm on each side must fit
  // the 16 x 16 x 8 input, not the 18 x 18 x 10 crop: z needs (12.5 + 20) / (8 x 2.5) = 1.625.
  const config = { ...DEFAULT_CONFIG, inputSize: [16, 16, 8] as [number, number, number] };
  const a = phantom(false);
  const crop = tumourCrop(a.art, a.pv, a.label, cropSpecFor(config));
  assert.deepEqual(crop.size, [18, 18, 10]);
  assert.ok(Math.abs(crop.scale - 1.625) < 1e-9, `scale ${crop.scale}`);
  // So the whole tumour is inside the network input at every jitter offset training can draw.
  const total = crop.tumour.reduce((s, v) => s + v, 0);
  const norm = liverStatistics([crop], config.clipHu);
  const [nx, ny, nz] = config.inputSize;
  const input = new Float32Array(3 * nx * ny * nz);
  const mask = input.subarray(2 * nx * ny * nz);
  for (let ox = 0; ox <= 2; ox++) for (let oy = 0; oy <= 2; oy++) for (let oz = 0; oz <= 2; oz++) {
    const aug = { offset: [ox, oy, oz] as [number, number, number], flipX: false, flipY: false, rot90: 0, affine: null, scale: [1, 1] as [number, number], shift: [0, 0] as [number, number], noise: 0 };
    fillInput(input, crop, norm, config, aug, null);
    assert.equal(mask.reduce((s, v) => s + v, 0), total, `offset ${ox},${oy},${oz} cuts the tumour`);
  }
  assert.deepEqual(centreOffset(config, crop.size), [1, 1, 1]);
});

test('a crop made at another spacing than the model reads is a clear error', () => {
  const a = phantom(false);
  const config = { ...DEFAULT_CONFIG, inputSize: [16, 16, 8] as [number, number, number], spacingMm: [2, 2, 10 / 3] as [number, number, number] };
  const crop = tumourCrop(a.art, a.pv, a.label, cropSpecFor({ ...config, spacingMm: [1.5, 1.5, 2.5] }));
  const norm = liverStatistics([crop], config.clipHu);
  assert.throws(() => fillInput(new Float32Array(3 * 16 * 16 * 8), crop, norm, config, null, null, 'case R1'), /case R1: crop spacing 1\.5 x 1\.5 x 2\.5 mm \(before scaling\), the model reads 2 x 2 x 3\.3333333333333335 mm/);
  const right = tumourCrop(a.art, a.pv, a.label, cropSpecFor(config));
  assert.doesNotThrow(() => fillInput(new Float32Array(3 * 16 * 16 * 8), right, norm, config, null, null));
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCrop, saveCrop } from '../../src/pmn/crop-store.js';

test('crops round-trip through their file (HU rounded to int16), and a truncated file is refused by name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-crop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = phantom(false);
  const c = tumourCrop(a.art, a.pv, a.label, { size: [24, 24, 12], spacing: [1.5, 1.5, 2.5], marginMm: 5 });
  const file = join(dir, 'R1.crop');
  saveCrop(file, c);
  const back = loadCrop(file);
  assert.deepEqual(back.size, c.size);
  assert.deepEqual(Array.from(back.art), Array.from(c.art, Math.round));
  assert.deepEqual(Array.from(back.tumour), Array.from(c.tumour));
  assert.deepEqual(back.affine, c.affine);
  writeFileSync(file, '{"version":1,"size":[24,24,12]}\n1234');
  assert.throws(() => loadCrop(file), /R1\.crop: truncated or corrupt crop/);
});
