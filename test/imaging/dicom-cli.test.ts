/**
 * `hcc convert` and `hcc info` end to end (spawned, as users run them): outputs equal the reference, several
 * series need --series (exit 2), a study folder gets an arterial/portal-venous pairing with reasons, errors
 * are one clear line with exit 1, and patient identity never reaches stdout, stderr or the sidecar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDicom } from '../../src/imaging/dicom/parse.js';
import { phaseFromDescription, proposePairing, type PairCandidate, tmSeconds } from '../../src/imaging/dicom/phase.js';
import { Tag } from '../../src/imaging/dicom/tags.js';
import { el, encodePart10, toWriteElements, type WriteElement } from '../../src/imaging/dicom/write.js';
import { readNifti } from '../../src/imaging/nifti/read.js';
import { repoRoot } from '../helpers.js';
import { assertSameAsReference, dicomData } from './dicom-fixtures.js';

const hcc = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'hcc.js'), ...args], { encoding: 'utf8', env: { ...process.env, HCC_PROGRESS: 'none' } });

/** A study folder: the oblique series twice, as two contrast phases 40 s apart, with new UIDs. */
function makeStudy(dir: string, descriptions: [string, string] = ['Abdomen 1.0', 'Abdomen 1.0']): void {
  const src = dicomData('oblique_from_totalseg', 'unc');
  descriptions.forEach((description, s) => {
    mkdirSync(join(dir, `series${s}`));
    for (const f of readdirSync(src)) {
      const ds = parseDicom(readFileSync(join(src, f)), f).dataset;
      const replace = new Map<number, WriteElement>([
        [Tag.SeriesInstanceUID, el(Tag.SeriesInstanceUID, 'UI', `2.25.1000${s}`)],
        [Tag.SOPInstanceUID, el(Tag.SOPInstanceUID, 'UI', `2.25.2000${s}${f.replace(/\D/g, '')}`)],
        [Tag.SeriesDescription, el(Tag.SeriesDescription, 'LO', description)],
        [Tag.AcquisitionTime, el(Tag.AcquisitionTime, 'TM', s === 0 ? '101500' : '101540')],
        [Tag.ContrastBolusAgent, el(Tag.ContrastBolusAgent, 'LO', 'IOPAMIDOL')],
        [Tag.PatientName, el(Tag.PatientName, 'PN', 'DOE^JANE')],
        [Tag.PatientID, el(Tag.PatientID, 'LO', 'MRN12345')],
      ]);
      const elements = toWriteElements(ds).filter((e) => !replace.has(e.tag) && e.tag >>> 16 !== 2);
      writeFileSync(join(dir, `series${s}`, f), encodePart10([...elements, ...replace.values()]));
    }
  });
  writeFileSync(join(dir, 'README.txt'), 'study notes');
}

function withStudy(fn: (dir: string) => void | Promise<void>, descriptions?: [string, string]) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcc-study-'));
    try {
      makeStudy(dir, descriptions);
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
  };
}

const noIdentity = (text: string) => {
  assert.ok(!text.includes('DOE') && !text.includes('MRN12345'), 'patient identity leaked');
};

