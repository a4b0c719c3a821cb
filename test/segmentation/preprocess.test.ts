import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '@hcc/torch';
import { boundingBox } from '../../src/imaging/ops/crop.js';
import { fillHoles } from '../../src/imaging/ops/components.js';
import { makeVolume, type Vec3 } from '../../src/imaging/volume.js';
import { ctNormalize, preprocessCase } from '../../src/segmentation/preprocess.js';
import { fingerprintCase, mergeFingerprints, nonzeroBox, plan, type Fingerprint, type IntensityProperties } from '../../src/segmentation/plans.js';
import { resampleDataToShape, resampleLabelsToShape } from '../../src/imaging/ops/resample.js';
import { resampleChannels } from '../../src/segmentation/resample.js';
import { Rng } from '../../src/util/rng.js';

const props: IntensityProperties = { mean: 100, median: 95, std: 50, min: -100, max: 400, percentile_00_5: -20, percentile_99_5: 250 };

/** nnU-Net's CTNormalization in float32 steps, as numpy computes it (the oracle for the torch version). */
function ctNormalizeNumpy(data: ArrayLike<number>, p: IntensityProperties): Float32Array {
  const f = Math.fround;
  const lo = f(p.percentile_00_5), hi = f(p.percentile_99_5), mean = f(p.mean), std = f(Math.max(p.std, 1e-8));
  return Float32Array.from(data, (x) => f(f(Math.min(hi, Math.max(lo, f(x))) - mean) / std));
}

test('CT normalisation clips to the foreground 0.5/99.5 percentiles, then z-scores with the plans mean/SD (float32)', () => {
  const out = ctNormalize([-1000, -20, 100, 150, 250, 3000], props);
  assert.deepEqual([...out], [-2.4, -2.4, 0, 1, 3, 3].map(Math.fround));
  // round trip: x·SD + mean gives the clipped input back
  const hu = [-500, -20, 37, 99.5, 180, 260];
  const back = [...ctNormalize(hu, props)].map((v) => v * 50 + 100);
  hu.forEach((h, i) => assert.ok(Math.abs(back[i]! - Math.min(250, Math.max(-20, h))) < 1e-4));
});

test('the fingerprint, one case at a time: spacing and non-zero box in z, y, x, foreground samples per channel, merged in case order', () => {
  // x 6, y 5, z 4 at 1 x 2 x 3 mm; the channels are zero outside x 1..4, y 2..4, z 1..2 (box 4 x 3 x 2 of 120 voxels).
  const shape: Vec3 = [6, 5, 4];
  const affine = [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1];
  const at = (x: number, y: number, z: number) => x + 6 * (y + 5 * z);
  const inBox = (i: number) => { const x = i % 6, y = Math.floor(i / 6) % 5, z = Math.floor(i / 30); return x >= 1 && x <= 4 && y >= 2 && y <= 4 && z >= 1 && z <= 2; };
  const caseWith = (hu: number, foreground: number[]) => ({
    channels: [hu, hu / 2].map((v) => makeVolume(shape, affine, Float32Array.from({ length: 120 }, (_, i) => (inBox(i) ? v : 0)))),
    labels: makeVolume(shape, affine, Uint8Array.from({ length: 120 }, (_, i) => (foreground.includes(i) ? 1 : 0))),
  });
  const a = fingerprintCase(caseWith(100, [at(1, 2, 1), at(4, 4, 2)]), 0, 3, 7, 30);
  assert.deepEqual(a.spacing, [3, 2, 1]);
  assert.deepEqual(a.shapeAfterCrop, [2, 3, 4]);
  assert.equal(a.relativeSizeAfterCropping, 24 / 120);
  // 30 samples over 3 cases: 10 each, drawn from the foreground voxels only
  assert.deepEqual(a.samples.map((s) => [...s]), [Array(10).fill(100), Array(10).fill(50)]);
  const b = fingerprintCase(caseWith(300, [at(2, 3, 1)]), 1, 3, 7, 30);
  const empty = fingerprintCase(caseWith(500, []), 2, 3, 7, 30);
  assert.deepEqual(empty.samples.map((s) => s.length), [0, 0]);
  const fp = mergeFingerprints([a, b, empty]);
  assert.deepEqual(fp.spacings, [[3, 2, 1], [3, 2, 1], [3, 2, 1]]);
  assert.deepEqual(fp.shapesAfterCrop, [[2, 3, 4], [2, 3, 4], [2, 3, 4]]);
  assert.equal(fp.medianRelativeSizeAfterCropping, 0.2);
  // the case without foreground adds no intensities: channel 0 is ten 100s and ten 300s
  const ch0 = fp.foregroundIntensityPropertiesPerChannel['0']!;
  assert.deepEqual([ch0.mean, ch0.min, ch0.max, ch0.std], [200, 100, 300, 100]);
  assert.equal(fp.foregroundIntensityPropertiesPerChannel['1']!.mean, 100);
  assert.throws(() => mergeFingerprints([a, { ...b, samples: [b.samples[0]!] }]), /fingerprint: case 1 has 1 channels; expected 2/);
  assert.throws(() => mergeFingerprints([]), /fingerprint: no training cases/);
});

