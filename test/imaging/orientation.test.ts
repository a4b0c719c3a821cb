import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyAffine, invertAffine, lpsToRasAffine, lpsToRasPoint, multiplyAffines, spacingFromAffine, voxelToWorld, worldToVoxel,
} from '../../src/imaging/affine.js';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { axisCodes, ioOrientation, reorient, reorientToCanonical } from '../../src/imaging/orientation.js';
import { cloneVolume, convertVoxels, makeVolume, voxelIndex } from '../../src/imaging/volume.js';
import { shared } from '../helpers.js';

const ORIENTATIONS = ['RAS', 'LPS', 'AIL', 'PSR', 'IRP', 'SLA'];

test('the six niivue_nifti_space files are identical after reorientation to RAS', () => {
  const dir = shared('data', 'nifti', 'orientation', 'niivue_nifti_space');
  const canon = ORIENTATIONS.map((o) => {
    const vol = readNiftiSync(`${dir}/${o}.nii.gz`);
    assert.equal(axisCodes(vol.affine), o, 'readers keep the stored axis order');
    return reorientToCanonical(vol);
  });
  const ref = canon[0]!;
  assert.equal(axisCodes(ref.affine), 'RAS');
  for (const [n, vol] of canon.entries()) {
    assert.deepEqual(vol.shape, ref.shape, ORIENTATIONS[n]);
    vol.affine.forEach((v, i) => assert.ok(Math.abs(v - ref.affine[i]!) < 1e-4, `${ORIENTATIONS[n]} affine[${i}] ${v} vs ${ref.affine[i]}`));
    assert.ok(Buffer.from(vol.data.buffer).equals(Buffer.from(ref.data.buffer)), `${ORIENTATIONS[n]} voxels differ`);
  }
  // Every voxel keeps its world position: back to the stored order reproduces the file exactly.
  const psr = readNiftiSync(`${dir}/PSR.nii.gz`);
  const back = reorient(canon[3]!, 'PSR');
  assert.deepEqual(Array.from(back.data), Array.from(psr.data));
  back.affine.forEach((v, i) => assert.ok(Math.abs(v - psr.affine[i]!) < 1e-9));
});

test('reorient moves voxels with their world coordinates (small hand case)', () => {
  // LPS storage: i runs to patient Left, j Posterior; 2x3x2 with value = flat index.
  const affine = [-2, 0, 0, 10, 0, -3, 0, 20, 0, 0, 4, 30, 0, 0, 0, 1];
  const vol = makeVolume([2, 3, 2], affine, Int16Array.from({ length: 12 }, (_, i) => i));
  const ras = reorientToCanonical(vol);
  assert.deepEqual(ras.shape, [2, 3, 2]);
  assert.equal(axisCodes(ras.affine), 'RAS');
  for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) {
    const w = voxelToWorld(vol.affine, [i, j, k]);
    const [a, b, c] = worldToVoxel(ras.affine, w).map((x) => Math.round(x)) as [number, number, number];
    assert.equal(ras.data[voxelIndex(ras.shape, a, b, c)], vol.data[voxelIndex(vol.shape, i, j, k)]);
  }
  assert.deepEqual(ras.affine, [2, 0, 0, 8, 0, 3, 0, 14, 0, 0, 4, 30, 0, 0, 0, 1]);
});

test('axis codes follow nibabel on oblique and permuted affines', () => {
  // i -> -y (P), j -> +z (S), k -> +x (R)
  assert.equal(axisCodes([0, 0, 1.5, 0, -0.7, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 1]), 'PSR');
  // 30° rotation about z keeps RAS; 50° makes i follow y.
  const rot = (deg: number) => {
    const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
    return [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  };
  assert.equal(axisCodes(rot(30)), 'RAS');
  assert.equal(axisCodes(rot(50)), 'ALS');
  assert.deepEqual(ioOrientation(rot(50)).map((o) => o.worldAxis), [1, 0, 2]);
});

test('affine helpers: inverse, spacing, LPS<->RAS, conversions', () => {
  const a = [0.7, 0.1, 0, -5, -0.05, 0.8, 0.2, 7, 0, -0.1, 2.5, 9, 0, 0, 0, 1];
  const id = multiplyAffines(a, invertAffine(a));
  id.forEach((v, i) => assert.ok(Math.abs(v - [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1][i]!) < 1e-12));
  const p: [number, number, number] = [3, 4, 5];
  worldToVoxel(a, voxelToWorld(a, p)).forEach((v, i) => assert.ok(Math.abs(v - p[i]!) < 1e-12));
  assert.ok(Math.abs(spacingFromAffine(a)[1] - Math.hypot(0.1, 0.8, 0.1)) < 1e-15);
  // A DICOM voxel's LPS position, converted, equals the RAS affine applied to the voxel.
  const lps = [0.5, 0, 0, -100, 0, 0.5, 0, -120, 0, 0, 2, 40, 0, 0, 0, 1];
  assert.deepEqual(applyAffine(lpsToRasAffine(lps), [10, 20, 3]), lpsToRasPoint(applyAffine(lps, [10, 20, 3])));
  assert.deepEqual(Array.from(convertVoxels(Float32Array.of(-1.6, 1.5, 300, 2.4999), 'uint8')), [0, 2, 255, 2]);
  const vol = makeVolume([1, 1, 2], lps, Float32Array.of(1, 2), { phase: 'arterial' });
  const copy = cloneVolume(vol);
  copy.data[0] = 9;
  copy.meta.phase = 'portal_venous';
  assert.equal(vol.data[0], 1);
  assert.equal(vol.meta.phase, 'arterial');
  assert.deepEqual(vol.spacing, [0.5, 0.5, 2]);
});
