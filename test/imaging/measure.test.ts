import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { applyAffine } from '../../src/imaging/affine.js';
import { dice, labelMetrics, maskMetrics, percentile, surfaceVoxels } from '../../src/imaging/metrics.js';
import { connectedComponents, fillHoles, keepLargestComponent, largestComponent, type Connectivity } from '../../src/imaging/ops/components.js';
import { boundingBox, cropOrPad, expandBox, marginInVoxels } from '../../src/imaging/ops/crop.js';
import { distanceTransform } from '../../src/imaging/ops/distance.js';
import { maskVolumeMl } from '../../src/imaging/ops/mask-volume.js';
import { HU_WINDOWS, windowToUint8, windowToUnit } from '../../src/imaging/ops/window.js';
import { reorient } from '../../src/imaging/orientation.js';
import { measureTumours } from '../../src/imaging/tumour.js';
import { makeVolume, voxelIndex, type Vec3 } from '../../src/imaging/volume.js';
import { fixture } from '../helpers.js';

interface Ref { count: number; labels: number[] }
interface Metrics { dice: number; hd95: number; hd: number; assd: number; nsd: number; surface_voxels: [number, number] }
const ref = JSON.parse(readFileSync(fixture('imaging', 'metrics.json'), 'utf8')) as {
  shape: Vec3; spacing: Vec3; pred: number[]; ref: number[]; sparse: number[]; cc6: Ref; cc18: Ref; cc26: Ref;
  holes_input: number[]; holes_filled: number[]; edt_ref: number[]; metrics_tol2: Metrics; metrics_tol1: Metrics;
};

const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('connected components equal scipy.ndimage.label (6, 18, 26), numbering included', () => {
  for (const conn of [6, 18, 26] as Connectivity[]) {
    const expected = ref[`cc${conn}` as 'cc6'];
    const cc = connectedComponents(ref.sparse, ref.shape, conn);
    assert.equal(cc.count, expected.count, `count ${conn}`);
    assert.deepEqual(Array.from(cc.labels), expected.labels, `labels ${conn}`);
    assert.equal(cc.sizes.reduce((a, b) => a + b, 0), ref.sparse.reduce((a, b) => a + b, 0));
  }
});

test('keep-largest-component: largest of the union, in place, other labels untouched', () => {
  // Two blobs along x: a 3-voxel liver+tumour blob and a 1-voxel liver island; label 3 elsewhere is untouched.
  const vol = makeVolume([7, 1, 1], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], Uint8Array.of(1, 2, 1, 0, 1, 0, 3));
  assert.equal(keepLargestComponent(vol, [1, 2]), 1);
  assert.deepEqual(Array.from(vol.data), [1, 2, 1, 0, 0, 0, 3]);
  // (1,1,0) touches (0,0,0) only along an edge: joined under 26- but not 6-connectivity; (0,0,1) shares a face.
  const diag = Uint8Array.of(1, 0, 0, 1, 1, 0, 0, 0);
  assert.deepEqual(Array.from(largestComponent(diag, [2, 2, 2], 26)), [1, 0, 0, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(largestComponent(diag, [2, 2, 2], 6)), [1, 0, 0, 0, 1, 0, 0, 0]);
});

test('fillHoles equals scipy binary_fill_holes', () => {
  const filled = fillHoles(ref.holes_input, ref.shape);
  assert.deepEqual(Array.from(filled), ref.holes_filled);
  assert.notDeepEqual(ref.holes_input, ref.holes_filled, 'the fixture has a hole to fill');
});

