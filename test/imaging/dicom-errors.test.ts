/**
 * Bad input gives an HccError naming the file and the problem: truncated files, non-DICOM files, unknown
 * transfer syntaxes, non-image DICOM. Never a hang, a RangeError or a raw stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDicom } from '../../src/imaging/dicom/parse.js';
import { decodeFrame } from '../../src/imaging/dicom/pixels.js';
import { chooseSeries, discoverSeries, readSeries } from '../../src/imaging/dicom/series.js';
import { HccError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { dicomData } from './dicom-fixtures.js';

const isHcc = (pattern: RegExp) => (err: unknown) => err instanceof HccError && pattern.test(err.message);

test('a file truncated anywhere gives a clear error naming it', async () => {
  const bytes = readFileSync(dicomData('oblique_from_totalseg', 'unc', 'IM0003.dcm'));
  // Cut in the preamble, the meta header, the data set, and the pixel data.
  for (const length of [100, 140, 400, 900, bytes.length - 1000]) {
    const cut = bytes.subarray(0, length);
    let message = '';
    try {
      await decodeFrame(parseDicom(cut, 'cut.dcm'));
    } catch (err) {
      assert.ok(err instanceof HccError, `length ${length}: ${(err as Error).name} ${(err as Error).message}`);
      message = err.message;
    }
    assert.match(message, /^cut\.dcm: (file is truncated|not a DICOM file)/, `length ${length}`);
  }
});

test('a truncated JPEG 2000 codestream fails with the file and syntax named', async () => {
  const bytes = readFileSync(dicomData('oblique_from_totalseg', 'j2k', 'IM0003.dcm'));
  const file = parseDicom(bytes, 'j2k.dcm');
  // Corrupt the codestream in place (a copy): keep the marker, wipe the rest.
  const frame = file.dataset.get(0x7fe00010)!.fragments![0];
  frame.fill(0, 2);
  await assert.rejects(decodeFrame(file), isHcc(/^j2k\.dcm: cannot decode JPEG 2000 lossless pixel data/));
});

test('non-DICOM input is recognised, and skipped during discovery', () => {
  assert.throws(() => parseDicom(new TextEncoder().encode('hello, this is not an image at all, not even close'), 'notes.txt'), isHcc(/^notes\.txt: not a DICOM file/));
  assert.throws(() => parseDicom(new Uint8Array(0), 'empty.dcm'), isHcc(/^empty\.dcm: not a DICOM file/));
});

test('an unknown transfer syntax is named in the error', async () => {
  const bytes = new Uint8Array(readFileSync(dicomData('oblique_from_totalseg', 'unc', 'IM0003.dcm')));
  const text = new TextDecoder('latin1').decode(bytes);
  const at = text.indexOf('1.2.840.10008.1.2.1\0');
  assert.ok(at > 0);
  // Same length, so the meta group length stays valid: 1.2.840.10008.1.2.1 -> 1.2.840.10008.9.9.9
  bytes.set(new TextEncoder().encode('1.2.840.10008.9.9.9'), at);
  await assert.rejects(decodeFrame(parseDicom(bytes, 'odd.dcm')), isHcc(/^odd\.dcm: transfer syntax 1\.2\.840\.10008\.9\.9\.9 is not supported/));
});

test('non-image DICOM (a SEG) cannot be read as an image series', async () => {
  const found = discoverSeries(dicomData('dcmqi_ct3_liverseg', 'liver.dcm'));
  assert.equal(found.series.length, 1);
  assert.equal(found.series[0].isImage, false);
  assert.throws(() => chooseSeries(found, 'liver.dcm'), isHcc(/no image series found: only non-image DICOM \(SEG\)/));
  await assert.rejects(readSeries(found.series[0]), isHcc(/liver\.dcm: not an image series \(Modality SEG/));
});

test('a series with a truncated member fails naming that file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-dicom-'));
  try {
    cpSync(dicomData('oblique_from_totalseg', 'unc'), dir, { recursive: true });
    const whole = readFileSync(join(dir, 'IM0001.dcm'));
    writeFileSync(join(dir, 'IM0001.dcm'), whole.subarray(0, whole.length - 5000));
    const found = discoverSeries(dir);
    await assert.rejects(readSeries(chooseSeries(found, dir)), isHcc(/IM0001\.dcm: file is truncated/));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('randomly corrupted files in every encoding fail only with HccError (seeded)', async () => {
  const files = ['oblique_from_totalseg/unc/IM0003.dcm', 'oblique_from_totalseg/rle/IM0003.dcm', 'oblique_from_totalseg/jpegll/IM0003.dcm', 'oblique_from_totalseg/jls/IM0003.dcm', 'oblique_from_totalseg/j2k/IM0003.dcm', 'dcmqi_ct3_liverseg/ct-3slice/01.dcm', 'pydicom/JPGExtended.dcm', 'dcm_qa_ts/In/3.dcm'];
  const rng = Rng.stream(3, 'dicom-fuzz');
  const escaped: string[] = [];
  for (const f of files) {
    const original = readFileSync(dicomData(f));
    for (let t = 0; t < 15; t++) {
      const bytes = new Uint8Array(original);
      // Half the mutations hit the header (first 3000 bytes), half anywhere.
      const span = t % 2 ? Math.min(bytes.length, 3000) : bytes.length;
      for (let i = 0, n = 1 + rng.int(8); i < n; i++) bytes[rng.int(span)] = rng.int(256);
      try {
        await decodeFrame(parseDicom(bytes, 'fuzzed.dcm'));
      } catch (err) {
        if (!(err instanceof HccError)) escaped.push(`${f} #${t}: ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(escaped, []);
});
