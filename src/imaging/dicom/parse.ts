/**
 * DICOM Part 10 parser: explicit and implicit VR little endian, explicit VR big endian, deflated explicit VR
 * little endian; sequences and items of defined and undefined length; encapsulated pixel data (Basic Offset
 * Table and fragments). Values stay views into the file's bytes: parsing a 512x512 slice copies nothing.
 *
 * Implicit VR files carry no VR on disk. Rather than a full data dictionary, accessors are typed by the caller
 * (`uint16`, `numbers`, `string`, `sequence`), and a defined-length sequence is parsed into items only when
 * asked for: the caller knows which tags are sequences.
 */
import { inflateRawSync } from 'node:zlib';
import { HccError } from '../../util/errors.js';
import { formatTag, Tag } from './tags.js';

export const TransferSyntax = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLosslessP14: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
} as const;

/** VRs whose explicit-VR header has two reserved bytes and a 32-bit length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;

export interface Syntax {
  explicit: boolean;
  littleEndian: boolean;
}

export interface Element {
  tag: number;
  /** The VR as stored ('' in implicit VR files, where the caller decides). */
  vr: string;
  /** The value bytes (empty for sequences of undefined length and for encapsulated pixel data). */
  bytes: Uint8Array;
  /** Items, for sequences parsed while scanning (undefined length) or on first access. */
  items?: DataSet[];
  /** Encapsulated pixel data: the Basic Offset Table item (possibly empty) and the fragments. */
  offsetTable?: Uint8Array;
  fragments?: Uint8Array[];
}

/** Says which file a problem is in; every error names it. */
function fail(name: string, message: string): never {
  throw new HccError(`${name}: ${message}`);
}

export class DataSet {
  readonly elements = new Map<number, Element>();

  constructor(
    readonly syntax: Syntax,
    /** File name used in error messages. */
    readonly name: string,
  ) {}

  has(tag: number): boolean {
    return this.elements.has(tag);
  }

  get(tag: number): Element | undefined {
    return this.elements.get(tag);
  }

  /** Text value with trailing padding removed; undefined when absent or empty. */
  string(tag: number): string | undefined {
    const e = this.elements.get(tag);
    if (!e || e.bytes.length === 0) return undefined;
    const text = latin1(e.bytes).replace(/[\0 ]+$/, '').replace(/^ +/, '');
    return text.length > 0 ? text : undefined;
  }

  /** Multi-valued text split on backslashes. */
  strings(tag: number): string[] {
    const s = this.string(tag);
    return s === undefined ? [] : s.split('\\').map((v) => v.trim());
  }

  /**
   * Numbers from a DS/IS string, or from a binary US/SS/UL/SL/FL/FD value when the VR is known (explicit VR)
   * or given by the caller (implicit VR).
   */
  numbers(tag: number, binaryVr?: string): number[] {
    const e = this.elements.get(tag);
    if (!e || e.bytes.length === 0) return [];
    const vr = e.vr || binaryVr || 'DS';
    const size = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8 }[vr];
    if (size === undefined) {
      const values = this.strings(tag).map(Number);
      if (values.some((v) => !Number.isFinite(v))) fail(this.name, `${formatTag(tag)} holds '${this.string(tag)}', expected numbers`);
      return values;
    }
    const view = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
    const le = this.syntax.littleEndian;
    const out: number[] = [];
    for (let p = 0; p + size <= e.bytes.length; p += size) {
      if (vr === 'US') out.push(view.getUint16(p, le));
      else if (vr === 'SS') out.push(view.getInt16(p, le));
      else if (vr === 'UL') out.push(view.getUint32(p, le));
      else if (vr === 'SL') out.push(view.getInt32(p, le));
      else if (vr === 'FL') out.push(view.getFloat32(p, le));
      else out.push(view.getFloat64(p, le));
    }
    return out;
  }

  number(tag: number, binaryVr?: string): number | undefined {
    return this.numbers(tag, binaryVr)[0];
  }

  /** A US value (Rows, BitsAllocated, ...): binary in every syntax. */
  uint16(tag: number): number | undefined {
    return this.number(tag, 'US');
  }

  /** Items of a sequence; [] when absent. A defined-length sequence is parsed on first access. */
  sequence(tag: number): DataSet[] {
    const e = this.elements.get(tag);
    if (!e) return [];
    if (!e.items) e.items = parseItems(e.bytes, 0, e.bytes.length, this.syntax, this.name, false).items;
    return e.items;
  }
}

const decoder = new TextDecoder('latin1');
function latin1(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(pos: number, n: number, what: string): void {
    if (pos + n > this.bytes.length) throw new TruncatedError(this.name, pos, what);
  }
}

