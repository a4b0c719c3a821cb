/**
 * Series discovery and assembly against reference conversions: dcm2niix for the real CTs, the exact synthetic
 * truth for the oblique series in five encodings. Geometry checks (order, spacing, tilt, gaps, orientation)
 * against hand-made stacks and the real tilted GE series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SlicePlacement, stackGeometry } from '../../src/imaging/dicom/geometry.js';
import { chooseSeries, discoverSeries, readSeries } from '../../src/imaging/dicom/series.js';
import { Tag } from '../../src/imaging/dicom/tags.js';
import { el, encodePart10 } from '../../src/imaging/dicom/write.js';
import { HccError } from '../../src/util/errors.js';
import type { Vec3 } from '../../src/imaging/volume.js';
import { fixture } from '../helpers.js';
import { assertSameAsReference, compareOnGrid, dicomData, readReferenceNifti, refData } from './dicom-fixtures.js';

async function readFolder(folder: string) {
  const found = discoverSeries(folder);
  return readSeries(chooseSeries(found, folder));
}

test('totalseg_ct_j2k (JPEG 2000, real contrast CT) equals the dcm2niix conversion', async () => {
  const vol = await readFolder(dicomData('totalseg_ct_j2k'));
  assert.deepEqual(vol.shape, [512, 512, 20]);
  // Spacing from positions (2 mm), not SliceThickness (3 mm).
  assert.ok(Math.abs(vol.spacing[2] - 2) < 1e-6, `slice spacing ${vol.spacing[2]}`);
  assert.equal(vol.data.constructor, Int16Array);
  assertSameAsReference(vol, refData('totalseg_ct_j2k.dcm2niix.nii.gz'));
});

test('philips_ct_S2010 (uncompressed, 5 mm) equals the dcm2niix conversion', async () => {
  const vol = await readFolder(dicomData('philips_ct_S2010'));
  assert.deepEqual(vol.shape, [512, 512, 28]);
  assertSameAsReference(vol, refData('philips_ct_S2010.dcm2niix.nii.gz'));
});

for (const encoding of ['unc', 'rle', 'jpegll', 'j2k', 'jls']) {
  test(`oblique_from_totalseg/${encoding}: shuffled oblique series equals the synthetic truth`, async () => {
    const vol = await readFolder(dicomData('oblique_from_totalseg', encoding));
    assert.deepEqual(vol.shape, [192, 160, 36]);
    assertSameAsReference(vol, dicomData('oblique_from_totalseg', 'synth_truth.nii.gz'));
  });
}

test('slices sort by position along the normal, not InstanceNumber (CT5N: z falls as InstanceNumber rises)', async () => {
  const found = discoverSeries(dicomData('pydicom', 'CT5N_5slices'));
  const series = chooseSeries(found, 'CT5N');
  const vol = await readSeries(series);
  const numbers = (vol.meta.sopInstanceUids as string[]).map((uid) => series.slices.find((s) => s.sopInstanceUid === uid)!.instanceNumber!);
  for (let k = 1; k < numbers.length; k++) assert.ok(numbers[k] < numbers[k - 1], `InstanceNumbers in volume order: ${numbers}`);
  assert.ok(vol.affine[10] > 0, 'the third axis runs along +normal');
});

test('discovery: several series side by side, non-DICOM files skipped, choice required', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-dicom-'));
  try {
    cpSync(dicomData('oblique_from_totalseg', 'unc'), join(dir, 'a'), { recursive: true });
    cpSync(dicomData('dcmqi_ct3_liverseg', 'ct-3slice'), join(dir, 'b'), { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'not dicom');
    writeFileSync(join(dir, 'DICOMDIR.bak'), new Uint8Array(200));
    // A DICOMDIR index (Media Storage Directory) beside the files is tolerated, not read as a series.
    writeFileSync(join(dir, 'DICOMDIR'), encodePart10([el(Tag.SOPClassUID, 'UI', '1.2.840.10008.1.3.10'), el(Tag.SOPInstanceUID, 'UI', '2.25.1'), el(Tag.DirectoryRecordSequence, 'SQ', [[el(0x00041430, 'CS', 'PATIENT')]])]));
    const found = discoverSeries(dir);
    assert.equal(found.series.length, 2);
    assert.deepEqual(found.series.map((s) => s.slices.length).sort(), [3, 36]);
    assert.equal(found.skipped.length, 3);
    assert.match(found.skipped.find((s) => s.path.endsWith('DICOMDIR'))!.reason, /DICOMDIR index/);
    assert.throws(() => chooseSeries(found, dir), (err: unknown) => err instanceof HccError && err.exitCode === 2 && /2 image series found; choose one with --series/.test(err.message));
    assert.equal(chooseSeries(found, dir, found.series[1].seriesUid), found.series[1]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('multi-frame Enhanced CT and MR: per-frame geometry and rescale give dcm2niix\'s conversion', async () => {
  const ct = await readFolder(dicomData('pydicom', 'eCT_Supplemental.dcm'));
  assert.deepEqual(ct.shape, [512, 512, 2]);
  // Stored values are unsigned with intercept -1024 in the per-frame transformation: the volume is in HU.
  assertSameAsReference(ct, fixture('imaging', 'dicom', 'enh_ct.dcm2niix.nii.gz'));
  const mr = await readFolder(dicomData('niivue_enh_mr.dcm'));
  assert.deepEqual(mr.shape, [64, 64, 6]);
  assertSameAsReference(mr, fixture('imaging', 'dicom', 'enh_mr.dcm2niix.nii.gz'));
});

test('a missing slice is an error naming the neighbouring files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-dicom-'));
  try {
    cpSync(dicomData('oblique_from_totalseg', 'unc'), dir, { recursive: true });
    // IM files are shuffled; find one that is neither first nor last along the normal.
    const found = discoverSeries(dir);
    const geometry = stackGeometry(found.series[0].slices, 'x');
    const middle = found.series[0].slices[geometry.order[10]].path;
    rmSync(middle);
    await assert.rejects(readFolder(dir), (err: unknown) => err instanceof HccError && /missing slice: 1 slice position is empty between .*IM\d+\.dcm and .*IM\d+\.dcm/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('gantry tilt (ge_ct_tilt, 18.5 degrees) is refused with a clear message unless correction is asked for', async () => {
  await assert.rejects(readFolder(dicomData('ge_ct_tilt')), (err: unknown) => err instanceof HccError && /gantry tilt: slice positions step 18\.5\d degrees off the slice normal \(GantryDetectorTilt 18\.5 degrees\).*--correct-tilt/.test(err.message));
});

test('--correct-tilt on ge_ct_tilt gives dcm2niix\'s tilt-corrected, gap-equalised grid and voxels', async () => {
  const found = discoverSeries(dicomData('ge_ct_tilt'));
  const vol = await readSeries(chooseSeries(found, 'ge'), { correctTilt: true });
  const ref = readReferenceNifti(refData('ge_ct_tilt.dcm2niix_tilt_corrected.nii.gz'));
  assert.deepEqual(vol.shape, ref.dim);
  // dcm2niix's gap-equalising step scales the sform's z row instead of its slice column (nii_saveNII3Deq), so
  // its stored affine is not orthogonal. Undo that: z row back by the scale, slice column forward by it. The
  // scale is the new spacing over the first gap (4.0019 mm, the spacing dcm2niix had before equalising).
  const scale = ref.pixdim[2] / 4.0019;
  const fixed = [...ref.affine];
  for (const i of [8, 9, 10]) fixed[i] /= scale;
  for (const i of [2, 6, 10]) fixed[i] *= scale;
  const stats = compareOnGrid(vol, { ...ref, affine: fixed });
  assert.ok(stats.worstMm < 0.5, `voxel centres differ by up to ${stats.worstMm} mm`);
  assert.ok(stats.meanAbs < 1, `mean |difference| ${stats.meanAbs} HU`);
  assert.ok(stats.fractionOver2 < 0.02, `${(100 * stats.fractionOver2).toFixed(2)}% of voxels differ by more than 2 HU`);
  assert.equal(vol.meta.sopInstanceUids, undefined, 'resampled slices do not claim source instances');
});

const axial = (z: number, label = `s${z}`, extra: Partial<SlicePlacement> = {}): SlicePlacement => ({
  label,
  position: [10, 20, z],
  orientation: [[1, 0, 0], [0, 1, 0]],
  pixelSpacing: [0.5, 0.8],
  ...extra,
});

test('stack geometry: LPS affine from positions; errors for uneven gaps, mixed orientation, duplicates', () => {
  const g = stackGeometry([axial(6), axial(0), axial(3)], 'stack');
  assert.deepEqual(g.order, [1, 2, 0]);
  assert.deepEqual(g.affineLps, [0.8, 0, 0, 10, 0, 0.5, 0, 20, 0, 0, 3, 0, 0, 0, 0, 1]);
  assert.throws(() => stackGeometry([axial(0), axial(3), axial(6), axial(10)], 'stack'), /uneven slice spacing: 4\.000 mm between s6 and s10, where the series steps 3\.000 mm/);
  assert.throws(() => stackGeometry([axial(0), axial(3), axial(6, 's6', { orientation: [[1, 0, 0], [0, 0, -1]] })], 'stack'), /mixed orientations in one series: s0 has .* but s6 has/);
  assert.throws(() => stackGeometry([axial(0), axial(3), axial(3, 'again')], 'stack'), /s3 and again lie at the same position/);
  assert.throws(() => stackGeometry([axial(0), axial(3, 's3', { position: undefined })], 'stack'), /s3: ImagePositionPatient \(0020,0032\) is missing/);
  // A sub-0.1 degree wobble (IPP rounding) is not tilt: the affine follows the positions.
  const wobble: Vec3 = [10.001, 20, 3];
  assert.doesNotThrow(() => stackGeometry([axial(0), axial(3, 's3', { position: wobble }), axial(6, 's6', { position: [10.002, 20, 6] })], 'stack'));
});

test('JPEG 2000 and JPEG-LS series decode identically on worker threads (HCC_DECODE_THREADS=2)', async () => {
  const saved = process.env.HCC_DECODE_THREADS;
  process.env.HCC_DECODE_THREADS = '2';
  try {
    for (const encoding of ['j2k', 'jls']) {
      const vol = await readFolder(dicomData('oblique_from_totalseg', encoding));
      assertSameAsReference(vol, dicomData('oblique_from_totalseg', 'synth_truth.nii.gz'));
    }
  } finally {
    if (saved === undefined) delete process.env.HCC_DECODE_THREADS;
    else process.env.HCC_DECODE_THREADS = saved;
  }
});
