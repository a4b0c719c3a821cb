import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '@hcc/torch';
import { poolAndConvProps, percentileSorted, targetSpacing, type Fingerprint } from '../../src/segmentation/plans.js';
import { computeSteps, gaussianImportance, padToPatch, slidingWindowLogits, TILE_BATCH, toHalf } from '../../src/segmentation/sliding-window.js';

torch.setNumThreads(1);

test('tile starts: n = ceil((size - patch) / (patch * step)) + 1, starts rounded half to even', () => {
  assert.deepEqual(computeSteps(10, 4), [0, 2, 4, 6]);
  assert.deepEqual(computeSteps(4, 4), [0]);
  // (11 - 4) / (4 * 0.5) = 3.5 -> 5 tiles at 7/4 = 1.75 apart: 0, 1.75, 3.5, 5.25, 7 -> 0, 2, 4 (half to even), 5, 7
  assert.deepEqual(computeSteps(11, 4), [0, 2, 4, 5, 7]);
  assert.deepEqual(computeSteps(160, 128, 0.5), [0, 32]);
  assert.throws(() => computeSteps(3, 4), /smaller than the patch/);
});

test('float16 rounding: nearest even, subnormals, overflow', () => {
  assert.equal(toHalf(1), 1);
  assert.equal(toHalf(6.065306597126334), 6.06640625); // 1552.72 ulps of 2^-8 -> 1553
  assert.equal(toHalf(1 + 2 ** -11), 1); // tie -> even
  assert.equal(toHalf(1 + 3 * 2 ** -11), 1 + 2 ** -9);
  assert.equal(toHalf(2 ** -25), 0);
  assert.equal(toHalf(3 * 2 ** -25), 2 ** -23); // 1.5 subnormal ulps, tie -> even
  assert.equal(toHalf(70000), Infinity);
});

test('Gaussian importance map (sigma = patch/8): peak 10 at patch//2, float16 values, zeros raised to the minimum', () => {
  const g = gaussianImportance([8, 8, 8]);
  const at = (z: number, y: number, x: number) => g[(z * 8 + y) * 8 + x]!;
  assert.equal(at(4, 4, 4), 10);
  // sigma 1: one voxel off the centre is 10·exp(-1/2) = 6.0653 -> float16 6.06640625
  assert.equal(at(4, 4, 5), 6.06640625);
  assert.equal(at(5, 4, 4), 6.06640625);
  // two axes off by one: 10·exp(-1) = 3.6788 -> 3.677734375 (ulp 2^-9)
  assert.equal(at(4, 5, 5), toHalf(10 * Math.exp(-1)));
  // the corner, 10·exp(-24), underflows float16 and takes the smallest non-zero value
  const min = Math.min(...g.filter((v) => v > 0));
  assert.equal(at(0, 0, 0), min);
  assert.ok(g.every((v) => v > 0));
  // anisotropic patch: sigma differs per axis
  const a = gaussianImportance([4, 16, 16]);
  assert.equal(a[(2 * 16 + 8) * 16 + 8], 10);
  assert.equal(a[(3 * 16 + 8) * 16 + 8], toHalf(10 * Math.exp(-0.5 / 0.25)));
});