test('anisotropic EDT equals scipy distance_transform_edt(sampling=) and a hand case', () => {
  const d = distanceTransform(ref.ref, ref.shape, ref.spacing);
  ref.edt_ref.forEach((v, i) => near(d[i]!, v, 1e-9, `edt ${i}`));
  const one = new Uint8Array(5 * 4 * 3);
  one[voxelIndex([5, 4, 3], 2, 1, 1)] = 1;
  const h = distanceTransform(one, [5, 4, 3], [0.5, 2, 3]);
  near(h[voxelIndex([5, 4, 3], 4, 3, 0)]!, Math.hypot(2 * 0.5, 2 * 2, 3), 1e-12, 'corner');
  assert.equal(distanceTransform(new Uint8Array(8), [2, 2, 2], [1, 1, 1])[3], Infinity);
});

test('surface metrics equal the MONAI definitions computed with scipy', () => {
  assert.deepEqual(
    [surfaceVoxels(ref.pred, ref.shape).reduce((a, b) => a + b, 0), surfaceVoxels(ref.ref, ref.shape).reduce((a, b) => a + b, 0)],
    ref.metrics_tol2.surface_voxels,
  );
  for (const [tol, m] of [[2, ref.metrics_tol2], [1, ref.metrics_tol1]] as const) {
    const ours = maskMetrics(ref.pred, ref.ref, ref.shape, ref.spacing, tol);
    near(ours.dice, m.dice, 1e-12, 'dice');
    near(ours.hd95, m.hd95, 1e-9, 'hd95');
    near(ours.hd, m.hd, 1e-9, 'hd');
    near(ours.assd, m.assd, 1e-9, 'assd');
    near(ours.nsd, m.nsd, 1e-12, `nsd@${tol}`);
  }
});

test('metrics on hand-computed cases, empty masks, and grid checks', () => {
  // Two single voxels 3 apart along x at 0.5 mm: every surface distance is 1.5 mm.
  const a = new Uint8Array(8), b = new Uint8Array(8);
  a[1] = 1;
  b[4] = 1;
  const m = maskMetrics(a, b, [8, 1, 1], [0.5, 1, 1], 1);
  assert.deepEqual([m.dice, m.hd95, m.hd, m.assd, m.nsd], [0, 1.5, 1.5, 1.5, 0]);
  assert.equal(maskMetrics(a, b, [8, 1, 1], [0.5, 1, 1], 1.5).nsd, 1);
  // 2x2x2 cube against its half: Dice = 2·4/(8+4).
  const cube = new Uint8Array(8).fill(1), half = Uint8Array.of(1, 1, 1, 1, 0, 0, 0, 0);
  near(dice(cube, half), 2 / 3, 1e-15, 'dice');
  assert.deepEqual(maskMetrics(new Uint8Array(8), new Uint8Array(8), [2, 2, 2], [1, 1, 1]).nsd, 1);
  const one = maskMetrics(cube, new Uint8Array(8), [2, 2, 2], [1, 1, 1]);
  assert.deepEqual([one.dice, one.hd95, one.nsd], [0, Infinity, 0]);
  near(percentile(Float64Array.of(4, 1, 3, 2), 95), 3.85, 1e-12, 'numpy percentile');
  const g = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  assert.throws(() => labelMetrics(makeVolume([2, 2, 2], g, cube), makeVolume([2, 2, 1], g, half.subarray(0, 4)), 1), /grid/);
});