function fingerprintAt(spacing: [number, number, number], shape: [number, number, number]): Fingerprint {
  return { spacings: [spacing], shapesAfterCrop: [shape], foregroundIntensityPropertiesPerChannel: { 0: props }, medianRelativeSizeAfterCropping: 1 };
}

test('preprocessing at the target spacing is crop + normalise only; labels resample there and back unchanged', () => {
  const shape: Vec3 = [12, 10, 8];
  const affine = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1];
  const n = 12 * 10 * 8;
  const ct = makeVolume(shape, affine, Float32Array.from({ length: n }, (_, i) => (i % 37) * 10 - 50));
  const labels = makeVolume(shape, affine, Uint8Array.from({ length: n }, (_, i) => ((i % 12) >= 4 && (i % 12) < 9 ? 1 : 0)));
  const plans = plan(fingerprintAt([3, 2, 2], [8, 10, 12]), { patchVoxels: 512 });
  const pre = preprocessCase([ct], plans, labels);
  assert.deepEqual(pre.shape, [8, 10, 12]);
  assert.deepEqual([...pre.channels[0]!], [...ctNormalizeNumpy(ct.data, props)]);
  assert.deepEqual([...pre.labels!], [...labels.data]);
  // to half the spacing and back: nnU-Net's per-label linear resampling returns the label map
  const up = resampleLabelsToShape(labels.data, shape, [24, 20, 16], [2, 2, 3], [1, 1, 1.5], 'linear');
  const down = resampleLabelsToShape(up, [24, 20, 16], shape, [1, 1, 1.5], [2, 2, 3], 'linear');
  assert.deepEqual([...down], [...labels.data]);
});

test('preprocessing resamples to the plans spacing and crops zero borders (nnU-Net crop_to_nonzero)', () => {
  const shape: Vec3 = [10, 10, 6];
  const data = new Float32Array(600);
  for (let k = 1; k < 5; k++) for (let j = 2; j < 8; j++) for (let i = 3; i < 9; i++) data[i + 10 * (j + 10 * k)] = 100 + i;
  const ct = makeVolume(shape, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], data);
  const plans = plan(fingerprintAt([2, 1, 1], [4, 6, 6]), { spacing: [2, 2, 2], patchVoxels: 64 });
  const pre = preprocessCase([ct], plans);
  assert.deepEqual(pre.properties.bbox, { start: [3, 2, 1], end: [9, 8, 5] });
  assert.deepEqual(pre.properties.shapeAfterCropping, [6, 6, 4]);
  assert.deepEqual(pre.shape, [4, 3, 3]);
  assert.throws(() => preprocessCase([ct, ct], plans), /expects 1 input channel\(s\), got 2/);
});

