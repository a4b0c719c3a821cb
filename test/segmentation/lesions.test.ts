import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeVolume, type Vec3 } from '../../src/imaging/volume.js';
import { chooseTumourMinLiverContact, detectionAt, detectionRecord, type DetectionRecord } from '../../src/segmentation/lesions.js';

/** A 20x8x1 plane of 2 mm voxels, liver everywhere except x >= 16 (background), with boxes painted in. */
function plane(boxes: Array<[x0: number, x1: number, y0: number, y1: number, label: number]>) {
  const shape: Vec3 = [20, 8, 1];
  const data = new Uint8Array(160);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) data[x + 20 * y] = 1;
  for (const [x0, x1, y0, y1, label] of boxes) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[x + 20 * y] = label;
  return makeVolume(shape, [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], data);
}

test('detectionRecord: lesions of at least 1 cm, hits by any overlapping voxel, contact of every predicted component (hand-computed)', () => {
  // Reference: a 5-voxel (10 mm) tumour at x 1-5 and a 2-voxel one at x 9-10 (4 mm, not counted).
  const ref = plane([[1, 5, 1, 5, 2], [9, 10, 1, 2, 2]]);
  // Prediction: the big tumour in two pieces (x 1-2 y 1-2: 4 mm, not counted but a hit; x 4-5 y 1-5: a 4x10 mm
  // footprint, 10.8 mm across), and a 10 mm block across the liver's edge at x 14-18 touching no reference tumour.
  const pred = plane([[1, 2, 1, 2, 2], [4, 5, 1, 5, 2], [14, 18, 1, 5, 2]]);
  const r = detectionRecord(pred, ref);
  assert.equal(r.predicted.length, 3);
  assert.deepEqual(r.predicted.map((c) => [c.counted, c.correct]), [[false, true], [true, true], [true, false]]);
  // The x 1-2 piece's shell (x 0-3, y 0-3 minus itself: 12 voxels) is all liver in the prediction.
  assert.equal(r.predicted[0]!.contact, 1);
  // The edge block: shell x 13-19, y 0-6 minus the block, 49 - 25 = 24 voxels; liver at x 13-15: 7 + 2 + 2 = 11.
  assert.equal(r.predicted[2]!.contact, 11 / 24);
  assert.deepEqual(r.references, [[0, 1]]);
  assert.deepEqual(detectionAt([r]), { tp: 1, fp: 1, fn: 0, precision: 0.5, recall: 1, f1: 2 / 3 });
  assert.deepEqual(detectionAt([r], 0.6), { tp: 1, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 });
});

/** One case's record: predicted components as [contact, correct, counted?] and the references' hits. */
function record(predicted: Array<[number, boolean, boolean?]>, references: number[][]): DetectionRecord[] {
  return [{ predicted: predicted.map(([contact, correct, counted = true]) => ({ contact, counted, correct })), references }];
}

test('chooseTumourMinLiverContact takes the best F1 cut, just above the largest contact it removes, and stays off when nothing helps', () => {
  const records = record([[1, true], [0.2, false], [0.5, false], [0.8, true], [0.1, false, false]], [[0], [3]]);
  // F1 by cut: none 2/3; <= 0.1 2/3; <= 0.2 0.8; <= 0.5 1; <= 0.8 loses the second lesion (2/3).
  const chosen = chooseTumourMinLiverContact(records);
  assert.equal(chosen.tumourMinLiverContact, 0.51);
  assert.equal(chosen.before.f1, 2 / 3);
  assert.deepEqual(chosen.after, { tp: 2, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 });
  // Contacts closer than the margin: the threshold stops halfway to the lesion it must keep.
  assert.equal(chooseTumourMinLiverContact(record([[0.9, true], [0.896, false]], [[0]])).tumourMinLiverContact, 0.898);
  // Three false lesions just above a true one's contact: removing everything up to 0.7 raises F1 from 2/3 to 0.8
  // but loses the first lesion, so no cut is taken.
  const trade = record([[0.6, true], [0.7, false], [0.7, false], [0.7, false], [1, true]], [[0], [4], [4]]);
  assert.equal(chooseTumourMinLiverContact(trade).tumourMinLiverContact, 0);
  assert.equal(chooseTumourMinLiverContact(record([[0.3, true]], [[0]])).tumourMinLiverContact, 0);
});
