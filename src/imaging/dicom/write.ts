/**
 * DICOM Part 10 writer: explicit VR little endian, defined lengths everywhere. Data sets are plain lists of
 * elements (tag, VR, value); items of a sequence are lists too, so outputs are built as literals and are easy
 * to transform (de-identification) before encoding.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { type DataSet, TransferSyntax } from './parse.js';
import { Tag } from './tags.js';

/** Encapsulated (compressed) pixel data: one fragment per frame, an empty Basic Offset Table. */
export interface Encapsulated {
  frames: Uint8Array[];
}

export type WriteValue = string | number | Array<string | number> | Uint8Array | WriteElement[][] | Encapsulated;

export interface WriteElement {
  tag: number;
  vr: string;
  value: WriteValue;
}

export function el(tag: number, vr: string, value: WriteValue): WriteElement {
  return { tag, vr, value };
}

/**
 * A UID under the 2.25 arc (ISO/IEC 9834-8: a 128-bit number, no registered root needed), taken from a hash of
 * the parts: the same inputs give the same UID, which keeps outputs reproducible.
 */
export function hashedUid(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest();
  let n = 0n;
  for (const byte of digest.subarray(0, 16)) n = (n << 8n) | BigInt(byte);
  return `2.25.${n}`;
}

/** Implementation identity written in every file's meta header (a UID under the 2.25 UUID arc). */
export const IMPLEMENTATION_CLASS_UID = '2.25.91841727150358307347813327385283049472';
const IMPLEMENTATION_VERSION = 'HCC-IAT 0.1';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const BINARY_SIZES: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4 };

