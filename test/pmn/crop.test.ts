import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tumourCrop } from '../../src/pmn/crop.js';
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
