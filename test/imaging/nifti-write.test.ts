import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { headerQform, parseNiftiHeader } from '../../src/imaging/nifti/header.js';
import { qformToAffine } from '../../src/imaging/nifti/qform.js';
import { readNifti, readNiftiSync } from '../../src/imaging/nifti/read.js';
import { encodeNifti, writeNifti, writeNiftiSync } from '../../src/imaging/nifti/write.js';
import { fixture } from '../helpers.js';
import { writtenCases } from './nifti-written-cases.js';

interface NibabelWritten {
  affine: number[][]; sform: number[][]; qform: number[][]; nibabel_qform_of_sform: number[][];
  sform_code: number; qform_code: number; dtype: string; values: number[];
}
const nibabel = JSON.parse(readFileSync(fixture('imaging', 'nibabel_written.json'), 'utf8')) as Record<string, NibabelWritten>;

for (const c of writtenCases()) {
  test(`NIfTI written by us reads back in nibabel as written: ${c.name}`, () => {
    const bytes = encodeNifti(c.volume, c.options);
    const committed = readFileSync(fixture('imaging', 'written', `${c.name}.nii`));
    assert.ok(Buffer.from(bytes).equals(committed), 'encoder output changed; regenerate the fixtures (see nifti-written-cases.ts)');
    const ref = nibabel[c.name]!;
    const header = parseNiftiHeader(bytes, c.name);
    const single = header.version === 1 ? Math.fround : (x: number) => x;
    // nibabel uses the sform, which is our affine stored at the header's precision.
    ref.affine.flat().forEach((v, i) => assert.equal(v, single(c.volume.affine[i]!), `affine[${i}]`));
    // Our qform is the one nibabel would have written for that matrix (its SVD vs our polar iteration).
    ref.nibabel_qform_of_sform.flat().forEach((v, i) => assert.ok(Math.abs(ref.qform.flat()[i]! - v) < 1e-6, `qform[${i}] ${ref.qform.flat()[i]} vs ${v}`));
    // And we decode that qform as nibabel does.
    const ours = qformToAffine(headerQform(header), header.version === 1);
    ref.qform.flat().forEach((v, i) => assert.ok(Math.abs(ours[i]! - v) < 1e-9, `decoded qform[${i}]`));
    assert.equal(ref.sform_code, c.options.sformCode ?? 1);
    assert.equal(ref.qform_code, c.options.qformCode ?? 1);
    const back = readNiftiSync(fixture('imaging', 'written', `${c.name}.nii`));
    assert.equal(back.data.constructor.name, { int16: 'Int16Array', uint8: 'Uint8Array', float32: 'Float32Array', float64: 'Float64Array', int32: 'Int32Array', uint16: 'Uint16Array' }[ref.dtype]);
    ref.values.forEach((v, i) => assert.equal(back.data[i], v));
    if (!c.options.type) ref.values.forEach((v, i) => assert.equal(c.volume.data[i], v));
  });
}

test('.nii.gz round trip through the atomic writer (sync and async) is exact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-nifti-'));
  try {
    for (const c of writtenCases().filter((w) => !w.options.type)) {
      const path = join(dir, `${c.name}.nii.gz`);
      await writeNifti(path, c.volume, c.options);
      const back = await readNifti(path);
      assert.deepEqual(Array.from(back.data), Array.from(c.volume.data));
      assert.deepEqual(back.shape, c.volume.shape);
      writeNiftiSync(join(dir, 'again.nii'), back);
      const again = readNiftiSync(join(dir, 'again.nii'));
      assert.deepEqual(again.affine, back.affine, 'read -> write -> read keeps the affine exactly');
      assert.equal((again.meta.nifti as { sformCode: number }).sformCode, c.options.sformCode ?? 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
