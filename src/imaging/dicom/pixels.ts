/**
 * Pixel data to stored values, frame by frame, for every transfer syntax hcc-iat reads. The result is the
 * stored value of each sample (before RescaleSlope/Intercept) in a typed array matching BitsAllocated and
 * PixelRepresentation, with signed values sign-extended from BitsStored.
 */
import { HccError } from '../../util/errors.js';
import { decodeJpegDct } from './codecs/jpeg-dct.js';
import { decodeJpegLossless } from './codecs/jpeg-lossless.js';
import { decodeRle } from './codecs/rle.js';
import type { DecodePool } from './codecs/pool.js';
import { decodeJpeg2000, decodeJpegLs } from './codecs/wasm.js';
import { type DataSet, type ParsedFile, TransferSyntax } from './parse.js';
import { Tag } from './tags.js';

export type StoredFrame = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface PixelFormat {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  photometric: string;
  planarConfiguration: number;
  frames: number;
}

const SYNTAX_NAMES: Record<string, string> = {
  [TransferSyntax.implicitLittle]: 'implicit VR little endian',
  [TransferSyntax.explicitLittle]: 'explicit VR little endian',
  [TransferSyntax.deflatedExplicitLittle]: 'deflated explicit VR little endian',
  [TransferSyntax.explicitBig]: 'explicit VR big endian',
  [TransferSyntax.rle]: 'RLE lossless',
  [TransferSyntax.jpegBaseline]: 'JPEG baseline (lossy)',
  [TransferSyntax.jpegExtended]: 'JPEG extended 12-bit (lossy)',
  [TransferSyntax.jpegLosslessP14]: 'JPEG lossless (process 14)',
  [TransferSyntax.jpegLosslessSV1]: 'JPEG lossless (process 14, SV1)',
  [TransferSyntax.jpegLsLossless]: 'JPEG-LS lossless',
  [TransferSyntax.jpegLsNearLossless]: 'JPEG-LS near-lossless',
  [TransferSyntax.jpeg2000Lossless]: 'JPEG 2000 lossless',
  [TransferSyntax.jpeg2000]: 'JPEG 2000',
};

/** Transfer syntaxes whose pixel data this module decodes, with a readable name for each. */
export function transferSyntaxName(uid: string): string | undefined {
  return SYNTAX_NAMES[uid];
}

export function isLossySyntax(uid: string): boolean {
  return uid === TransferSyntax.jpegBaseline || uid === TransferSyntax.jpegExtended || uid === TransferSyntax.jpeg2000 || uid === TransferSyntax.jpegLsNearLossless;
}

export function pixelFormat(ds: DataSet): PixelFormat {
  const need = (tag: number, field: string): number => {
    const v = ds.uint16(tag);
    if (v === undefined) throw new HccError(`${ds.name}: ${field} is missing; expected it in an image`);
    return v;
  };
  const bitsAllocated = need(Tag.BitsAllocated, 'BitsAllocated (0028,0100)');
  return {
    rows: need(Tag.Rows, 'Rows (0028,0010)'),
    columns: need(Tag.Columns, 'Columns (0028,0011)'),
    samplesPerPixel: ds.uint16(Tag.SamplesPerPixel) ?? 1,
    bitsAllocated,
    bitsStored: ds.uint16(Tag.BitsStored) ?? bitsAllocated,
    signed: (ds.uint16(Tag.PixelRepresentation) ?? 0) === 1,
    photometric: ds.string(Tag.PhotometricInterpretation) ?? 'MONOCHROME2',
    planarConfiguration: ds.uint16(Tag.PlanarConfiguration) ?? 0,
    frames: Math.max(1, ds.number(Tag.NumberOfFrames, 'IS') ?? 1),
  };
}