test('crop and pad keep world positions; un-crop restores the frame', () => {
  const affine = [0, 0, 2, -10, -0.5, 0, 0, 5, 0, 1, 0, 3, 0, 0, 0, 1];
  const vol = makeVolume([4, 3, 2], affine, Int16Array.from({ length: 24 }, (_, i) => i + 1));
  const box = boundingBox(vol.data, vol.shape, (v) => v > 14)!;
  assert.deepEqual(box, { start: [0, 0, 1], end: [4, 3, 2] });
  const crop = cropOrPad(vol, { start: [1, -1, 1], end: [3, 2, 3] }, -5);
  assert.deepEqual(crop.shape, [2, 3, 2]);
  assert.deepEqual(applyAffine(crop.affine, [0, 1, 0]), applyAffine(vol.affine, [1, 0, 1]));
  assert.equal(crop.data[voxelIndex(crop.shape, 0, 1, 0)], vol.data[voxelIndex(vol.shape, 1, 0, 1)]);
  assert.equal(crop.data[voxelIndex(crop.shape, 0, 0, 0)], -5, 'padding');
  assert.equal(crop.data[voxelIndex(crop.shape, 1, 2, 1)], -5, 'padding beyond k');
  const back = cropOrPad(crop, { start: [-1, 1, -1], end: [3, 4, 1] }, 0);
  assert.deepEqual(back.affine, vol.affine);
  assert.equal(back.data[voxelIndex(vol.shape, 2, 1, 1)], vol.data[voxelIndex(vol.shape, 2, 1, 1)]);
  assert.equal(back.data[voxelIndex(vol.shape, 0, 0, 0)], 0);
  assert.deepEqual(expandBox(box, 2, vol.shape), { start: [0, 0, 0], end: [4, 3, 2] });
  assert.deepEqual(marginInVoxels([0.8, 0.8, 2.5], 5), [7, 7, 2]);
});

test('HU windows and mask volume in mL', () => {
  assert.deepEqual(Array.from(windowToUnit([-200, -160, 40, 240, 500], HU_WINDOWS.abdomen)), [0, 0, 0.5, 1, 1]);
  assert.deepEqual(Array.from(windowToUint8([-45, 30, 105], HU_WINDOWS.liver)), [0, 128, 255]);
  // 0.8 x 0.8 x 2.5 mm, rotated: 1.6 mm³ per voxel.
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const affine = [0.8 * c, -0.8 * s, 0, 0, 0.8 * s, 0.8 * c, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1];
  const vol = makeVolume([10, 10, 10], affine, new Uint8Array(1000).fill(1));
  vol.data[0] = 2;
  near(maskVolumeMl(vol), 1.6, 1e-12, 'all');
  near(maskVolumeMl(vol, 2), 0.0016, 1e-15, 'label 2');
});

test('tumour measurements: count ≥ 1 cm, RECIST-style axial diameter, occupancy; independent of storage order', () => {
  // 40 x 40 x 6 at 1 x 1 x 3 mm; liver fills the volume; a 13 x 13 x 2 tumour and a 5 x 5 x 1 one.
  const shape: Vec3 = [40, 40, 6];
  const data = new Uint8Array(40 * 40 * 6).fill(1);
  for (let k = 1; k < 3; k++) for (let j = 5; j < 18; j++) for (let i = 5; i < 18; i++) data[voxelIndex(shape, i, j, k)] = 2;
  for (let j = 30; j < 35; j++) for (let i = 30; i < 35; i++) data[voxelIndex(shape, i, j, 4)] = 2;
  const vol = makeVolume(shape, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1], data);
  const m = measureTumours(vol);
  near(m.largestDiameterMm, 13 * Math.SQRT2, 1e-9, 'largest');
  near(m.diametersMm[1]!, 5 * Math.SQRT2, 1e-9, 'small');
  assert.equal(m.count, 1);
  near(m.tumourVolumeMl, (13 * 13 * 2 + 25) * 3 / 1000, 1e-12, 'tumour mL');
  near(m.liverVolumeMl, 40 * 40 * 6 * 3 / 1000, 1e-12, 'liver mL');
  near(m.liverOccupancyFraction!, (13 * 13 * 2 + 25) / 9600, 1e-12, 'occupancy');
  assert.equal(measureTumours(vol, { minDiameterMm: 7 }).count, 2);
  const permuted = measureTumours(reorient(vol, 'SPL'));
  assert.deepEqual(permuted.diametersMm.map((d) => d.toFixed(9)), m.diametersMm.map((d) => d.toFixed(9)));
  assert.equal(measureTumours(makeVolume(shape, vol.affine, new Uint8Array(9600))).liverOccupancyFraction, null);
});
