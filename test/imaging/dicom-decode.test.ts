/**
 * Every transfer syntax in the pydicom and dcm_qa_ts samples decodes; lossless syntaxes give exactly the
 * uncompressed copy's stored values, lossy ones stay within the codec's tolerance of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseDicom, TransferSyntax } from '../../src/imaging/dicom/parse.js';
import { decodeJpegDct } from '../../src/imaging/dicom/codecs/jpeg-dct.js';
import { decodeFrame, pixelFormat, type StoredFrame } from '../../src/imaging/dicom/pixels.js';
import { Tag } from '../../src/imaging/dicom/tags.js';
import { encodePart10, toWriteElements } from '../../src/imaging/dicom/write.js';
import { fixture } from '../helpers.js';
import { dicomData } from './dicom-fixtures.js';

function load(path: string) {
  return parseDicom(readFileSync(dicomData(path)), path);
}

async function frame(path: string, index = 0): Promise<StoredFrame> {
  return decodeFrame(load(path), index);
}

function diff(a: StoredFrame, b: StoredFrame): { max: number; mean: number } {
  assert.equal(a.length, b.length, 'sample count');
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

test('dcm_qa_ts: the same MR image in 9 transfer syntaxes decodes to identical stored values', async () => {
  const syntaxes = new Set<string>();
  const reference = await frame('dcm_qa_ts/In/1.dcm');
  assert.equal(reference.length, 384 * 384);
  for (let n = 1; n <= 9; n++) {
    const file = load(`dcm_qa_ts/In/${n}.dcm`);
    syntaxes.add(file.transferSyntax);
    const pixels = await decodeFrame(file);
    assert.equal(pixels.constructor, Uint16Array, `${n}.dcm: unsigned 16-bit`);
    assert.equal(diff(pixels, reference).max, 0, `${n}.dcm (${file.transferSyntax})`);
  }
  // explicit LE, implicit LE, explicit BE, RLE, JPEG lossless SV1, JPEG-LS, JPEG 2000 lossless
  assert.equal(syntaxes.size, 7);
});

test('header values read the same in explicit, implicit and big-endian syntaxes', () => {
  const values = [1, 2, 3].map((n) => {
    const ds = load(`dcm_qa_ts/In/${n}.dcm`).dataset;
    return { rows: ds.uint16(Tag.Rows), bits: ds.uint16(Tag.BitsStored), spacing: ds.numbers(Tag.PixelSpacing), desc: ds.string(Tag.SeriesDescription), iop: ds.numbers(Tag.ImageOrientationPatient) };
  });
  assert.deepEqual(values[1], values[0]);
  assert.deepEqual(values[2], values[0]);
  assert.equal(values[0].rows, 384);
  assert.equal(values[0].bits, 12);
});

test('pydicom MR_small: RLE, JPEG 2000 and JPEG-LS lossless equal the uncompressed signed image', async () => {
  const reference = await frame('pydicom/MR_small.dcm');
  assert.equal(reference.constructor, Int16Array);
  for (const f of ['MR_small_RLE.dcm', 'MR_small_jp2klossless.dcm', 'MR_small_jpeg_ls_lossless.dcm']) {
    assert.equal(diff(await frame(`pydicom/${f}`), reference).max, 0, f);
  }
});

test('pydicom emri_small: 10-frame RLE, JPEG 2000 and JPEG-LS equal the uncompressed frames', async () => {
  const uncompressed = load('pydicom/emri_small.dcm');
  assert.equal(pixelFormat(uncompressed.dataset).frames, 10);
  for (const f of ['emri_small_RLE.dcm', 'emri_small_jpeg_2k_lossless.dcm', 'emri_small_jpeg_ls_lossless.dcm']) {
    const file = load(`pydicom/${f}`);
    for (const index of [0, 4, 9]) assert.equal(diff(await decodeFrame(file, index), await decodeFrame(uncompressed, index)).max, 0, `${f} frame ${index + 1}`);
  }
});

test('pydicom 693: JPEG 2000 reversible equals the uncompressed CT; irreversible equals its decompressed copy', async () => {
  const j2kr = await frame('pydicom/693_J2KR.dcm');
  assert.equal(diff(j2kr, await frame('pydicom/693_UNCR.dcm')).max, 0);
  // BitsStored 14, signed: sign extension matters here (air is negative).
  assert.ok(Math.min(...j2kr.slice(0, 1000)) < 0);
  assert.ok(diff(await frame('pydicom/693_J2KI.dcm'), await frame('pydicom/693_UNCI.dcm')).max <= 1);
});

test('lossy JPEG 2000 decodes sample for sample as dcm2niix (OpenJPEG) does', async () => {
  const refs = JSON.parse(readFileSync(fixture('imaging', 'dicom', 'lossy_refs.json'), 'utf8'));
  const pixels = await frame('pydicom/JPEG2000.dcm');
  assert.equal(load('pydicom/JPEG2000.dcm').transferSyntax, TransferSyntax.jpeg2000);
  const hash = createHash('sha256').update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)).digest('hex');
  assert.equal(hash, refs['pydicom/JPEG2000.dcm'].int16_le_sha256);
});

test('12-bit extended JPEG (lossy) stays within tolerance of the lossless copy of the same image', async () => {
  const lossless = await frame('pydicom/JPEG-LL.dcm');
  assert.equal(load('pydicom/JPEG-LL.dcm').transferSyntax, TransferSyntax.jpegLosslessSV1);
  const extended = load('pydicom/JPGExtended.dcm');
  assert.equal(extended.transferSyntax, TransferSyntax.jpegExtended);
  const d = diff(await decodeFrame(extended), lossless);
  let peak = 0;
  for (const v of lossless) peak = Math.max(peak, v);
  // No 12-bit JPEG decoder exists here to compare with (the DCT decoder itself is checked against libjpeg
  // below); the lossless copy of the same image bounds the codec's error instead.
  assert.ok(d.mean < 3 && d.max <= 0.15 * peak, `JPEG extended vs lossless: ${JSON.stringify(d)}, peak ${peak}`);
  assert.ok(d.max > 0, 'an exact match would mean the wrong file was compared');
});

test('oblique_from_totalseg: one slice in 5 encodings decodes identically', async () => {
  const reference = await frame('oblique_from_totalseg/unc/IM0007.dcm');
  for (const enc of ['rle', 'jpegll', 'j2k', 'jls']) assert.equal(diff(await frame(`oblique_from_totalseg/${enc}/IM0007.dcm`), reference).max, 0, enc);
});

test('a DICOM SEG unpacks 1-bit frames', async () => {
  const seg = load('dcmqi_ct3_liverseg/liver.dcm');
  const fmt = pixelFormat(seg.dataset);
  assert.equal(fmt.bitsAllocated, 1);
  let ones = 0;
  for (let f = 0; f < fmt.frames; f++) for (const v of await decodeFrame(seg, f, fmt)) ones += v;
  assert.ok(ones > 1000, `liver voxels: ${ones}`);
});

/** Sample bytes of a binary PGM/PPM (header of three lines). */
function pnmSamples(path: string): Uint8Array {
  const bytes = readFileSync(path);
  let lines = 0;
  let i = 0;
  while (lines < 3) if (bytes[i++] === 10) lines++;
  return bytes.subarray(i);
}

