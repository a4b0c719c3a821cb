import { HccError } from '../../util/errors.js';
import type { Affine, VoxelType } from '../volume.js';
import { affineToQform, qformToAffine, type Qform } from './qform.js';

/**
 * NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers, both byte orders, decoded into one shape. Field names follow
 * nifti1.h / nifti2.h. Only what an image reader and writer need is kept; the rest is written as zeros.
 */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[1..dim[0]]. */
  dims: number[];
  datatype: number;
  bitpix: number;
  /** pixdim[0..7]; pixdim[0] is qfac. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  xyztUnits: number;
  intentCode: number;
  descrip: string;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** srow_x, srow_y, srow_z: the first three rows of the sform, row-major. */
  srow: number[];
  /** True for a single .nii file (magic n+1 / n+2), false for a .hdr/.img pair. */
  singleFile: boolean;
}

/** NIfTI datatype code -> storage type. int64/uint64 are read into float64 (exact up to 2^53). */
const DATATYPES: Record<number, { type: VoxelType; bytes: number; name: string; wide?: 'int64' | 'uint64' }> = {
  2: { type: 'uint8', bytes: 1, name: 'uint8' },
  4: { type: 'int16', bytes: 2, name: 'int16' },
  8: { type: 'int32', bytes: 4, name: 'int32' },
  16: { type: 'float32', bytes: 4, name: 'float32' },
  64: { type: 'float64', bytes: 8, name: 'float64' },
  256: { type: 'int8', bytes: 1, name: 'int8' },
  512: { type: 'uint16', bytes: 2, name: 'uint16' },
  768: { type: 'uint32', bytes: 4, name: 'uint32' },
  1024: { type: 'float64', bytes: 8, name: 'int64', wide: 'int64' },
  1280: { type: 'float64', bytes: 8, name: 'uint64', wide: 'uint64' },
};

const UNSUPPORTED: Record<number, string> = {
  32: 'complex64', 128: 'RGB24', 1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32',
};

export function datatypeInfo(code: number, file: string) {
  const info = DATATYPES[code];
  if (!info) {
    const name = UNSUPPORTED[code];
    throw new HccError(
      `${file}: NIfTI datatype ${code}${name ? ` (${name})` : ''} is not supported; expected a scalar integer or float type`,
    );
  }
  return info;
}

export function datatypeCode(type: VoxelType): number {
  for (const [code, info] of Object.entries(DATATYPES)) if (info.type === type && !info.wide) return Number(code);
  throw new RangeError(`no NIfTI datatype for ${type}`);
}

export const NIFTI1_HEADER_BYTES = 348;
export const NIFTI2_HEADER_BYTES = 540;

