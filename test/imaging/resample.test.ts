import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { applyAffine, invertAffine } from '../../src/imaging/affine.js';
import {
  resampleDataToShape, resampleImageToGrid, resampleImageToSpacing, resampleLabelsToGrid, resampleLabelsToSpacing, separateZAxis,
} from '../../src/imaging/ops/resample.js';
import { zoomAxes, type SplineOrder } from '../../src/imaging/ops/spline.js';
import { makeVolume, type Vec3 } from '../../src/imaging/volume.js';
import { fixture } from '../helpers.js';

const ref = JSON.parse(readFileSync(fixture('imaging', 'resample.json'), 'utf8')) as {
  image: { shape: Vec3; data: number[] };
  labels: { shape: Vec3; data: number[] };
  zoom: Array<{ order: SplineOrder; shape: Vec3; data: number[] }>;
  map_coordinates: { points: Vec3[]; order1: number[]; order3: number[] };
  nnunet: Array<{ spacing: Vec3; target: Vec3; shape: Vec3; separate_z: boolean; axis: number | null; image: number[]; back_linear: number[]; labels_linear: number[]; labels_nearest: number[] }>;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('zoom equals scipy.ndimage.zoom(mode=nearest, grid_mode=True) for orders 0, 1, 3', () => {
  for (const z of ref.zoom) {
    const out = zoomAxes(ref.image.data, ref.image.shape, z.shape, z.order);
    assert.ok(maxAbsDiff(out, z.data) < 1e-9, `order ${z.order} -> ${z.shape}: ${maxAbsDiff(out, z.data)}`);
  }
});

test('sampling at arbitrary points equals scipy map_coordinates(mode=nearest), orders 1 and 3', () => {
  const pts = ref.map_coordinates.points;
  // Identity grids, one point each: the target grid's single voxel sits at the point.
  const vol = makeVolume(ref.image.shape, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], Float64Array.from(ref.image.data));
  for (const order of [1, 3] as const) {
    const expected = order === 1 ? ref.map_coordinates.order1 : ref.map_coordinates.order3;
    pts.forEach((p, n) => {
      const grid = { shape: [1, 1, 1] as Vec3, affine: [1, 0, 0, p[0], 0, 1, 0, p[1], 0, 0, 1, p[2], 0, 0, 0, 1] };
      const v = resampleImageToGrid(vol, grid, order).data[0]!;
      assert.ok(Math.abs(v - expected[n]!) < 1e-3, `order ${order} point ${p}: ${v} vs ${expected[n]}`);
    });
  }
});

test('resampling to a spacing equals nnU-Net resample_data_or_seg (cubic images, one-hot linear and nearest labels, separate z)', () => {
  for (const c of ref.nnunet) {
    const affine = [c.spacing[0], 0, 0, 0, 0, c.spacing[1], 0, 0, 0, 0, c.spacing[2], 0, 0, 0, 0, 1];
    const img = makeVolume(ref.image.shape, affine, Float32Array.from(ref.image.data));
    const lab = makeVolume(ref.labels.shape, affine, Uint8Array.from(ref.labels.data));
    assert.equal(separateZAxis(c.spacing, c.target), c.axis, `separate-z axis for ${c.spacing} -> ${c.target}`);
    const out = resampleImageToSpacing(img, c.target);
    assert.deepEqual(out.shape, c.shape);
    assert.ok(maxAbsDiff(out.data, c.image) < 1e-3, `image ${c.spacing}->${c.target}: ${maxAbsDiff(out.data, c.image)}`);
    assert.deepEqual(Array.from(resampleLabelsToSpacing(lab, c.target, 'linear').data), c.labels_linear, `labels linear ${c.target}`);
    assert.deepEqual(Array.from(resampleLabelsToSpacing(lab, c.target, 'nearest').data), c.labels_nearest, `labels nearest ${c.target}`);
    const back = resampleDataToShape(out.data, c.shape, ref.image.shape, c.target, c.spacing, 1);
    assert.ok(maxAbsDiff(back, c.back_linear) < 1e-3, `back to the original shape ${c.target}->${c.spacing}: ${maxAbsDiff(back, c.back_linear)}`);
    assert.throws(() => resampleImageToSpacing(img, [1, 0, 1]), /expected three positive numbers/);
    // The new affine puts the first voxel's centre where it was sampled: half a new voxel in from the old edge.
    const first = applyAffine(out.affine, [0, 0, 0]);
    first.forEach((v, a) => assert.ok(Math.abs(v - (-0.5 * c.spacing[a]! + 0.5 * (c.spacing[a]! * ref.image.shape[a]!) / c.shape[a]!)) < 1e-9));
  }
});

test('grid resampling follows world coordinates: a flipped, shifted copy of the grid gives the flipped data', () => {
  const shape: Vec3 = [4, 3, 2];
  const src = makeVolume(shape, [2, 0, 0, -3, 0, 1.5, 0, 4, 0, 0, 3, 1, 0, 0, 0, 1], Int16Array.from({ length: 24 }, (_, i) => i * 10));
  // Target: same voxels, i reversed (an LAS copy).
  const target = { shape, affine: [-2, 0, 0, -3 + 2 * 3, 0, 1.5, 0, 4, 0, 0, 3, 1, 0, 0, 0, 1] };
  for (const order of [0, 1, 3] as const) {
    const out = resampleImageToGrid(src, target, order);
    for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 4; i++) {
      assert.ok(Math.abs(out.data[i + 4 * (j + 3 * k)]! - src.data[3 - i + 4 * (j + 3 * k)]!) < 1e-9, `order ${order}`);
    }
  }
  const labels = resampleLabelsToGrid(makeVolume(shape, src.affine, Uint8Array.from({ length: 24 }, (_, i) => i % 3)), target, 'linear');
  assert.deepEqual(Array.from(labels.data).slice(0, 4), [0, 2, 1, 0]);
  // Half a voxel beyond the source's footprint is outside: fill value.
  const shifted = { shape, affine: [2, 0, 0, -3 + 2 * 4.5, 0, 1.5, 0, 4, 0, 0, 3, 1, 0, 0, 0, 1] };
  const out = resampleImageToGrid(src, shifted, 1, { fill: -1024 });
  assert.equal(out.data[0], -1024);
  const w = applyAffine(invertAffine(src.affine), applyAffine(shifted.affine, [0, 0, 0]));
  assert.equal(w[0], 4.5);
});
