import { crc32 } from 'node:zlib';
import { inflateRawSync } from 'node:zlib';

/**
 * The subset of the zip format that PyTorch's archives use: stored (uncompressed) entries, ZIP64 for large
 * files, data aligned to 64 bytes by padding the local header's extra field (as PyTorch's writer does, so a
 * reader can map storages in place). Deflated entries are read too, in case someone re-zipped a checkpoint.
 */

export interface ZipEntry {
  name: string;
  /** Uncompressed bytes (a view into the archive for stored entries). */
  data: Uint8Array;
}

/** Thrown for anything structurally wrong; the caller adds the file name. */
export class ZipFormatError extends Error {}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function u64(view: DataView, offset: number): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('a ZIP64 size is beyond 2^53');
  return Number(value);
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Reads every entry of an archive, checking each entry's CRC-32 so that corruption is reported, not loaded. */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('no zip end-of-central-directory record (the file is truncated or not a zip archive)');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR_SIGNATURE) {
      throw new ZipFormatError('ZIP64 locator missing');
    }
    const z64 = u64(view, locator + 8);
    if (z64 + 56 > bytes.length || view.getUint32(z64, true) !== ZIP64_EOCD_SIGNATURE) {
      throw new ZipFormatError('ZIP64 end-of-central-directory record missing');
    }
    count = u64(view, z64 + 32);
    cdSize = u64(view, z64 + 40);
    cdOffset = u64(view, z64 + 48);
  }
  if (cdOffset + cdSize > bytes.length) throw new ZipFormatError('the central directory lies beyond the end of the file (truncated)');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new ZipFormatError(`central directory entry ${n} is damaged`);
    }
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = u64(view, q); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = u64(view, q); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = u64(view, q); q += 8; }
      }
      e += 4 + len;
    }
    p = extraEnd + commentLength;

    if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== LOCAL_SIGNATURE) {
      throw new ZipFormatError(`local header of entry '${name}' is damaged`);
    }
    const start = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (start + compressedSize > bytes.length) throw new ZipFormatError(`entry '${name}' runs past the end of the file (truncated)`);
    const raw = bytes.subarray(start, start + compressedSize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) data = new Uint8Array(inflateRawSync(raw));
    else throw new ZipFormatError(`entry '${name}' uses zip compression method ${method}; only stored and deflate are supported`);
    if (data.length !== size) throw new ZipFormatError(`entry '${name}' has ${data.length} bytes, expected ${size}`);
    if (crc32(data) >>> 0 !== crc) throw new ZipFormatError(`entry '${name}' fails its CRC-32 check (the file is corrupt)`);
    entries.push({ name, data });
  }
  return entries;
}

/** Local header field that PyTorch uses to pad data to an alignment boundary ('FB'). */
const PADDING_EXTRA_ID = 0x4246;
const ALIGNMENT = 64;

/**
 * Writes stored entries with data aligned to 64 bytes, as torch.save does. Sizes stay below 4 GiB (no ZIP64
 * writing): a larger checkpoint gets a clear error rather than a file Python cannot open.
 */
export function writeZip(entries: ZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (chunk: Uint8Array): void => {
    chunks.push(chunk);
    offset += chunk.length;
  };
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const crc = crc32(entry.data) >>> 0;
    const headerEnd = offset + 30 + name.length + 4;
    const padding = (ALIGNMENT - (headerEnd % ALIGNMENT)) % ALIGNMENT;
    const extraLength = 4 + padding;
    const local = new Uint8Array(30 + name.length + extraLength);
    const lv = new DataView(local.buffer);
    const localOffset = offset;
    if (localOffset > 0xfffffffe || entry.data.length > 0xfffffffe) {
      throw new ZipFormatError('archives over 4 GiB are not supported by this writer');
    }
    lv.setUint32(0, LOCAL_SIGNATURE, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, 0, true); // flags
    lv.setUint16(8, 0, true); // stored
    lv.setUint32(10, 0, true); // time, date
    lv.setUint32(14, crc, true);
    lv.setUint32(18, entry.data.length, true);
    lv.setUint32(22, entry.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLength, true);
    local.set(name, 30);
    lv.setUint16(30 + name.length, PADDING_EXTRA_ID, true);
    lv.setUint16(32 + name.length, padding, true);
    push(local);
    push(entry.data);

    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, CENTRAL_SIGNATURE, true);
    cv.setUint16(4, 20, true); // version made by
    cv.setUint16(6, 20, true); // version needed
    cv.setUint32(16, crc, true);
    cv.setUint32(20, entry.data.length, true);
    cv.setUint32(24, entry.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, localOffset, true);
    cd.set(name, 46);
    central.push(cd);
  }
  const cdOffset = offset;
  for (const cd of central) push(cd);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, EOCD_SIGNATURE, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, offset - cdOffset, true);
  ev.setUint32(16, cdOffset, true);
  push(eocd);
  if (offset > 0xffffffff) throw new ZipFormatError('archives over 4 GiB are not supported by this writer');
  const out = new Uint8Array(offset);
  let q = 0;
  for (const chunk of chunks) {
    out.set(chunk, q);
    q += chunk.length;
  }
  return out;
}