/** A read ran past the end of the bytes: a truncated file, or a header-only read that needs more bytes. */
export class TruncatedError extends HccError {
  constructor(name: string, readonly position: number, what: string) {
    super(`${name}: file is truncated (ends at or before byte ${position} while reading ${what}); expected a complete DICOM file`);
  }
}

interface ParseState {
  /** Stop before (7FE0,0010) when only the header is wanted. */
  stopAtPixelData: boolean;
  pixelDataOffset?: number;
}

function parseElements(r: Reader, pos: number, end: number, syntax: Syntax, into: DataSet, state: ParseState, inItem: boolean): number {
  const { view } = r;
  const le = syntax.littleEndian;
  while (pos < end) {
    r.need(pos, 8, 'an element header');
    const group = view.getUint16(pos, le);
    const elementNo = view.getUint16(pos + 2, le);
    const tag = ((group << 16) | elementNo) >>> 0;
    if (tag === ITEM_END && inItem) return pos + 8;
    if (tag === Tag.PixelData && state.stopAtPixelData) {
      state.pixelDataOffset = pos;
      return end;
    }
    let vr = '';
    let length: number;
    let headerSize: number;
    if (syntax.explicit && group !== 0xfffe) {
      vr = String.fromCharCode(r.bytes[pos + 4], r.bytes[pos + 5]);
      if (!/^[A-Z]{2}$/.test(vr)) fail(r.name, `invalid VR bytes at byte ${pos + 4} for tag ${formatTag(tag)}; the file is corrupt or not DICOM`);
      if (LONG_VRS.has(vr)) {
        r.need(pos, 12, `the header of ${formatTag(tag)}`);
        length = view.getUint32(pos + 8, le);
        headerSize = 12;
      } else {
        length = view.getUint16(pos + 6, le);
        headerSize = 8;
      }
    } else {
      length = view.getUint32(pos + 4, le);
      headerSize = 8;
    }
    pos += headerSize;
    if (length === UNDEFINED) {
      if (tag === Tag.PixelData) {
        const parsed = parseFragments(r, pos, syntax);
        into.elements.set(tag, { tag, vr, bytes: new Uint8Array(0), offsetTable: parsed.offsetTable, fragments: parsed.fragments });
        pos = parsed.end;
      } else {
        // SQ, or UN of undefined length, which PS3.5 6.2.2 says is implicit VR little endian inside.
        const itemSyntax = vr === 'UN' ? { explicit: false, littleEndian: true } : syntax;
        const parsed = parseItems(r.bytes, pos, r.bytes.length, itemSyntax, r.name, true, r);
        into.elements.set(tag, { tag, vr, bytes: new Uint8Array(0), items: parsed.items });
        pos = parsed.end;
      }
      continue;
    }
    r.need(pos, length, `the value of ${formatTag(tag)} (${length} bytes)`);
    into.elements.set(tag, { tag, vr, bytes: r.bytes.subarray(pos, pos + length) });
    pos += length;
  }
  return pos;
}

/** Items of a sequence from `pos`; with `undefinedLength` it stops at the sequence delimiter. */
function parseItems(bytes: Uint8Array, pos: number, end: number, syntax: Syntax, name: string, undefinedLength: boolean, reader?: Reader): { items: DataSet[]; end: number } {
  const r = reader ?? new Reader(bytes, name);
  const le = syntax.littleEndian;
  const items: DataSet[] = [];
  while (pos < end) {
    r.need(pos, 8, 'a sequence item header');
    const tag = ((r.view.getUint16(pos, le) << 16) | r.view.getUint16(pos + 2, le)) >>> 0;
    const length = r.view.getUint32(pos + 4, le);
    pos += 8;
    if (tag === SEQUENCE_END) return { items, end: pos };
    if (tag !== ITEM) fail(name, `expected a sequence item (FFFE,E000) at byte ${pos - 8}, found ${formatTag(tag)}`);
    const item = new DataSet(syntax, name);
    const state: ParseState = { stopAtPixelData: false };
    if (length === UNDEFINED) {
      pos = parseElements(r, pos, bytes.length, syntax, item, state, true);
    } else {
      r.need(pos, length, 'a sequence item');
      parseElements(r, pos, pos + length, syntax, item, state, false);
      pos += length;
    }
    items.push(item);
  }
  if (undefinedLength) throw new TruncatedError(name, pos, 'a sequence without its end marker');
  return { items, end: pos };
}

