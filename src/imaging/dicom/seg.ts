/**
 * DICOM Segmentation (SEG) writer: a labelmap Volume on a source series' grid becomes a BINARY segmentation,
 * one 1-bit frame per segment and source slice that holds it, referencing the source series (frame of
 * reference, each SOP instance per frame), with SNOMED CT codes per segment. The layout follows dcmqi's output
 * (dimension index: segment number, then position), so 3D Slicer (QuantitativeReporting), OHIF and PACS viewers
 * open it over the CT.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { HccError } from '../../util/errors.js';
import { sha256 } from '../../util/hash.js';
import { affinesClose, lpsToRasAffine, spacingFromAffine } from '../affine.js';
import type { Volume } from '../volume.js';
import { deidentify, type DeidentifyOptions } from './deidentify.js';
import { stackGeometry } from './geometry.js';
import { parseDicom } from './parse.js';
import { decodeFrame, pixelFormat } from './pixels.js';
import { readHeader, type SeriesInfo } from './series.js';
import { Tag } from './tags.js';
import { el, encodePart10, hashedUid, type WriteElement } from './write.js';

export const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';

export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export interface SegmentSpec {
  /** Label value in the mask. */
  label: number;
  name: string;
  category: Code;
  type: Code;
  anatomicRegion?: Code;
  /** sRGB 0-255, stored as CIELab as the standard asks. */
  color: [number, number, number];
  algorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL';
}

const sct = (value: string, meaning: string): Code => ({ value, scheme: 'SCT', meaning });

/** hcc-iat's label convention (0 background, 1 liver, 2 tumour) with SNOMED CT codes from DICOM CID 7150/7151. */
export const LIVER_SEGMENTS: SegmentSpec[] = [
  { label: 1, name: 'Liver', category: sct('123037004', 'Anatomical Structure'), type: sct('10200004', 'Liver'), color: [221, 130, 101], algorithmType: 'AUTOMATIC' },
  { label: 2, name: 'Liver tumour', category: sct('49755003', 'Morphologically Altered Structure'), type: sct('108369006', 'Neoplasm'), anatomicRegion: sct('10200004', 'Liver'), color: [255, 255, 0], algorithmType: 'AUTOMATIC' },
];

export interface SegOptions {
  /** Integer labelmap on exactly the source series' grid (as readSeries returns it). */
  labels: Volume;
  source: SeriesInfo;
  segments?: SegmentSpec[];
  seriesDescription?: string;
  seriesNumber?: number;
  algorithmName?: string;
  /** Content date and time written; default now. Fixed in tests for reproducible bytes. */
  now?: Date;
  deidentify?: DeidentifyOptions;
}

/** sRGB (0-255) to DICOM's scaled CIELab (PS3.3 C.10.7.1.1), D65 white. */
export function rgbToDicomLab([r, g, b]: [number, number, number]): [number, number, number] {
  const lin = (c: number) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const x = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  const f = (v: number) => (v > 216 / 24389 ? Math.cbrt(v) : (24389 / 27 * v + 16) / 116);
  const L = 116 * f(y) - 16;
  const a = 500 * (f(x) - f(y));
  const bb = 200 * (f(y) - f(z));
  const clamp = (v: number) => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((a + 128) * 65535) / 255), clamp(((bb + 128) * 65535) / 255)];
}

const codeItem = (c: Code): WriteElement[] => [el(Tag.CodeValue, 'SH', c.value), el(Tag.CodingSchemeDesignator, 'SH', c.scheme), el(Tag.CodeMeaning, 'LO', c.meaning)];
const da = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');
const tm = (d: Date) => d.toISOString().slice(11, 19).replace(/:/g, '');

/** Source attributes copied into the SEG (patient and study modules), with their VRs. */
const COPIED: [number, string][] = [
  [Tag.PatientName, 'PN'], [Tag.PatientID, 'LO'], [Tag.PatientBirthDate, 'DA'], [Tag.PatientSex, 'CS'],
  [Tag.StudyInstanceUID, 'UI'], [Tag.StudyDate, 'DA'], [Tag.StudyTime, 'TM'], [Tag.ReferringPhysicianName, 'PN'],
  [Tag.StudyID, 'SH'], [Tag.AccessionNumber, 'SH'], [Tag.StudyDescription, 'LO'],
];

