/**
 * DICOM SEG out: the real dcmqi liver SEG read as a labelmap and written again by us must carry the same
 * mask, reference the same source instances, match the real SEG's structure, read the same in pydicom (fixture)
 * as in our parser, and lose patient identity under --deidentify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDicom } from '../../src/imaging/dicom/parse.js';
import { buildSeg, LIVER_SEGMENTS, readSegAsLabels, rgbToDicomLab, SEG_SOP_CLASS, writeSeg } from '../../src/imaging/dicom/seg.js';
import { chooseSeries, discoverSeries, readSeries } from '../../src/imaging/dicom/series.js';
import { Tag } from '../../src/imaging/dicom/tags.js';
import { encodePart10 } from '../../src/imaging/dicom/write.js';
import { HccError } from '../../src/util/errors.js';
import { fixture } from '../helpers.js';
import { dicomData } from './dicom-fixtures.js';

const source = () => chooseSeries(discoverSeries(dicomData('dcmqi_ct3_liverseg', 'ct-3slice')), 'ct-3slice');
const now = new Date('2026-01-02T03:04:05Z');

async function roundTrip() {
  const src = source();
  const labels = await readSegAsLabels(dicomData('dcmqi_ct3_liverseg', 'liver.dcm'), src);
  const dir = mkdtempSync(join(tmpdir(), 'hcc-seg-'));
  const out = join(dir, 'seg.dcm');
  const written = writeSeg(out, { labels, source: src, now });
  const bytes = readFileSync(out);
  rmSync(dir, { recursive: true });
  return { src, labels, written, bytes };
}

test('the real liver SEG reads as a labelmap, and our SEG of it reads back identically', async () => {
  const { src, labels, written, bytes } = await roundTrip();
  let liver = 0;
  for (const v of labels.data) liver += v;
  assert.ok(liver > 100000, `liver voxels ${liver}`);
  assert.deepEqual(written, { frames: 3, segments: ['Liver'] });
  const dir = mkdtempSync(join(tmpdir(), 'hcc-seg-'));
  try {
    const path = join(dir, 'again.dcm');
    writeSeg(path, { labels, source: src, now });
    const back = await readSegAsLabels(path, src);
    assert.deepEqual(back.shape, labels.shape);
    assert.ok(back.data.every((v, i) => v === labels.data[i]), 'mask survives write and read');
    assert.deepEqual(readFileSync(path), bytes, 'same inputs, same bytes');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('our SEG has the modules of the real dcmqi SEG and references the source series', async () => {
  const { src, bytes } = await roundTrip();
  const ours = parseDicom(bytes, 'ours.dcm').dataset;
  const real = parseDicom(readFileSync(dicomData('dcmqi_ct3_liverseg', 'liver.dcm')), 'liver.dcm').dataset;
  // Every attribute of the real SEG, except clinical-trial and dcmqi-specific ones, is present in ours.
  const optional = new Set([0x00101010, 0x00120050, 0x00120060, 0x00120071]);
  const missing = [...real.elements.keys()].filter((tag) => !optional.has(tag) && !ours.has(tag));
  assert.deepEqual(missing.map((t) => t.toString(16)), []);
  assert.equal(ours.string(Tag.SOPClassUID), SEG_SOP_CLASS);
  assert.equal(ours.string(Tag.FrameOfReferenceUID), real.string(Tag.FrameOfReferenceUID));
  assert.equal(ours.string(Tag.StudyInstanceUID), real.string(Tag.StudyInstanceUID));
  const refs = ours.sequence(Tag.ReferencedSeriesSequence)[0];
  assert.equal(refs.string(Tag.SeriesInstanceUID), src.seriesUid);
  assert.deepEqual(refs.sequence(0x0008114a).map((i) => i.string(Tag.ReferencedSOPInstanceUID)).sort(), src.slices.map((s) => s.sopInstanceUid).sort());
  const segment = ours.sequence(Tag.SegmentSequence)[0];
  const type = segment.sequence(Tag.SegmentedPropertyTypeCodeSequence)[0];
  assert.deepEqual([type.string(Tag.CodeValue), type.string(Tag.CodingSchemeDesignator), type.string(Tag.CodeMeaning)], ['10200004', 'SCT', 'Liver']);
  // Frame positions equal the real SEG's (same source slices, same order).
  const positions = (ds: typeof ours) => ds.sequence(Tag.PerFrameFunctionalGroupsSequence).map((f) => f.sequence(Tag.PlanePositionSequence)[0].numbers(Tag.ImagePositionPatient));
  const a = positions(ours);
  const b = positions(real);
  assert.equal(a.length, b.length);
  a.forEach((p, f) => p.forEach((v, c) => assert.ok(Math.abs(v - b[f][c]) < 1e-3, `frame ${f + 1} position`)));
});

test('pydicom reads our SEG with the same structure as our parser (fixture)', async () => {
  const expected = JSON.parse(readFileSync(fixture('imaging', 'dicom', 'seg_pydicom.json'), 'utf8'));
  const { bytes } = await roundTrip();
  assert.equal(createHash('sha256').update(bytes).digest('hex'), expected.sha256, 'the SEG pydicom read is byte-identical to this one');
  const ds = parseDicom(bytes, 'ours.dcm').dataset;
  const perFrame = ds.sequence(Tag.PerFrameFunctionalGroupsSequence);
  assert.equal(ds.number(Tag.NumberOfFrames), expected.frames);
  assert.deepEqual(ds.sequence(Tag.SegmentSequence).map((s) => s.string(Tag.SegmentLabel)), expected.segments.map((s: { label: string }) => s.label));
  assert.deepEqual(perFrame.map((f) => f.sequence(Tag.DerivationImageSequence)[0].sequence(Tag.SourceImageSequence)[0].string(Tag.ReferencedSOPInstanceUID)), expected.frame_sources);
  perFrame.forEach((f, i) => f.sequence(Tag.PlanePositionSequence)[0].numbers(Tag.ImagePositionPatient).forEach((v, c) => assert.ok(Math.abs(v - expected.frame_positions[i][c]) < 1e-6)));
});

test('the tumour segment gets SNOMED codes and the liver as anatomic region; empty segments are left out', async () => {
  const src = source();
  const labels = await readSegAsLabels(dicomData('dcmqi_ct3_liverseg', 'liver.dcm'), src);
  // Turn a block inside the liver on the middle slice into tumour.
  const [nx, ny] = labels.shape;
  let placed = 0;
  for (let i = nx * ny; i < 2 * nx * ny && placed < 500; i++) if (labels.data[i] === 1) (labels.data[i] = 2), placed++;
  const ds = parseDicom(encodePart10(buildSeg({ labels, source: src, now })), 'tumour.dcm').dataset;
  const segments = ds.sequence(Tag.SegmentSequence);
  assert.deepEqual(segments.map((s) => s.string(Tag.SegmentLabel)), ['Liver', 'Liver tumour']);
  const tumour = segments[1];
  assert.equal(tumour.sequence(Tag.SegmentedPropertyTypeCodeSequence)[0].string(Tag.CodeValue), '108369006');
  assert.equal(tumour.sequence(Tag.SegmentedPropertyCategoryCodeSequence)[0].string(Tag.CodeValue), '49755003');
  assert.equal(tumour.sequence(Tag.AnatomicRegionSequence)[0].string(Tag.CodeValue), '10200004');
  assert.equal(ds.number(Tag.NumberOfFrames), 4, '3 liver frames + 1 tumour frame');
  // Only the liver: the tumour segment disappears instead of being written empty.
  labels.data.forEach((v, i) => v === 2 && (labels.data[i] = 1));
  const liverOnly = parseDicom(encodePart10(buildSeg({ labels, source: src, now, segments: LIVER_SEGMENTS })), 'l.dcm').dataset;
  assert.equal(liverOnly.sequence(Tag.SegmentSequence).length, 1);
});

test('a mask on another grid is refused', async () => {
  const src = source();
  const labels = await readSegAsLabels(dicomData('dcmqi_ct3_liverseg', 'liver.dcm'), src);
  const shifted = { ...labels, affine: labels.affine.map((v, i) => (i === 3 ? v + 1 : v)) };
  assert.throws(() => buildSeg({ labels: shifted, source: src, now }), (e: unknown) => e instanceof HccError && /is not the source series' grid/.test(e.message));
});

test('--deidentify: PS3.15 basic profile removes identity; Retain UIDs keeps the references', async () => {
  const src = source();
  const labels = await readSegAsLabels(dicomData('dcmqi_ct3_liverseg', 'liver.dcm'), src);
  const original = parseDicom(readFileSync(src.files[0]), 'ct').dataset;
  const name = original.string(Tag.PatientName)!;
  assert.ok(name.length > 3, 'the source has a patient name to remove');
  const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
  assert.ok(text(encodePart10(buildSeg({ labels, source: src, now }))).includes(name), 'without --deidentify the name is copied');
  const retained = encodePart10(buildSeg({ labels, source: src, now, deidentify: { retainUids: true, uidSalt: 'k' } }));
  assert.ok(!text(retained).includes(name));
  const ds = parseDicom(retained, 'deid.dcm').dataset;
  assert.equal(ds.string(Tag.PatientName), undefined);
  assert.equal(ds.string(Tag.PatientID), undefined);
  assert.equal(ds.string(0x00120062), 'YES');
  assert.equal(ds.string(Tag.StudyInstanceUID), original.string(Tag.StudyInstanceUID));
  assert.deepEqual(ds.sequence(0x00120064).map((c) => c.string(Tag.CodeValue)), ['113100', '113110']);
  const replaced = parseDicom(encodePart10(buildSeg({ labels, source: src, now, deidentify: { uidSalt: 'k' } })), 'deid2.dcm').dataset;
  const study = replaced.string(Tag.StudyInstanceUID)!;
  assert.notEqual(study, original.string(Tag.StudyInstanceUID));
  assert.match(study, /^2\.25\.\d+$/);
  const frameSource = replaced.sequence(Tag.PerFrameFunctionalGroupsSequence)[0].sequence(Tag.DerivationImageSequence)[0].sequence(Tag.SourceImageSequence)[0].string(Tag.ReferencedSOPInstanceUID)!;
  assert.ok(!src.slices.some((s) => s.sopInstanceUid === frameSource), 'referenced instances are replaced consistently');
});

test('CIELab colours: Slicer\'s liver colour gives the value in the real dcmqi SEG', () => {
  const real = parseDicom(readFileSync(dicomData('dcmqi_ct3_liverseg', 'liver.dcm')), 'liver.dcm').dataset;
  assert.deepEqual(rgbToDicomLab([221, 130, 101]), real.sequence(Tag.SegmentSequence)[0].numbers(Tag.RecommendedDisplayCIELabValue, 'US'));
  assert.deepEqual(rgbToDicomLab([255, 255, 255]).map((v) => Math.round(v / 10)), [6554, 3290, 3289]);
});

test('oblique series: each SEG frame sits at its source slice\'s position and the mask round-trips', async () => {
  const src = chooseSeries(discoverSeries(dicomData('oblique_from_totalseg', 'unc')), 'oblique');
  const ct = await readSeries(src);
  const labels = { ...ct, data: Uint8Array.from(ct.data, (v) => (v > 200 ? 2 : v > 0 ? 1 : 0)) };
  const ds = parseDicom(encodePart10(buildSeg({ labels, source: src, now })), 'oblique-seg.dcm').dataset;
  const bySop = new Map(src.slices.map((s) => [s.sopInstanceUid, s]));
  const frames = ds.sequence(Tag.PerFrameFunctionalGroupsSequence);
  assert.ok(frames.length > 36, `${frames.length} frames`);
  for (const f of frames) {
    const sop = f.sequence(Tag.DerivationImageSequence)[0].sequence(Tag.SourceImageSequence)[0].string(Tag.ReferencedSOPInstanceUID);
    const position = f.sequence(Tag.PlanePositionSequence)[0].numbers(Tag.ImagePositionPatient);
    const expected = bySop.get(sop)!.position!;
    position.forEach((v, c) => assert.ok(Math.abs(v - expected[c]) < 1e-3, `frame of ${sop}: ${position} vs ${expected}`));
  }
  const dir = mkdtempSync(join(tmpdir(), 'hcc-seg-'));
  try {
    writeSeg(join(dir, 'seg.dcm'), { labels, source: src, now });
    const back = await readSegAsLabels(join(dir, 'seg.dcm'), src);
    assert.ok(back.data.every((v, i) => v === labels.data[i]));
  } finally {
    rmSync(dir, { recursive: true });
  }
});