test('the crop box taken without filling holes is the box of the hole-filled non-zero mask (crop_to_nonzero)', () => {
  const rng = Rng.stream(7, 'nonzero-box');
  const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  for (let trial = 0; trial < 30; trial++) {
    const shape: Vec3 = [3 + rng.int(8), 3 + rng.int(8), 3 + rng.int(6)];
    const n = shape[0] * shape[1] * shape[2];
    // sparse, half-full and nearly full masks (the last with enclosed holes)
    const p = [0.03, 0.5, 0.95][trial % 3]!;
    const channels = [p, p / 4].map((q) => makeVolume(shape, identity, Float32Array.from({ length: n }, () => (rng.uniform() < q ? -1024 : 0))));
    const union = Uint8Array.from({ length: n }, (_, i) => (channels[0]!.data[i] || channels[1]!.data[i] ? 1 : 0));
    const expected = boundingBox(fillHoles(union, shape), shape) ?? { start: [0, 0, 0], end: shape };
    assert.deepEqual(nonzeroBox(channels), expected, `trial ${trial}`);
  }
});

test('crop + CT normalisation in torch ops equals the float32 arithmetic of nnU-Net bit for bit (int16 and float input)', () => {
  const rng = Rng.stream(3, 'ct-normalise');
  const shape: Vec3 = [37, 23, 11];
  const n = shape[0] * shape[1] * shape[2];
  // awkward statistics, so that no division is exact
  const p: IntensityProperties = { mean: 61.37, median: 60, std: 47.913, min: -100, max: 400, percentile_00_5: -17.3, percentile_99_5: 231.7 };
  const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const inputs = [
    Int16Array.from({ length: n }, () => rng.int(1400) - 300),
    Float32Array.from({ length: n }, () => rng.uniformIn(-300, 1100)),
  ];
  const fp: Fingerprint = { spacings: [[1, 1, 1]], shapesAfterCrop: [[11, 23, 37]], foregroundIntensityPropertiesPerChannel: { 0: p }, medianRelativeSizeAfterCropping: 1 };
  const plans = plan(fp, { patchVoxels: 512 });
  for (const data of inputs) {
    // a zero border, so the crop box is strictly inside
    for (let i = 0; i < n; i++) if (i % shape[0] < 2 || Math.floor(i / (shape[0] * shape[1])) === 10) data[i] = 0;
    const pre = preprocessCase([makeVolume(shape, identity, data)], plans);
    const box = pre.properties.bbox;
    assert.deepEqual(box, { start: [2, 0, 0], end: [37, 23, 10] });
    const inside: number[] = [];
    for (let k = box.start[2]; k < box.end[2]; k++) for (let j = box.start[1]; j < box.end[1]; j++) for (let i = box.start[0]; i < box.end[0]; i++) inside.push(data[i + shape[0] * (j + shape[1] * k)]!);
    assert.deepEqual(pre.channels[0], ctNormalizeNumpy(inside, p));
  }
});

test('logit resampling in torch ops equals imaging resampleDataToShape(order 1) bit for bit (separate z or not, per channel)', () => {
  const rng = Rng.stream(5, 'torch-resample');
  const shape: Vec3 = [13, 11, 7];
  const n = shape[0] * shape[1] * shape[2];
  const channels = [Float32Array.from({ length: n }, () => rng.uniformIn(-3, 5)), Float32Array.from({ length: n }, () => rng.normal() * 100)];
  const cases: Array<[Vec3, Vec3, Vec3]> = [
    [[9, 15, 10], [1, 1, 1.2], [13 / 9, 11 / 15, 0.84]], // isotropic-ish: all three axes, down and up
    [[6, 5, 7], [0.7, 0.7, 2.5], [1.5, 1.5, 2.5]], // separate z (ratio > 3), in-plane only
    [[20, 17, 4], [0.7, 0.7, 2.5], [0.45, 0.45, 4.4]], // separate z, in-plane up, nearest along z
  ];
  for (const [outShape, spacing, target] of cases) {
    const got = torch.tidy(() => resampleChannels(torch.fromArray(Float32Array.of(...channels[0]!, ...channels[1]!), [2, shape[2], shape[1], shape[0]]), shape, outShape, spacing, target).toArray() as Float32Array);
    const m = outShape[0] * outShape[1] * outShape[2];
    channels.forEach((ch, c) => {
      assert.deepEqual(got.subarray(c * m, (c + 1) * m), resampleDataToShape(ch, shape, outShape, spacing, target, 1), `${outShape} channel ${c}`);
    });
  }
});