export function buildSeg(options: SegOptions): WriteElement[] {
  const { labels, source } = options;
  const segments = options.segments ?? LIVER_SEGMENTS;
  const where = `series ${source.seriesUid}`;
  const geometry = stackGeometry(source.slices, where);
  const [nx, ny, nz] = labels.shape;
  if (nx !== source.columns || ny !== source.rows || nz !== source.slices.length || !affinesClose(labels.affine, lpsToRasAffine(geometry.affineLps), 1e-3)) {
    throw new HccError(`${where}: the mask's grid (${labels.shape.join('x')}) is not the source series' grid (${source.columns}x${source.rows}x${source.slices.length}, same affine); resample the mask onto the series first`);
  }
  const ordered = geometry.order.map((i) => source.slices[i]);
  const missing = ordered.find((s) => !s.sopInstanceUid || !s.sopClassUid);
  if (missing) throw new HccError(`${missing.path}: no SOPInstanceUID/SOPClassUID; a SEG must reference each source image, so the source series needs them`);
  const head = readHeader(source.files[0]).dataset;
  const a = geometry.affineLps;
  const row = [a[0], a[4], a[8]];
  const col = [a[1], a[5], a[9]];
  const dc = Math.hypot(row[0], row[1], row[2]);
  const dr = Math.hypot(col[0], col[1], col[2]);
  const dz = Math.hypot(a[2], a[6], a[10]);
  const perSlice = nx * ny;

  // Frames: segment by segment, slice by slice, only where the segment is present (as dcmqi does).
  const frames: { segment: number; k: number }[] = [];
  const used = segments.filter((seg, s) => {
    let any = false;
    for (let k = 0; k < nz; k++) {
      const base = k * perSlice;
      let hit = false;
      for (let i = 0; i < perSlice && !hit; i++) hit = labels.data[base + i] === seg.label;
      if (hit) {
        frames.push({ segment: s + 1, k });
        any = true;
      }
    }
    return any;
  });
  if (frames.length === 0) throw new HccError(`${where}: the mask holds none of the labels ${segments.map((s) => s.label).join(', ')}; nothing to write`);
  // Renumber segments 1..n over the non-empty ones.
  const numberOf = new Map(used.map((seg, n) => [segments.indexOf(seg) + 1, n + 1]));
  const byteCount = Math.ceil((frames.length * perSlice) / 8);
  const bits = new Uint8Array(byteCount + (byteCount % 2));
  frames.forEach((f, n) => {
    const label = segments[f.segment - 1].label;
    const base = f.k * perSlice;
    const first = n * perSlice;
    for (let i = 0; i < perSlice; i++) if (labels.data[base + i] === label) bits[(first + i) >> 3] |= 1 << ((first + i) & 7);
  });

  const now = options.now ?? new Date();
  const seriesUid = hashedUid('seg-series', source.seriesUid, sha256(new Uint8Array(labels.data.buffer, labels.data.byteOffset, labels.data.byteLength)), JSON.stringify(segments));
  const dimensionUid = hashedUid('seg-dimensions', seriesUid);
  const copied = COPIED.map(([tag, vr]) => el(tag, vr, head.string(tag) ?? ''));
  const perFrame = frames.map((f): WriteElement[] => {
    const s = ordered[f.k];
    const position = [0, 1, 2].map((r) => a[4 * r + 2] * f.k + a[4 * r + 3]);
    return [
      el(Tag.DerivationImageSequence, 'SQ', [[
        el(Tag.SourceImageSequence, 'SQ', [[
          el(Tag.ReferencedSOPClassUID, 'UI', s.sopClassUid!),
          el(Tag.ReferencedSOPInstanceUID, 'UI', s.sopInstanceUid!),
          el(Tag.PurposeOfReferenceCodeSequence, 'SQ', [codeItem({ value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' })]),
        ]]),
        el(Tag.DerivationCodeSequence, 'SQ', [codeItem({ value: '113076', scheme: 'DCM', meaning: 'Segmentation' })]),
      ]]),
      el(Tag.FrameContentSequence, 'SQ', [[el(Tag.DimensionIndexValues, 'UL', [numberOf.get(f.segment)!, f.k + 1])]]),
      el(Tag.PlanePositionSequence, 'SQ', [[el(Tag.ImagePositionPatient, 'DS', position)]]),
      el(Tag.SegmentIdentificationSequence, 'SQ', [[el(Tag.ReferencedSegmentNumber, 'US', numberOf.get(f.segment)!)]]),
    ];
  });
  const dataset: WriteElement[] = [
    el(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 192'),
    el(Tag.ImageType, 'CS', ['DERIVED', 'PRIMARY']),
    el(Tag.SOPClassUID, 'UI', SEG_SOP_CLASS),
    el(Tag.SOPInstanceUID, 'UI', hashedUid('seg-instance', seriesUid)),
    el(Tag.SeriesDate, 'DA', da(now)),
    el(Tag.ContentDate, 'DA', da(now)),
    el(Tag.SeriesTime, 'TM', tm(now)),
    el(Tag.ContentTime, 'TM', tm(now)),
    el(Tag.Modality, 'CS', 'SEG'),
    el(Tag.Manufacturer, 'LO', 'hcc-iat'),
    el(Tag.SeriesDescription, 'LO', options.seriesDescription ?? 'Liver and tumour segmentation'),
    el(Tag.ManufacturerModelName, 'LO', 'hcc-iat'),
    el(Tag.ReferencedSeriesSequence, 'SQ', [[
      el(0x0008114a, 'SQ', ordered.map((s) => [el(Tag.ReferencedSOPClassUID, 'UI', s.sopClassUid!), el(Tag.ReferencedSOPInstanceUID, 'UI', s.sopInstanceUid!)])),
      el(Tag.SeriesInstanceUID, 'UI', source.seriesUid),
    ]]),
    ...copied,
    el(0x00181000, 'LO', '0'),
    el(Tag.SoftwareVersions, 'LO', '0.1.0'),
    el(Tag.SeriesInstanceUID, 'UI', seriesUid),
    el(Tag.SeriesNumber, 'IS', options.seriesNumber ?? 300),
    el(Tag.InstanceNumber, 'IS', 1),
    el(Tag.FrameOfReferenceUID, 'UI', source.frameOfReferenceUid ?? hashedUid('frame-of-reference', source.seriesUid)),
    el(Tag.PositionReferenceIndicator, 'LO', ''),
    el(Tag.DimensionOrganizationSequence, 'SQ', [[el(Tag.DimensionOrganizationUID, 'UI', dimensionUid)]]),
    el(Tag.DimensionIndexSequence, 'SQ', [
      [el(Tag.DimensionOrganizationUID, 'UI', dimensionUid), el(Tag.DimensionIndexPointer, 'AT', Tag.ReferencedSegmentNumber), el(Tag.FunctionalGroupPointer, 'AT', Tag.SegmentIdentificationSequence), el(0x00209421, 'LO', 'ReferencedSegmentNumber')],
      [el(Tag.DimensionOrganizationUID, 'UI', dimensionUid), el(Tag.DimensionIndexPointer, 'AT', Tag.ImagePositionPatient), el(Tag.FunctionalGroupPointer, 'AT', Tag.PlanePositionSequence), el(0x00209421, 'LO', 'ImagePositionPatient')],
    ]),
    el(Tag.SamplesPerPixel, 'US', 1),
    el(Tag.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
    el(Tag.NumberOfFrames, 'IS', frames.length),
    el(Tag.Rows, 'US', ny),
    el(Tag.Columns, 'US', nx),
    el(Tag.BitsAllocated, 'US', 1),
    el(Tag.BitsStored, 'US', 1),
    el(Tag.HighBit, 'US', 0),
    el(Tag.PixelRepresentation, 'US', 0),
    el(Tag.LossyImageCompression, 'CS', '00'),
    el(Tag.SegmentationType, 'CS', 'BINARY'),
    el(Tag.SegmentSequence, 'SQ', used.map((seg) => [
      ...(seg.anatomicRegion ? [el(Tag.AnatomicRegionSequence, 'SQ', [codeItem(seg.anatomicRegion)])] : []),
      el(Tag.SegmentedPropertyCategoryCodeSequence, 'SQ', [codeItem(seg.category)]),
      el(Tag.SegmentNumber, 'US', numberOf.get(segments.indexOf(seg) + 1)!),
      el(Tag.SegmentLabel, 'LO', seg.name),
      el(Tag.SegmentAlgorithmType, 'CS', seg.algorithmType),
      ...(seg.algorithmType !== 'MANUAL' ? [el(Tag.SegmentAlgorithmName, 'LO', options.algorithmName ?? 'hcc-iat')] : []),
      el(Tag.RecommendedDisplayCIELabValue, 'US', rgbToDicomLab(seg.color)),
      el(Tag.SegmentedPropertyTypeCodeSequence, 'SQ', [codeItem(seg.type)]),
    ])),
    el(0x00620013, 'CS', 'NO'),
    el(Tag.ContentLabel, 'CS', 'HCC_IAT'),
    el(Tag.ContentDescription, 'LO', 'Liver and tumour segmentation'),
    el(Tag.ContentCreatorName, 'PN', ''),
    el(Tag.SharedFunctionalGroupsSequence, 'SQ', [[
      el(Tag.PlaneOrientationSequence, 'SQ', [[el(Tag.ImageOrientationPatient, 'DS', [...row.map((v) => v / dc), ...col.map((v) => v / dr)])]]),
      el(Tag.PixelMeasuresSequence, 'SQ', [[el(Tag.SliceThickness, 'DS', dz), el(0x00180088, 'DS', dz), el(Tag.PixelSpacing, 'DS', [dr, dc])]]),
    ]]),
    el(Tag.PerFrameFunctionalGroupsSequence, 'SQ', perFrame),
    el(Tag.PixelData, 'OB', bits),
  ];
  return options.deidentify ? deidentify(dataset, options.deidentify) : dataset;
}

/** Writes the SEG file atomically; returns the number of frames and the segments written. */
export function writeSeg(path: string, options: SegOptions): { frames: number; segments: string[] } {
  const dataset = buildSeg(options);
  writeFileAtomicSync(path, encodePart10(dataset));
  const frames = Number(dataset.find((e) => e.tag === Tag.NumberOfFrames)!.value);
  const segments = (dataset.find((e) => e.tag === Tag.SegmentSequence)!.value as WriteElement[][]).map((item) => String(item.find((e) => e.tag === Tag.SegmentLabel)!.value));
  return { frames, segments };
}

/**
 * Reads a BINARY SEG back as a labelmap on its source series' grid: each frame lands on the slice whose
 * SOPInstanceUID it references (else the slice at its ImagePositionPatient); segment n gets `labelOf(n)`.
 */
export async function readSegAsLabels(path: string, source: SeriesInfo, labelOf: (segmentNumber: number) => number = (n) => n): Promise<Volume<Uint8Array>> {
  const file = parseDicom(readFileSync(path), path);
  const ds = file.dataset;
  if (ds.string(Tag.SOPClassUID) !== SEG_SOP_CLASS) throw new HccError(`${path}: not a DICOM Segmentation (SOPClassUID ${ds.string(Tag.SOPClassUID) ?? 'missing'})`);
  const geometry = stackGeometry(source.slices, `series ${source.seriesUid}`);
  const ordered = geometry.order.map((i) => source.slices[i]);
  const bySop = new Map(ordered.map((s, k) => [s.sopInstanceUid, k]));
  const nx = source.columns!;
  const ny = source.rows!;
  const perSlice = nx * ny;
  const data = new Uint8Array(perSlice * ordered.length);
  const fmt = pixelFormat(ds);
  const a = geometry.affineLps;
  const dz = Math.hypot(a[2], a[6], a[10]);
  const frames = ds.sequence(Tag.PerFrameFunctionalGroupsSequence);
  for (let f = 0; f < fmt.frames; f++) {
    const item = frames[f];
    const sop = item?.sequence(Tag.DerivationImageSequence)[0]?.sequence(Tag.SourceImageSequence)[0]?.string(Tag.ReferencedSOPInstanceUID);
    let k = sop !== undefined ? bySop.get(sop) : undefined;
    if (k === undefined) {
      const p = item?.sequence(Tag.PlanePositionSequence)[0]?.numbers(Tag.ImagePositionPatient);
      if (p && p.length === 3) {
        const n = [a[2] / dz, a[6] / dz, a[10] / dz];
        const along = (p[0] - a[3]) * n[0] + (p[1] - a[7]) * n[1] + (p[2] - a[11]) * n[2];
        const guess = Math.round(along / dz);
        if (guess >= 0 && guess < ordered.length && Math.abs(along - guess * dz) < 0.01 * dz + 1e-3) k = guess;
      }
    }
    if (k === undefined) throw new HccError(`${path}: frame ${f + 1} matches no slice of series ${source.seriesUid}`);
    const segment = item?.sequence(Tag.SegmentIdentificationSequence)[0]?.uint16(Tag.ReferencedSegmentNumber) ?? 1;
    const label = labelOf(segment);
    const pixels = await decodeFrame(file, f, fmt);
    const base = k * perSlice;
    for (let i = 0; i < perSlice; i++) if (pixels[i]) data[base + i] = label;
  }
  return { data, shape: [nx, ny, ordered.length], spacing: spacingFromAffine(a), affine: lpsToRasAffine(a), meta: { modality: 'SEG', seriesUid: ds.string(Tag.SeriesInstanceUID), source: path } };
}