/** A decimal string of at most 16 characters (the DS limit), as precise as fits. */
export function formatDS(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  for (let digits = 16; digits > 1; digits--) {
    const s = String(Number(v.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return v.toExponential(8);
}

function encodeValue(e: WriteElement): Uint8Array {
  const { vr, value } = e;
  if (vr === 'SQ') {
    const items = (value as WriteElement[][]).map((item) => {
      const body = encodeElements(item);
      const header = new Uint8Array(8);
      const v = new DataView(header.buffer);
      v.setUint16(0, 0xfffe, true);
      v.setUint16(2, 0xe000, true);
      v.setUint32(4, body.length, true);
      return concat([header, body]);
    });
    return concat(items);
  }
  if (value instanceof Uint8Array) return value.length % 2 ? concat([value, new Uint8Array(1)]) : value;
  if (isEncapsulated(value)) {
    const item = (tag: number, body: Uint8Array) => {
      const header = new Uint8Array(8);
      const v = new DataView(header.buffer);
      v.setUint16(0, 0xfffe, true);
      v.setUint16(2, tag, true);
      v.setUint32(4, body.length, true);
      return concat([header, body]);
    };
    const even = (f: Uint8Array) => (f.length % 2 ? concat([f, new Uint8Array(1)]) : f);
    return concat([item(0xe000, new Uint8Array(0)), ...value.frames.map((f) => item(0xe000, even(f))), item(0xe0dd, new Uint8Array(0))]);
  }
  const values = Array.isArray(value) ? (value as Array<string | number>) : [value as string | number];
  const size = BINARY_SIZES[vr];
  if (size !== undefined) {
    const out = new Uint8Array(size * values.length);
    const v = new DataView(out.buffer);
    values.forEach((x, i) => {
      const n = Number(x);
      const p = i * size;
      if (vr === 'US') v.setUint16(p, n, true);
      else if (vr === 'SS') v.setInt16(p, n, true);
      else if (vr === 'UL') v.setUint32(p, n, true);
      else if (vr === 'SL') v.setInt32(p, n, true);
      else if (vr === 'FL') v.setFloat32(p, n, true);
      else if (vr === 'FD') v.setFloat64(p, n, true);
      else {
        // AT: a tag as group then element.
        v.setUint16(p, n >>> 16, true);
        v.setUint16(p + 2, n & 0xffff, true);
      }
    });
    return out;
  }
  const text = values.map((x) => (typeof x === 'number' ? (vr === 'DS' ? formatDS(x) : String(Math.round(x))) : x)).join('\\');
  const bytes = new TextEncoder().encode(text);
  if (bytes.length % 2 === 0) return bytes;
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes);
  padded[bytes.length] = vr === 'UI' ? 0 : 0x20;
  return padded;
}

function isEncapsulated(value: WriteValue): value is Encapsulated {
  return typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Elements in ascending tag order, explicit VR little endian. */
export function encodeElements(elements: WriteElement[]): Uint8Array {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const parts: Uint8Array[] = [];
  for (const e of sorted) {
    const value = encodeValue(e);
    const long = LONG_VRS.has(e.vr);
    const header = new Uint8Array(long ? 12 : 8);
    const v = new DataView(header.buffer);
    v.setUint16(0, e.tag >>> 16, true);
    v.setUint16(2, e.tag & 0xffff, true);
    header[4] = e.vr.charCodeAt(0);
    header[5] = e.vr.charCodeAt(1);
    if (long) v.setUint32(8, isEncapsulated(e.value) ? 0xffffffff : value.length, true);
    else {
      if (value.length > 0xffff) throw new Error(`DICOM writer: value of ${e.vr} element ${e.tag.toString(16)} is ${value.length} bytes, over the 64 KiB limit of its VR`);
      v.setUint16(6, value.length, true);
    }
    parts.push(header, value);
  }
  return concat(parts);
}

/**
 * A complete Part 10 file: preamble, 'DICM', file meta group, data set. The data set is explicit VR little
 * endian, deflated when that syntax is asked for; a compressed syntax must come with Encapsulated pixel data.
 */
export function encodePart10(dataset: WriteElement[], transferSyntax: string = TransferSyntax.explicitLittle): Uint8Array {
  const find = (tag: number) => dataset.find((e) => e.tag === tag)?.value as string | undefined;
  const sopClass = find(Tag.SOPClassUID);
  const sopInstance = find(Tag.SOPInstanceUID);
  if (!sopClass || !sopInstance) throw new Error('DICOM writer: SOPClassUID and SOPInstanceUID are required');
  const metaBody = encodeElements([
    el(Tag.FileMetaInformationVersion, 'OB', new Uint8Array([0, 1])),
    el(Tag.MediaStorageSOPClassUID, 'UI', sopClass),
    el(Tag.MediaStorageSOPInstanceUID, 'UI', sopInstance),
    el(Tag.TransferSyntaxUID, 'UI', transferSyntax),
    el(Tag.ImplementationClassUID, 'UI', IMPLEMENTATION_CLASS_UID),
    el(0x00020013, 'SH', IMPLEMENTATION_VERSION),
  ]);
  const groupLength = encodeElements([el(Tag.FileMetaInformationGroupLength, 'UL', metaBody.length)]);
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  const body = encodeElements(dataset);
  return concat([preamble, groupLength, metaBody, transferSyntax === TransferSyntax.deflatedExplicitLittle ? deflateRawSync(body) : body]);
}

/**
 * A parsed data set back into writable elements, to modify and re-encode (test studies, de-identified copies).
 * Needs explicit VRs and native (not encapsulated) pixel data; big-endian values are not byte-swapped.
 */
export function toWriteElements(ds: DataSet): WriteElement[] {
  if (!ds.syntax.explicit || !ds.syntax.littleEndian) throw new Error(`${ds.name}: only explicit VR little endian data sets can be re-encoded`);
  return [...ds.elements.values()].map((e) => {
    if (e.fragments) throw new Error(`${ds.name}: encapsulated (compressed) pixel data cannot be re-encoded`);
    if (e.vr === 'SQ' || e.items) return el(e.tag, 'SQ', ds.sequence(e.tag).map(toWriteElements));
    return el(e.tag, e.vr, e.bytes);
  });
}