function text(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** Detects the version and byte order from sizeof_hdr, then decodes. */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.length < 4) throw new HccError(`${file}: too short to be NIfTI (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let version: 1 | 2 | undefined;
  let le = true;
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === NIFTI1_HEADER_BYTES) version = 1;
    else if (size === NIFTI2_HEADER_BYTES) version = 2;
    if (version) {
      le = littleEndian;
      break;
    }
  }
  if (!version) {
    throw new HccError(`${file}: not a NIfTI file (sizeof_hdr is ${view.getInt32(0, true)}; expected 348 or 540)`);
  }
  const headerBytes = version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (bytes.length < headerBytes) throw new HccError(`${file}: truncated NIfTI-${version} header (${bytes.length} of ${headerBytes} bytes)`);
  const i16 = (o: number) => view.getInt16(o, le);
  const i32 = (o: number) => view.getInt32(o, le);
  const i64 = (o: number) => Number(view.getBigInt64(o, le));
  const f32 = (o: number) => view.getFloat32(o, le);
  const f64 = (o: number) => view.getFloat64(o, le);
  const h = version === 1
    ? {
        magic: text(bytes, 344, 4),
        dim: Array.from({ length: 8 }, (_, k) => i16(40 + 2 * k)),
        intentCode: i16(68), datatype: i16(70), bitpix: i16(72),
        pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
        voxOffset: f32(108), sclSlope: f32(112), sclInter: f32(116), xyztUnits: bytes[123]!,
        descrip: text(bytes, 148, 80), qformCode: i16(252), sformCode: i16(254),
        quatern: [f32(256), f32(260), f32(264)], qoffset: [f32(268), f32(272), f32(276)],
        srow: Array.from({ length: 12 }, (_, k) => f32(280 + 4 * k)),
      }
    : {
        magic: text(bytes, 4, 4),
        dim: Array.from({ length: 8 }, (_, k) => i64(16 + 8 * k)),
        intentCode: i32(504), datatype: i16(12), bitpix: i16(14),
        pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
        voxOffset: i64(168), sclSlope: f64(176), sclInter: f64(184), xyztUnits: i32(500),
        descrip: text(bytes, 240, 80), qformCode: i32(344), sformCode: i32(348),
        quatern: [f64(352), f64(360), f64(368)], qoffset: [f64(376), f64(384), f64(392)],
        srow: Array.from({ length: 12 }, (_, k) => f64(400 + 8 * k)),
      };
  const magicOk = version === 1 ? h.magic === 'n+1' || h.magic === 'ni1' : h.magic === 'n+2' || h.magic === 'ni2';
  if (!magicOk) throw new HccError(`${file}: bad NIfTI-${version} magic '${h.magic}'`);
  const ndim = h.dim[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new HccError(`${file}: dim[0] is ${ndim}; expected 1 to 7 dimensions`);
  const dims = h.dim.slice(1, 1 + ndim);
  if (dims.some((n) => !(n >= 1))) throw new HccError(`${file}: dim = [${dims.join(', ')}]; every size must be at least 1`);
  return {
    version,
    littleEndian: le,
    dims,
    datatype: h.datatype,
    bitpix: h.bitpix,
    pixdim: h.pixdim,
    voxOffset: h.voxOffset,
    sclSlope: h.sclSlope,
    sclInter: h.sclInter,
    xyztUnits: h.xyztUnits,
    intentCode: h.intentCode,
    descrip: h.descrip,
    qformCode: h.qformCode,
    sformCode: h.sformCode,
    quatern: h.quatern as [number, number, number],
    qoffset: h.qoffset as [number, number, number],
    srow: h.srow,
    singleFile: h.magic.startsWith('n+'),
  };
}

export function headerQform(h: NiftiHeader): Qform {
  return {
    b: h.quatern[0], c: h.quatern[1], d: h.quatern[2],
    // nifti1.h: qfac is pixdim[0] when that is -1, else 1 (nibabel fixes 0 to 1 on load).
    qfac: h.pixdim[0] === -1 ? -1 : 1,
    pixdim: [Math.abs(h.pixdim[1]!), Math.abs(h.pixdim[2]!), Math.abs(h.pixdim[3]!)],
    offset: h.qoffset,
  };
}

export function headerSform(h: NiftiHeader): Affine {
  return [...h.srow, 0, 0, 0, 1];
}

/**
 * nibabel's `get_best_affine`: the sform whenever sform_code > 0, else the qform when qform_code > 0, else
 * Analyze's base affine (diag(-dx, dy, dz), centred on the middle voxel).
 */
export function bestAffine(h: NiftiHeader, file: string): { affine: Affine; source: 'sform' | 'qform' | 'base' } {
  if (h.sformCode !== 0) return { affine: headerSform(h), source: 'sform' };
  if (h.qformCode !== 0) {
    try {
      return { affine: qformToAffine(headerQform(h), h.version === 1), source: 'qform' };
    } catch (err) {
      throw new HccError(`${file}: invalid qform: ${(err as Error).message}`);
    }
  }
  const shape = [h.dims[0] ?? 1, h.dims[1] ?? 1, h.dims[2] ?? 1];
  const zooms = [1, 2, 3].map((k) => (k <= h.dims.length ? Math.abs(h.pixdim[k]!) : 1));
  zooms[0] = -zooms[0]!;
  const affine: Affine = [zooms[0]!, 0, 0, 0, 0, zooms[1]!, 0, 0, 0, 0, zooms[2]!, 0, 0, 0, 0, 1];
  for (let a = 0; a < 3; a++) affine[a * 4 + 3] = -((shape[a]! - 1) / 2) * zooms[a]!;
  return { affine, source: 'base' };
}

export interface HeaderSpec {
  version: 1 | 2;
  dims: number[];
  datatype: number;
  bitpix: number;
  affine: Affine;
  qformCode: number;
  sformCode: number;
  sclSlope: number;
  sclInter: number;
  descrip: string;
}

/**
 * A single-file header (magic n+1 / n+2) plus the 4-byte extension flag, little endian, data at byte 352 (v1) or
 * 544 (v2). Both sform and qform are set from the one affine, as nibabel's writer does; units are mm and s.
 */
export function encodeNiftiHeader(spec: HeaderSpec): Uint8Array {
  const v1 = spec.version === 1;
  const headerBytes = v1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  const out = new Uint8Array(headerBytes + 4);
  const view = new DataView(out.buffer);
  const q = affineToQform(spec.affine);
  const pixdim = [q.qfac, ...q.pixdim, 1, 1, 1, 1];
  const dim = [spec.dims.length, ...spec.dims];
  while (dim.length < 8) dim.push(1);
  const srow = spec.affine.slice(0, 12);
  const descrip = Buffer.from(spec.descrip.slice(0, 79), 'latin1');
  view.setInt32(0, headerBytes, true);
  if (v1) {
    for (let k = 0; k < 8; k++) view.setInt16(40 + 2 * k, dim[k]!, true);
    view.setInt16(70, spec.datatype, true);
    view.setInt16(72, spec.bitpix, true);
    for (let k = 0; k < 8; k++) view.setFloat32(76 + 4 * k, pixdim[k]!, true);
    view.setFloat32(108, headerBytes + 4, true);
    view.setFloat32(112, spec.sclSlope, true);
    view.setFloat32(116, spec.sclInter, true);
    out[123] = 2 | 8;
    out.set(descrip, 148);
    view.setInt16(252, spec.qformCode, true);
    view.setInt16(254, spec.sformCode, true);
    [q.b, q.c, q.d, ...q.offset].forEach((v, k) => view.setFloat32(256 + 4 * k, v, true));
    srow.forEach((v, k) => view.setFloat32(280 + 4 * k, v, true));
    out.set(Buffer.from('n+1\0', 'latin1'), 344);
  } else {
    out.set(Buffer.from('n+2\0\r\n\x1a\n', 'latin1'), 4);
    view.setInt16(12, spec.datatype, true);
    view.setInt16(14, spec.bitpix, true);
    for (let k = 0; k < 8; k++) view.setBigInt64(16 + 8 * k, BigInt(dim[k]!), true);
    for (let k = 0; k < 8; k++) view.setFloat64(104 + 8 * k, pixdim[k]!, true);
    view.setBigInt64(168, BigInt(headerBytes + 4), true);
    view.setFloat64(176, spec.sclSlope, true);
    view.setFloat64(184, spec.sclInter, true);
    out.set(descrip, 240);
    view.setInt32(344, spec.qformCode, true);
    view.setInt32(348, spec.sformCode, true);
    [q.b, q.c, q.d, ...q.offset].forEach((v, k) => view.setFloat64(352 + 8 * k, v, true));
    srow.forEach((v, k) => view.setFloat64(400 + 8 * k, v, true));
    view.setInt32(500, 2 | 8, true);
  }
  return out;
}