/** The encapsulated bytes of one frame: fragments grouped by the Basic Offset Table or by codestream starts. */
function encapsulatedFrame(file: ParsedFile, index: number, frames: number): Uint8Array {
  const el = file.dataset.get(Tag.PixelData)!;
  const fragments = el.fragments!;
  let chosen: Uint8Array[];
  if (frames === 1) chosen = fragments;
  else if (el.offsetTable!.length >= 4 * frames) {
    const bot = el.offsetTable!;
    const view = new DataView(bot.buffer, bot.byteOffset, bot.byteLength);
    const starts: number[] = [];
    let offset = 0;
    for (const f of fragments) {
      starts.push(offset);
      offset += 8 + f.length;
    }
    const from = view.getUint32(4 * index, true);
    const to = index + 1 < frames ? view.getUint32(4 * (index + 1), true) : Infinity;
    chosen = fragments.filter((_, k) => starts[k] >= from && starts[k] < to);
  } else if (fragments.length === frames) chosen = [fragments[index]];
  else {
    const isStart = (f: Uint8Array) => f.length >= 2 && f[0] === 0xff && (f[1] === 0xd8 || f[1] === 0x4f);
    const groups: Uint8Array[][] = [];
    for (const f of fragments) {
      if (groups.length === 0 || isStart(f)) groups.push([f]);
      else groups[groups.length - 1].push(f);
    }
    if (groups.length !== frames) throw new HccError(`${file.dataset.name}: ${frames} frames but ${groups.length} frames found in the encapsulated pixel data`);
    chosen = groups[index];
  }
  if (chosen.length === 0) throw new HccError(`${file.dataset.name}: frame ${index + 1} has no pixel data fragments`);
  if (chosen.length === 1) return chosen[0];
  const total = chosen.reduce((n, f) => n + f.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const f of chosen) {
    out.set(f, p);
    p += f.length;
  }
  return out;
}

/** Little-endian sample bytes to a typed array of the right width and signedness (copying for alignment). */
function typed(bytes: Uint8Array, fmt: PixelFormat, littleEndian: boolean): StoredFrame {
  const n = fmt.rows * fmt.columns * fmt.samplesPerPixel;
  const width = fmt.bitsAllocated <= 8 ? 1 : fmt.bitsAllocated <= 16 ? 2 : 4;
  if (bytes.length < n * width) throw new Error(`frame holds ${bytes.length} bytes, expected ${n * width}`);
  // A view when the bytes are aligned and already little endian (the usual case: no copy); a copy otherwise.
  const aligned = littleEndian && bytes.byteOffset % width === 0;
  const copy = aligned ? bytes.subarray(0, n * width) : bytes.slice(0, n * width);
  if (!littleEndian && width > 1) {
    for (let i = 0; i < copy.length; i += width) copy.subarray(i, i + width).reverse();
  }
  const [buf, at] = [copy.buffer, copy.byteOffset];
  const out: StoredFrame = width === 1 ? (fmt.signed ? new Int8Array(buf, at, n) : copy) : width === 2 ? (fmt.signed ? new Int16Array(buf, at, n) : new Uint16Array(buf, at, n)) : fmt.signed ? new Int32Array(buf, at, n) : new Uint32Array(buf, at, n);
  if (fmt.signed && fmt.bitsStored < 8 * width) {
    const shift = 32 - fmt.bitsStored;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] << shift) >> shift;
  }
  return out;
}

/** Codec output samples (any width) into the frame's typed array. */
function fromSamples(samples: ArrayLike<number>, fmt: PixelFormat): StoredFrame {
  const n = fmt.rows * fmt.columns * fmt.samplesPerPixel;
  const width = fmt.bitsAllocated <= 8 ? 1 : fmt.bitsAllocated <= 16 ? 2 : 4;
  const out: StoredFrame = width === 1 ? (fmt.signed ? new Int8Array(n) : new Uint8Array(n)) : width === 2 ? (fmt.signed ? new Int16Array(n) : new Uint16Array(n)) : fmt.signed ? new Int32Array(n) : new Uint32Array(n);
  const shift = 32 - fmt.bitsStored;
  for (let i = 0; i < n; i++) out[i] = fmt.signed ? (samples[i] << shift) >> shift : samples[i];
  return out;
}