test('baseline DCT JPEG equals libjpeg-turbo (float IDCT): greyscale with restart markers, and 4:2:0 colour', () => {
  const gray = decodeJpegDct(readFileSync(fixture('imaging', 'dicom', 'gray.jpg')));
  assert.deepEqual([gray.width, gray.height, gray.components], [64, 48, 1]);
  assert.deepEqual(Array.from(gray.data), Array.from(pnmSamples(fixture('imaging', 'dicom', 'gray.pgm'))));
  // Colour: our decoder returns YCbCr as stored (DICOM's photometric says what it is); djpeg converts to RGB.
  const ycc = decodeJpegDct(readFileSync(fixture('imaging', 'dicom', 'ycc420.jpg')));
  const rgb = pnmSamples(fixture('imaging', 'dicom', 'ycc420.ppm'));
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  let worst = 0;
  for (let p = 0; p < 64 * 48; p++) {
    const [y, cb, cr] = [ycc.data[3 * p], ycc.data[3 * p + 1] - 128, ycc.data[3 * p + 2] - 128];
    const ours = [clamp(y + 1.402 * cr), clamp(y - 0.344136 * cb - 0.714136 * cr), clamp(y + 1.772 * cb)];
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(ours[c] - rgb[3 * p + c]));
  }
  assert.ok(worst <= 1, `largest RGB difference ${worst}`);
});

test('deflated explicit VR little endian reads the same as the plain file', async () => {
  const plain = load('oblique_from_totalseg/unc/IM0003.dcm');
  const elements = toWriteElements(plain.dataset).filter((e) => e.tag >>> 16 !== 2);
  const deflated = parseDicom(encodePart10(elements, TransferSyntax.deflatedExplicitLittle), 'deflated.dcm');
  assert.equal(deflated.transferSyntax, TransferSyntax.deflatedExplicitLittle);
  assert.equal(deflated.dataset.string(Tag.SeriesInstanceUID), plain.dataset.string(Tag.SeriesInstanceUID));
  assert.deepEqual(deflated.dataset.numbers(Tag.ImagePositionPatient), plain.dataset.numbers(Tag.ImagePositionPatient));
  assert.equal(diff(await decodeFrame(deflated), await decodeFrame(plain)).max, 0);
});
