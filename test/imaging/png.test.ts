import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { encodePng, renderAxialSlice } from '../../src/imaging/png.js';
import type { Volume } from '../../src/imaging/volume.js';

test('PNG has a valid signature, IHDR and IDAT that inflate back to the pixels', () => {
  const pixels = new Uint8Array([0, 50, 100, 150, 200, 255]);
  const png = encodePng(pixels, 3, 2, 1);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 3);
  assert.equal(png.readUInt32BE(20), 2);
  const idatLength = png.readUInt32BE(33);
  assert.equal(png.toString('ascii', 37, 41), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  assert.deepEqual([...raw], [0, 0, 50, 100, 0, 150, 200, 255]);
  // CRC of IEND is the well-known constant.
  assert.equal(png.readUInt32BE(png.length - 4), 0xae426082);
});

test('axial rendering applies the window and shows patient right on the left of the image', () => {
  // RAS+ identity affine: +i is towards the patient's Right, +j Anterior.
  const vol: Volume = {
    data: new Float32Array([-150, 250, 50, 50]), shape: [2, 2, 1], spacing: [1, 1, 1],
    affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], meta: {},
  };
  const { rgb } = renderAxialSlice(vol, { slice: 0 });
  // Row 0 shows j=1 (most anterior); column 0 shows i=1 (patient right).
  assert.equal(rgb[0], Math.round(((50 + 150) / 400) * 255));
  // Bottom row (j=0): column 0 is i=1 (250 HU -> white), column 1 is i=0 (-150 HU -> black).
  assert.equal(rgb[6], 255);
  assert.equal(rgb[9], 0);
});
