import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { axisCodes } from '../../src/imaging/orientation.js';
import { readNifti, readNiftiHeader, readNiftiSync } from '../../src/imaging/nifti/read.js';
import { HccError } from '../../src/util/errors.js';
import { fixture, shared } from '../helpers.js';

interface FrameStats { sum: number; min: number; max: number; indices: number[]; values: number[] }
interface NibabelRead {
  version: number; shape: number[]; frames: number; affine: number[][]; qform_code: number; sform_code: number;
  axcodes: string; first: FrameStats; last: FrameStats;
}

const reads = JSON.parse(readFileSync(fixture('imaging', 'nibabel_reads.json'), 'utf8')) as Record<string, NibabelRead>;

function close(actual: number, expected: number, rel: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs nibabel ${expected}`);
}

for (const [rel, ref] of Object.entries(reads)) {
  test(`NIfTI read equals nibabel: ${rel}`, async () => {
    const path = shared('data', rel);
    for (const [frame, stats] of [[0, ref.first], [ref.frames - 1, ref.last]] as const) {
      const vol = await readNifti(path, ref.frames > 1 ? { frame } : {});
      assert.deepEqual(vol.shape, ref.shape);
      ref.affine.flat().forEach((v, i) => close(vol.affine[i]!, v, 1e-6, `${rel} affine[${i}]`));
      assert.equal(axisCodes(vol.affine), ref.axcodes);
      const nifti = vol.meta.nifti as { version: number; qformCode: number; sformCode: number };
      assert.equal(nifti.version, ref.version);
      assert.equal(nifti.qformCode, ref.qform_code);
      assert.equal(nifti.sformCode, ref.sform_code);
      let sum = 0, min = Infinity, max = -Infinity;
      for (let i = 0; i < vol.data.length; i++) {
        const v = vol.data[i]!;
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      close(sum, stats.sum, 1e-6, `${rel} frame ${frame} sum`);
      close(min, stats.min, 1e-6, `${rel} min`);
      close(max, stats.max, 1e-6, `${rel} max`);
      stats.indices.forEach((idx, n) => close(vol.data[idx]!, stats.values[n]!, 1e-6, `${rel} voxel ${idx}`));
    }
  });
}

test('the synthetic orientation set matches orient_nibabel.json (sform/qform policy, scaling)', () => {
  const dir = shared('data', 'nifti', 'orientation', 'synthetic');
  const answers = JSON.parse(readFileSync(`${dir}/orient_nibabel.json`, 'utf8')) as Record<
    string, { affine: number[][]; axcodes: string; v_1_2_3_scaled: number }
  >;
  for (const [name, ans] of Object.entries(answers)) {
    const file = `${dir}/orient_${name}.nii${name === 'scl' ? '' : '.gz'}`;
    const vol = readNiftiSync(file);
    ans.affine.flat().forEach((v, i) => close(vol.affine[i]!, v, 1e-6, `${name} affine[${i}]`));
    assert.equal(axisCodes(vol.affine), ans.axcodes, name);
    close(vol.data[1 + vol.shape[0] * (2 + vol.shape[1] * 3)]!, ans.v_1_2_3_scaled, 1e-9, `${name} voxel (1,2,3)`);
  }
});

test('integer scaling keeps an integer type; header-only read agrees with the full read', async () => {
  const scl = readNiftiSync(shared('data', 'nifti', 'orientation', 'synthetic', 'orient_scl.nii'));
  assert.ok(scl.data instanceof Int16Array || scl.data instanceof Int32Array, scl.data.constructor.name);
  const path = shared('data', 'nifti', 'orientation', 'synthetic', 'orient_q_s_differ.nii.gz');
  const { affine, affineSource, header } = await readNiftiHeader(path);
  assert.equal(affineSource, 'sform');
  assert.deepEqual(affine, readNiftiSync(path).affine);
  assert.deepEqual(header.dims, [20, 17, 13]);
});

test('bad input gives a clear HccError naming the file', async () => {
  const notNifti = shared('data', 'nifti', 'nifti-reader-js', 'not-nifti.nii');
  await assert.rejects(readNifti(notNifti), (e: unknown) => e instanceof HccError && e.message.includes('not-nifti.nii') && /not a NIfTI/.test(e.message));
  const four = shared('data', 'nifti', 'nibabel', 'example4d.nii.gz');
  await assert.rejects(readNifti(four), (e: unknown) => e instanceof HccError && /frame/.test(e.message));
  await assert.rejects(readNifti('/nonexistent/x.nii.gz'), (e: unknown) => e instanceof HccError && /cannot read/.test(e.message));
  const bytes = readFileSync(shared('data', 'nifti', 'orientation', 'synthetic', 'orient_scl.nii'));
  const { decodeNifti } = await import('../../src/imaging/nifti/read.js');
  assert.throws(() => decodeNifti(bytes.subarray(0, 1000), 'cut.nii'), (e: unknown) => e instanceof HccError && /cut\.nii: truncated image data/.test(e.message));
  assert.throws(() => decodeNifti(bytes.subarray(0, 200), 'cut.nii'), (e: unknown) => e instanceof HccError && /truncated NIfTI-1 header/.test(e.message));
});

test('a .hdr/.img pair reads as nibabel reads it, by its .hdr path', async () => {
  const expected = JSON.parse(readFileSync(fixture('imaging', 'pair', 'pair.json'), 'utf8')) as { affine: number[][]; values: number[]; axcodes: string };
  for (const vol of [readNiftiSync(fixture('imaging', 'pair', 'pair.hdr')), await readNifti(fixture('imaging', 'pair', 'pair.hdr'))]) {
    assert.deepEqual(vol.shape, [4, 3, 2]);
    expected.affine.flat().forEach((v, i) => close(vol.affine[i]!, v, 1e-9, `pair affine[${i}]`));
    assert.deepEqual(Array.from(vol.data), expected.values);
    assert.equal(axisCodes(vol.affine), expected.axcodes);
  }
  const { decodeNifti } = await import('../../src/imaging/nifti/read.js');
  assert.throws(() => decodeNifti(readFileSync(fixture('imaging', 'pair', 'pair.hdr')), 'pair.hdr'), /read it by its \.hdr path/);
});
