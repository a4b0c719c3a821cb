/**
 * Makes the large DICOM benchmark inputs from the real TotalSegmentator CT (shared data, 20 slices 512x512):
 * the volume upsampled along z to 140 slices (linear, plus deterministic noise so compression behaves as on a
 * real CT), written as a 140-slice series twice: uncompressed (explicit VR little endian) and JPEG 2000
 * lossless (OpenJPEG's encoder from the same npm package as our decoder).
 *
 * Rerun: npx tsc -p tsconfig.json && node dist/bench/imaging/make-dicom-series.js [/tmp/hcc-bench]
 * Writes <out>/dicom_unc_140/ (about 70 MB) and <out>/dicom_j2k_140/.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseDicom, TransferSyntax } from '../../src/imaging/dicom/parse.js';
import { chooseSeries, discoverSeries, readSeries } from '../../src/imaging/dicom/series.js';
import { Tag } from '../../src/imaging/dicom/tags.js';
import { el, encodePart10, hashedUid, toWriteElements, type WriteElement } from '../../src/imaging/dicom/write.js';
import { Rng } from '../../src/util/rng.js';
import { shared } from '../../test/helpers.js';

export const SLICES = 140;

interface J2KEncoder {
  getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean; isUsingColorTransform: boolean }): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  encode(): void;
  delete(): void;
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? '/tmp/hcc-bench';
  const srcDir = shared('data', 'dicom', 'totalseg_ct_j2k');
  const found = discoverSeries(srcDir);
  const series = chooseSeries(found, srcDir);
  const ct = await readSeries(series);
  const [nx, ny, nz] = ct.shape;
  const perSlice = nx * ny;
  const template = parseDicom(readFileSync(series.files[0]), series.files[0], { stopAtPixelData: true }).dataset;
  // Per-slice and pixel attributes are rewritten below; the rest of the header is the real scanner's.
  const drop = new Set<number>([Tag.PixelData, Tag.SOPInstanceUID, Tag.SeriesInstanceUID, Tag.ImagePositionPatient, Tag.InstanceNumber, Tag.BitsStored, Tag.HighBit, Tag.PixelRepresentation, Tag.RescaleIntercept, Tag.RescaleSlope, Tag.SliceThickness]);
  const base = toWriteElements(template).filter((e) => e.tag >>> 16 !== 2 && !drop.has(e.tag));
  const a = [-ct.affine[0], -ct.affine[1], -ct.affine[2], -ct.affine[3], -ct.affine[4], -ct.affine[5], -ct.affine[6], -ct.affine[7], ...ct.affine.slice(8)];
  const dz = ((nz - 1) * ct.spacing[2]) / (SLICES - 1);
  const rng = Rng.stream(7, 'bench', 'dicom-series');
  const require = createRequire(import.meta.url);
  const openjpeg = await (require('@cornerstonejs/codec-openjpeg/wasmjs') as (o: object) => Promise<{ J2KEncoder: new () => J2KEncoder }>)({ print() {}, printErr() {} });
  for (const kind of ['unc', 'j2k']) rmSync(join(out, `dicom_${kind}_${SLICES}`), { recursive: true, force: true });
  for (const kind of ['unc', 'j2k']) mkdirSync(join(out, `dicom_${kind}_${SLICES}`), { recursive: true });
  const stored = new Uint16Array(perSlice);
  for (let k = 0; k < SLICES; k++) {
    const z = (k * (nz - 1)) / (SLICES - 1);
    const k0 = Math.min(nz - 2, Math.floor(z));
    const w = z - k0;
    for (let i = 0; i < perSlice; i++) {
      const hu = (1 - w) * ct.data[k0 * perSlice + i] + w * ct.data[(k0 + 1) * perSlice + i] + 4 * rng.normal();
      stored[i] = Math.max(0, Math.min(4095, Math.round(hu + 1024)));
    }
    // The source is axial (slice axis along +z), so slices step along z only.
    const position = [a[3], a[7], a[11] + dz * k];
    const slice = (uidKind: string, pixels: WriteElement): WriteElement[] => [
      ...base,
      el(Tag.SeriesInstanceUID, 'UI', hashedUid('bench-series', uidKind)),
      el(Tag.SOPInstanceUID, 'UI', hashedUid('bench-instance', uidKind, String(k))),
      el(Tag.ImagePositionPatient, 'DS', position),
      el(Tag.InstanceNumber, 'IS', k + 1),
      el(Tag.SliceThickness, 'DS', 1),
      el(Tag.BitsStored, 'US', 12),
      el(Tag.HighBit, 'US', 11),
      el(Tag.PixelRepresentation, 'US', 0),
      el(Tag.RescaleIntercept, 'DS', -1024),
      el(Tag.RescaleSlope, 'DS', 1),
      pixels,
    ];
    const name = `IM${String(k).padStart(4, '0')}.dcm`;
    writeFileSync(join(out, `dicom_unc_${SLICES}`, name), encodePart10(slice('unc', el(Tag.PixelData, 'OW', new Uint8Array(stored.buffer.slice(0))))));
    const encoder = new openjpeg.J2KEncoder();
    encoder.getDecodedBuffer({ width: nx, height: ny, bitsPerSample: 16, componentCount: 1, isSigned: false, isUsingColorTransform: false }).set(new Uint8Array(stored.buffer));
    encoder.encode();
    const j2k = encoder.getEncodedBuffer().slice();
    encoder.delete();
    writeFileSync(join(out, `dicom_j2k_${SLICES}`, name), encodePart10(slice('j2k', el(Tag.PixelData, 'OB', { frames: [j2k] })), TransferSyntax.jpeg2000Lossless));
  }
  process.stdout.write(`wrote ${SLICES} slices ${nx}x${ny} to ${join(out, `dicom_unc_${SLICES}`)} and ${join(out, `dicom_j2k_${SLICES}`)}\n`);
}

await main();
