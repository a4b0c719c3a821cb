import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { writeCohort } from '../../src/phantom/cohort.js';
import { createImagePool, imagePaths } from '../../src/phantom/images.js';

/** Cohort images through the worker pool: every file identical with 1 and 2 workers, and one per phase and label. */
test('tiny-grid cohort images are bit-identical with 1 and 2 workers', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'hcc-img-')), mkdtempSync(join(tmpdir(), 'hcc-img-'))];
  try {
    for (const [k, dir] of dirs.entries()) {
      const pool = await createImagePool(k + 1, { grid: 'tiny', site: null }, dir);
      try {
        await writeCohort({ cohort: 'iat', n: 3, seed: 4, out: dir, progress: false, onPatient: (g) => pool.submit(g.record) });
      } finally {
        await pool.close();
      }
    }
    const names = readdirSync(join(dirs[0]!, 'images')).sort();
    assert.deepEqual(names, ['I00001', 'I00002', 'I00003'].flatMap((id) => [`${id}_art.nii.gz`, `${id}_label.nii.gz`, `${id}_pv.nii.gz`]));
    assert.deepEqual(readdirSync(join(dirs[1]!, 'images')).sort(), names);
    for (const name of [...names.map((n) => join('images', n)), 'cohort.csv', 'truth.csv']) {
      assert.ok(readFileSync(join(dirs[0]!, name)).equals(readFileSync(join(dirs[1]!, name))), name);
    }
    const paths = imagePaths(dirs[0]!, 'I00001');
    const label = readNiftiSync(paths.label);
    assert.deepEqual(readNiftiSync(paths.art).shape, label.shape);
    assert.ok(label.data.some((v) => v === 2), 'the label map has tumour voxels');
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