function parseFragments(r: Reader, pos: number, syntax: Syntax): { offsetTable: Uint8Array; fragments: Uint8Array[]; end: number } {
  const le = syntax.littleEndian;
  const items: Uint8Array[] = [];
  for (;;) {
    r.need(pos, 8, 'an encapsulated pixel data item');
    const tag = ((r.view.getUint16(pos, le) << 16) | r.view.getUint16(pos + 2, le)) >>> 0;
    const length = r.view.getUint32(pos + 4, le);
    pos += 8;
    if (tag === SEQUENCE_END) break;
    if (tag !== ITEM) fail(r.name, `expected a pixel data fragment (FFFE,E000) at byte ${pos - 8}, found ${formatTag(tag)}`);
    r.need(pos, length, 'a pixel data fragment');
    items.push(r.bytes.subarray(pos, pos + length));
    pos += length;
  }
  if (items.length === 0) fail(r.name, 'encapsulated pixel data has no Basic Offset Table item');
  return { offsetTable: items[0], fragments: items.slice(1), end: pos };
}

export interface ParsedFile {
  /** File meta information (group 0002). */
  meta: DataSet;
  dataset: DataSet;
  transferSyntax: string;
  /** Set when parsing stopped before the pixel data (header-only reads). */
  pixelDataOffset?: number;
}

export function syntaxOf(transferSyntax: string): Syntax {
  if (transferSyntax === TransferSyntax.implicitLittle) return { explicit: false, littleEndian: true };
  if (transferSyntax === TransferSyntax.explicitBig) return { explicit: true, littleEndian: false };
  return { explicit: true, littleEndian: true };
}

/** True when the bytes start with the Part 10 preamble and 'DICM' magic. */
export function hasDicmMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

export class NotDicomError extends HccError {
  constructor(name: string) {
    super(`${name}: not a DICOM file (no 'DICM' marker at byte 128)`);
  }
}

/**
 * Parses a Part 10 file. Files without the 128-byte preamble are accepted when they start with a group 0002 or
 * 0008 tag (old exports do that); anything else is NotDicomError.
 */
export function parseDicom(bytes: Uint8Array, name: string, options: { stopAtPixelData?: boolean } = {}): ParsedFile {
  // A Node Buffer's slice() is a view; a plain Uint8Array's is a copy, which pixel decoding relies on.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos: number;
  if (hasDicmMagic(bytes)) pos = 132;
  else if (bytes.length >= 8 && bytes[1] === 0 && (bytes[0] === 2 || bytes[0] === 8) && bytes[3] < 0x20) pos = 0;
  else throw new NotDicomError(name);
  const r = new Reader(bytes, name);
  const metaSyntax: Syntax = { explicit: true, littleEndian: true };
  const meta = new DataSet(metaSyntax, name);
  // Group 0002 is always explicit VR little endian; read it element by element until the group changes.
  let metaEnd = pos;
  while (metaEnd + 8 <= bytes.length && r.view.getUint16(metaEnd, true) === 0x0002) {
    const state: ParseState = { stopAtPixelData: false };
    const vr = String.fromCharCode(bytes[metaEnd + 4], bytes[metaEnd + 5]);
    const len = LONG_VRS.has(vr) ? 12 + (r.need(metaEnd, 12, 'the file meta header'), r.view.getUint32(metaEnd + 8, true)) : 8 + r.view.getUint16(metaEnd + 6, true);
    r.need(metaEnd, len, 'the file meta header');
    parseElements(r, metaEnd, metaEnd + len, metaSyntax, meta, state, false);
    metaEnd += len;
  }
  let transferSyntax = meta.string(Tag.TransferSyntaxUID);
  let body = bytes;
  let bodyStart = metaEnd;
  if (transferSyntax === undefined) {
    // No meta header: guess implicit vs explicit little endian from the first element's VR bytes.
    const vr = String.fromCharCode(bytes[metaEnd + 4] ?? 0, bytes[metaEnd + 5] ?? 0);
    transferSyntax = /^[A-Z]{2}$/.test(vr) ? TransferSyntax.explicitLittle : TransferSyntax.implicitLittle;
  }
  if (transferSyntax === TransferSyntax.deflatedExplicitLittle) {
    try {
      body = new Uint8Array(inflateRawSync(bytes.subarray(metaEnd)));
    } catch (err) {
      fail(name, `deflated data set does not inflate (${(err as Error).message}); the file is truncated or corrupt`);
    }
    bodyStart = 0;
  }
  const syntax = syntaxOf(transferSyntax);
  const dataset = new DataSet(syntax, name);
  const state: ParseState = { stopAtPixelData: options.stopAtPixelData ?? false };
  parseElements(new Reader(body, name), bodyStart, body.length, syntax, dataset, state, false);
  return { meta, dataset, transferSyntax, pixelDataOffset: state.pixelDataOffset };
}