test('padding to the patch is centred with the odd voxel on the high side', () => {
  const p = padToPatch([Float32Array.from([1, 2, 3])], [1, 1, 3], [2, 1, 6]);
  assert.deepEqual(p.shape, [2, 1, 6]);
  assert.deepEqual(p.before, [0, 0, 1]);
  assert.deepEqual([...p.channels[0]!], [0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('sliding window with an identity network returns its input (weights normalise), padded or not, exact or not', () => {
  const shape: [number, number, number] = [5, 9, 7];
  const data = Float32Array.from({ length: 5 * 9 * 7 }, (_, i) => Math.sin(i) * 3);
  const out = slidingWindowLogits((x) => x.mul(1), [data], shape, [4, 4, 8], 1);
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(out[i]! - data[i]!) < 1e-5, `voxel ${i}: ${out[i]} vs ${data[i]}`);
  // float16 accumulation (nnU-Net's): close where the Gaussian weights are not vanishing (away from patch corners)
  const exact = slidingWindowLogits((x) => x.mul(1), [data], shape, [4, 4, 8], 1, { exact: true });
  for (let z = 1; z < 4; z++) for (let y = 1; y < 8; y++) for (let x = 2; x < 5; x++) {
    const i = (z * 9 + y) * 7 + x;
    assert.ok(Math.abs(exact[i]! - data[i]!) < 2e-2, `voxel ${i}: ${exact[i]} vs ${data[i]}`);
  }
  // mirroring an identity network changes nothing
  const m = slidingWindowLogits((x) => x.mul(2), [data], shape, [4, 4, 4], 1, { mirrorAxes: [0, 1, 2] });
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(m[i]! - 2 * data[i]!) < 1e-4);
});

test('tiles go through the network TILE_BATCH at a time, a lone last tile twice; exact runs them one by one', () => {
  const shape: [number, number, number] = [4, 4, 12];
  const data = Float32Array.from({ length: 4 * 4 * 12 }, (_, i) => Math.cos(i) * 2);
  const batches: number[] = [];
  const net = (x: torch.Tensor) => (batches.push(x.shape[0]!), x.mul(1));
  const ticks: number[] = [];
  // 5 tiles along x (starts 0, 2, 4, 6, 8)
  const out = slidingWindowLogits(net, [data], shape, [4, 4, 4], 1, { onTile: (done) => ticks.push(done) });
  assert.equal(TILE_BATCH, 4);
  assert.deepEqual(batches, [4, 2]);
  assert.deepEqual(ticks, [4, 5]);
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(out[i]! - data[i]!) < 1e-5, `voxel ${i}: ${out[i]} vs ${data[i]}`);
  batches.length = 0;
  slidingWindowLogits(net, [data], shape, [4, 4, 4], 1, { exact: true });
  assert.deepEqual(batches, [1, 1, 1, 1, 1]);
});

test('pooling topology as nnU-Net get_pool_and_conv_props (hand-computed anisotropic case)', () => {
  const t = poolAndConvProps([2.5, 1, 1], [40, 192, 160]);
  assert.deepEqual(t.numPoolPerAxis, [3, 5, 5]);
  assert.deepEqual(t.strides, [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 2]]);
  assert.deepEqual(t.kernelSizes, [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]]);
  assert.deepEqual(t.patchSize, [40, 192, 160]);
  const iso = poolAndConvProps([1, 1, 1], [128, 128, 128]);
  assert.equal(iso.strides.length, 6);
  // a patch that is not a multiple of 2^pools is padded up
  assert.deepEqual(poolAndConvProps([1, 1, 1], [100, 100, 100]).patchSize, [112, 112, 112]);
});

test('target spacing: the median, with the 10th percentile on a coarse axis with few voxels', () => {
  const fp = (spacings: [number, number, number][], shapes: [number, number, number][]): Fingerprint => ({
    spacings, shapesAfterCrop: shapes, foregroundIntensityPropertiesPerChannel: {}, medianRelativeSizeAfterCropping: 1,
  });
  assert.deepEqual(targetSpacing(fp([[2, 1, 1], [3, 1, 1], [4, 0.5, 0.5]], [[100, 200, 200], [100, 200, 200], [100, 200, 200]])), [3, 1, 1]);
  // z spacing 5 > 3 x 0.8 and 40 z voxels x 3 < 400: 10th percentile of [4, 5, 6] = 4.2
  const t = targetSpacing(fp([[4, 0.8, 0.8], [5, 0.8, 0.8], [6, 0.8, 0.8]], [[40, 400, 400], [40, 400, 400], [40, 400, 400]]));
  assert.ok(Math.abs(t[0] - 4.2) < 1e-12);
  assert.equal(percentileSorted([1, 2, 3, 4], 50), 2.5);
});