function unpackBits(bytes: Uint8Array, fmt: PixelFormat, index: number): Uint8Array {
  const n = fmt.rows * fmt.columns * fmt.samplesPerPixel;
  const first = index * n;
  if (bytes.length * 8 < first + n) throw new Error(`1-bit pixel data holds ${bytes.length} bytes, too few for frame ${index + 1}`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bit = first + i;
    out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}

async function decode(file: ParsedFile, fmt: PixelFormat, index: number, pool?: DecodePool): Promise<StoredFrame> {
  const ts = file.transferSyntax;
  const el = file.dataset.get(Tag.PixelData)!;
  if (!el.fragments) {
    if (fmt.bitsAllocated === 1) return unpackBits(el.bytes, fmt, index);
    const frameBytes = (fmt.rows * fmt.columns * fmt.samplesPerPixel * fmt.bitsAllocated) / 8;
    return typed(el.bytes.subarray(index * frameBytes, (index + 1) * frameBytes), fmt, file.dataset.syntax.littleEndian);
  }
  const frame = encapsulatedFrame(file, index, fmt.frames);
  const pixels = fmt.rows * fmt.columns;
  switch (ts) {
    case TransferSyntax.rle:
      return typed(decodeRle(frame, pixels, Math.ceil(fmt.bitsAllocated / 8), fmt.samplesPerPixel), { ...fmt, samplesPerPixel: fmt.samplesPerPixel }, true);
    case TransferSyntax.jpegLosslessP14:
    case TransferSyntax.jpegLosslessSV1:
    case TransferSyntax.jpegBaseline:
    case TransferSyntax.jpegExtended: {
      const lossless = ts === TransferSyntax.jpegLosslessP14 || ts === TransferSyntax.jpegLosslessSV1;
      const image = lossless ? decodeJpegLossless(frame) : decodeJpegDct(frame);
      if (image.width !== fmt.columns || image.height !== fmt.rows) throw new Error(`JPEG frame is ${image.width}x${image.height}, the header says ${fmt.columns}x${fmt.rows}`);
      return fromSamples(image.data, fmt);
    }
    case TransferSyntax.jpegLsLossless:
    case TransferSyntax.jpegLsNearLossless:
    case TransferSyntax.jpeg2000Lossless:
    case TransferSyntax.jpeg2000: {
      const isJ2k = ts === TransferSyntax.jpeg2000Lossless || ts === TransferSyntax.jpeg2000;
      const { info, bytes } = await (pool ? pool.decode(isJ2k ? 'j2k' : 'jls', frame) : isJ2k ? decodeJpeg2000(frame) : decodeJpegLs(frame));
      if (info.width !== fmt.columns || info.height !== fmt.rows) throw new Error(`codestream is ${info.width}x${info.height}, the header says ${fmt.columns}x${fmt.rows}`);
      // `bytes` is a fresh copy, so its buffer is aligned for 16-bit views.
      const n = pixels * info.componentCount;
      const wide = info.bitsPerSample > 8;
      const samples = wide ? (info.isSigned ? new Int16Array(bytes.buffer, 0, n) : new Uint16Array(bytes.buffer, 0, n)) : info.isSigned ? new Int8Array(bytes.buffer, 0, n) : bytes;
      return fromSamples(samples, fmt);
    }
  }
  throw new HccError(`${file.dataset.name}: transfer syntax ${ts} is not supported; expected one of ${Object.keys(SYNTAX_NAMES).join(', ')}`);
}

/** True for the syntaxes whose frames DecodePool can decode on worker threads. */
export function usesCodecPool(transferSyntax: string): boolean {
  return transferSyntax === TransferSyntax.jpeg2000Lossless || transferSyntax === TransferSyntax.jpeg2000 || transferSyntax === TransferSyntax.jpegLsLossless || transferSyntax === TransferSyntax.jpegLsNearLossless;
}

/**
 * Decodes frame `index` (0-based) of a fully parsed file. Errors name the file and the transfer syntax. With a
 * pool, JPEG 2000 and JPEG-LS frames decode on its worker threads.
 */
export async function decodeFrame(file: ParsedFile, index = 0, fmt: PixelFormat = pixelFormat(file.dataset), pool?: DecodePool): Promise<StoredFrame> {
  const name = file.dataset.name;
  if (!file.dataset.has(Tag.PixelData)) throw new HccError(`${name}: not an image (no Pixel Data element (7FE0,0010)); expected a DICOM image`);
  if (index < 0 || index >= fmt.frames) throw new HccError(`${name}: frame ${index + 1} requested, the file has ${fmt.frames}`);
  if (!(file.transferSyntax in SYNTAX_NAMES)) throw new HccError(`${name}: transfer syntax ${file.transferSyntax} is not supported; expected one of: ${Object.values(SYNTAX_NAMES).join(', ')}`);
  try {
    return await decode(file, fmt, index, pool);
  } catch (err) {
    if (err instanceof HccError) throw err;
    throw new HccError(`${name}: cannot decode ${SYNTAX_NAMES[file.transferSyntax]} pixel data: ${(err as Error).message}`, { cause: err });
  }
}