test('hcc convert: JPEG 2000 oblique series to .nii.gz equal to the truth, with a sidecar', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-convert-'));
  try {
    const out = join(dir, 'ct.nii.gz');
    const r = hcc('convert', dicomData('oblique_from_totalseg', 'j2k'), out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.deepEqual(result.shape, [192, 160, 36]);
    assertSameAsReference(await readNifti(out), dicomData('oblique_from_totalseg', 'synth_truth.nii.gz'));
    const sidecar = JSON.parse(readFileSync(join(dir, 'ct.json'), 'utf8'));
    assert.equal(sidecar.modality, 'CT');
    assert.deepEqual(sidecar.transferSyntaxes, ['JPEG 2000 lossless']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('hcc convert: several series and no --series lists them and exits 2; --series picks one', withStudy((dir) => {
  const out = join(dir, 'out.nii.gz');
  const r = hcc('convert', dir, out);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /2 image series found; choose one with --series UID/);
  assert.match(r.stderr, /2\.25\.10000 .*36 slices/);
  assert.match(r.stderr, /2\.25\.10001 /);
  const json = hcc('convert', dir, out, '--json');
  assert.equal(json.status, 2);
  assert.equal(JSON.parse(json.stdout).detail.series.length, 2);
  const picked = hcc('convert', dir, out, '--series', '2.25.10001', '--json');
  assert.equal(picked.status, 0, picked.stderr);
  noIdentity(picked.stdout + picked.stderr + readFileSync(join(dir, 'out.json'), 'utf8'));
}));

test('hcc convert --deidentify: the sidecar keeps the phase but not descriptions, times or original UIDs', withStudy((dir) => {
  const out = join(dir, 'out.nii.gz');
  const r = hcc('convert', dir, out, '--series', '2.25.10000', '--deidentify');
  assert.equal(r.status, 0, r.stderr);
  const sidecar = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  assert.equal(sidecar.seriesDescription, undefined);
  assert.equal(sidecar.acquisitionSeconds, undefined);
  assert.match(sidecar.seriesInstanceUid, /^2\.25\.\d{20,}$/);
  assert.notEqual(sidecar.seriesInstanceUid, '2.25.10000');
  assert.match(sidecar.deidentified, /PS3\.15/);
}, ['Arterial phase', 'Portal venous']));

test('hcc info on a study: series list and arterial / portal-venous pairing with reasons', withStudy((dir) => {
  const r = hcc('info', dir, '--json');
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.series.length, 2);
  assert.deepEqual(doc.series[0].shape, [192, 160, 36]);
  assert.equal(doc.series[0].orientation.length, 3);
  assert.equal(doc.nonDicomFiles, 1);
  assert.equal(doc.pairing.arterial, '2.25.10000');
  assert.equal(doc.pairing.portalVenous, '2.25.10001');
  assert.equal(doc.pairing.confident, true);
  assert.match(doc.pairing.reasons.join(' '), /earliest contrast series by acquisition time.*40 s later/);
  noIdentity(r.stdout + r.stderr);
  const text = hcc('info', dir);
  assert.match(text.stdout, /pairing: arterial 2\.25\.10000, portal-venous 2\.25\.10001/);
}));

test('hcc info and convert on a tilted series: info reports the problem, convert fails with exit 1 unless --correct-tilt', () => {
  const info = hcc('info', dicomData('ge_ct_tilt'), '--json');
  assert.equal(info.status, 0, info.stderr);
  assert.match(JSON.parse(info.stdout).series[0].error, /gantry tilt/);
  const dir = mkdtempSync(join(tmpdir(), 'hcc-convert-'));
  try {
    const r = hcc('convert', dicomData('ge_ct_tilt'), join(dir, 'x.nii.gz'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^hcc convert: series .*: gantry tilt.*--correct-tilt/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    const corrected = hcc('convert', dicomData('ge_ct_tilt'), join(dir, 'x.nii.gz'), '--correct-tilt', '--json');
    assert.equal(corrected.status, 0, corrected.stderr);
    assert.deepEqual(JSON.parse(corrected.stdout).shape, [512, 611, 56]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8')).tiltCorrection.angleDeg, 18.5);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('hcc convert on a non-DICOM file or a missing path: one clear line, exit 1', () => {
  const r = hcc('convert', dicomData('dcm_qa_ts', 'README.md'), join(tmpdir(), 'never.nii.gz'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /README\.md: no image series found: no readable DICOM \(.*README\.md: not DICOM\)/);
  const missing = hcc('info', '/no/such/folder');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\/no\/such\/folder: cannot read/);
});

test('hcc info on a NIfTI file', () => {
  const r = hcc('info', dicomData('oblique_from_totalseg', 'synth_truth.nii.gz'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.shape, [192, 160, 36]);
  assert.equal(doc.orientation, 'LPS');
});

test('phase words in SeriesDescription', () => {
  const cases: [string, string | undefined][] = [
    ['ART 1.0 B30f', 'arterial'], ['Arterial phase', 'arterial'], ['late_arterial', 'arterial'], ['PV 5mm', 'portal_venous'],
    ['Portal venous', 'portal_venous'], ['Venous 1.0', 'portal_venous'], ['Delayed 3 min', 'delayed'], ['NC abdomen', 'unenhanced'],
    ['Non-contrast', 'unenhanced'], ['Abdomen 1.0 B30f', undefined],
  ];
  for (const [text, phase] of cases) assert.equal(phaseFromDescription(text), phase, text);
  assert.equal(tmSeconds('101540.25'), 10 * 3600 + 15 * 60 + 40.25);
  assert.equal(tmSeconds('10:15:40'), 10 * 3600 + 15 * 60 + 40);
});

test('pairing: labels win over time; implausible timing lowers confidence', () => {
  const c = (uid: string, phase: PairCandidate['hints']['phase'], t: number, slices = 100): PairCandidate => ({ seriesUid: uid, slices, hints: { phase, reasons: [], acquisitionSeconds: t } });
  const labelled = proposePairing([c('pv', 'portal_venous', 100), c('art', 'arterial', 60), c('scout', 'unknown', 0, 2)]);
  assert.deepEqual([labelled.arterial, labelled.portalVenous, labelled.confident], ['art', 'pv', true]);
  assert.match(labelled.reasons[0], /1 series with fewer than 10 slices ignored/);
  const swapped = proposePairing([c('a', 'arterial', 200), c('p', 'portal_venous', 100)]);
  assert.equal(swapped.confident, false);
  assert.match(swapped.reasons.join(' '), /acquired 100 s after the portal-venous one/);
  const one = proposePairing([c('x', 'unknown', 10)]);
  assert.deepEqual([one.arterial, one.portalVenous], [undefined, undefined]);
  const plain = proposePairing([c('nc', 'unenhanced', 0), c('a', 'arterial', 35), c('x', 'unknown', 75)]);
  assert.deepEqual([plain.arterial, plain.portalVenous], ['a', 'x']);
  const mixed = proposePairing([{ ...c('mr', 'unknown', 5), modality: 'MR' }, { ...c('ct1', 'unknown', 10), modality: 'CT' }, { ...c('ct2', 'unknown', 50), modality: 'CT' }]);
  assert.deepEqual([mixed.arterial, mixed.portalVenous], ['ct1', 'ct2']);
  assert.match(mixed.reasons[0], /1 series of other modalities than CT ignored/);
});
