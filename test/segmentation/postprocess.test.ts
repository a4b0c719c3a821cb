import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeVolume, type Vec3 } from '../../src/imaging/volume.js';
import { connectedComponents } from '../../src/imaging/ops/components.js';
import { labelMask } from '../../src/imaging/ops/mask-volume.js';
import { componentContact, postprocess } from '../../src/segmentation/postprocess.js';

// One axial plane, x fastest:   y=0  1 1 1 1 1
//                               y=1  1 2 1 2 2
//                               y=2  1 1 1 0 0
// Tumour A (x 1) is surrounded by liver. Tumour B (x 3-4, at the volume's edge) has 7 shell voxels inside the
// volume, (2,0) (3,0) (4,0) (2,1) (2,2) (3,2) (4,2), five of them liver; (2,*) are in both shells.
const plane = [1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 1, 1, 1, 0, 0];
const shape: Vec3 = [5, 3, 1];
const volume = () => makeVolume(shape, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], Uint8Array.from(plane));

test('componentContact gives each tumour the liver fraction of its 26-neighbour shell, each shell voxel once (hand-computed)', () => {
  const tumours = connectedComponents(labelMask(volume().data, 2), shape, 26);
  assert.deepEqual([...tumours.labels], [0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 0, 0, 0, 0, 0]);
  assert.deepEqual(componentContact(volume(), tumours, 1), [0, 1, 5 / 7]);
  // Contact with background instead: B's two background voxels.
  assert.deepEqual(componentContact(volume(), tumours, 0), [0, 0, 2 / 7]);
});

test('postprocess removes tumours below the liver-contact threshold and keeps nnU-Net behaviour without one', () => {
  for (const options of [{}, { tumourMinLiverContact: 0 }, { tumourMinLiverContact: 0.7 }]) {
    const v = volume();
    assert.deepEqual(postprocess(v, options), { components: 0, voxels: 0 });
    assert.deepEqual([...v.data], plane, JSON.stringify(options));
  }
  const v = volume();
  assert.deepEqual(postprocess(v, { tumourMinLiverContact: 0.8 }), { components: 1, voxels: 2 });
  assert.deepEqual([...v.data], [1, 1, 1, 1, 1, 1, 2, 1, 0, 0, 1, 1, 1, 0, 0]);
});

test("postprocess applies nnU-Net's largest components first: a tumour inside a detached liver island goes with it", () => {
  // The tumour at x 1 is wholly inside liver (contact 1), but its island (x 0-2) is smaller than the liver at x 4-7.
  const v = makeVolume([8, 1, 1], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], Uint8Array.from([1, 2, 1, 0, 1, 1, 1, 1]));
  postprocess(v, { tumourMinLiverContact: 0.5 });
  assert.deepEqual([...v.data], [0, 0, 0, 0, 1, 1, 1, 1]);
});
