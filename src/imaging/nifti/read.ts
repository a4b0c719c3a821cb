import { createReadStream, readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, gunzip, gunzipSync } from 'node:zlib';
import { HccError } from '../../util/errors.js';
import { allocVoxels, makeVolume, viewVoxels, type Affine, type VoxelArray, type VoxelType, type Volume } from '../volume.js';
import { bestAffine, datatypeInfo, NIFTI1_HEADER_BYTES, NIFTI2_HEADER_BYTES, parseNiftiHeader, type NiftiHeader } from './header.js';

/**
 * NIfTI-1/2 reader (.nii, .nii.gz by content, either byte order; .hdr/.img pairs by their .hdr path). The voxel order is kept as stored (no
 * reorientation, as nnU-Net expects); the affine is chosen as nibabel chooses it; scl_slope/scl_inter are applied.
 */

export interface NiftiReadOptions {
  /**
   * For 4D+ files: which 3D frame to read (the dimensions after the third flattened, first fastest). Files with
   * more than one frame need it; a 3D file ignores 0 and rejects anything else.
   */
  frame?: number;
}

/** What the reader records in `Volume.meta.nifti`. Deliberately no `descrip` text (it can carry identity). */
export interface NiftiMeta {
  version: 1 | 2;
  dims: number[];
  datatype: string;
  qformCode: number;
  sformCode: number;
  /** Which header field the affine came from, by nibabel's rule. */
  affineSource: 'sform' | 'qform' | 'base';
  sclSlope: number;
  sclInter: number;
}

const gunzipAsync = promisify(gunzip);

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function inflate(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new HccError(`${file}: gzip data is corrupt or truncated (${(err as Error).message})`);
  }
}

/**
 * nibabel's `get_slope_inter`: a slope of 0 or NaN means "no scaling"; a valid slope with a non-finite intercept
 * is an error. Returns null when scaling changes nothing.
 */
function scaling(h: NiftiHeader, file: string): { slope: number; inter: number } | null {
  const { sclSlope: slope, sclInter: inter } = h;
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) throw new HccError(`${file}: scl_slope is ${slope} but scl_inter is ${inter}; expected a finite intercept`);
  if (slope === 1 && inter === 0) return null;
  return { slope, inter };
}

/**
 * Scaled values keep an integer type when slope and intercept are integers and the result fits (CT stored as
 * uint16 with intercept -1024 reads as int16 HU); float64 data stays float64; everything else becomes float32.
 */
function scaledType(raw: VoxelArray, rawType: VoxelType, slope: number, inter: number): VoxelType {
  if (rawType === 'float64') return 'float64';
  if (rawType === 'float32' || !Number.isInteger(slope) || !Number.isInteger(inter)) return 'float32';
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const a = lo * slope + inter, b = hi * slope + inter;
  const min = Math.min(a, b), max = Math.max(a, b);
  if (min >= -32768 && max <= 32767) return 'int16';
  if (min >= -2147483648 && max <= 2147483647) return 'int32';
  return 'float32';
}

function decodeVoxels(bytes: Uint8Array, h: NiftiHeader, start: number, count: number, file: string): VoxelArray {
  const info = datatypeInfo(h.datatype, file);
  const end = start + count * info.bytes;
  if (end > bytes.length) {
    throw new HccError(`${file}: truncated image data: ${bytes.length - start} bytes after the header offset, ${count * info.bytes} expected for ${count} ${info.name} voxels`);
  }
  if (info.wide) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 8);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = Number(info.wide === 'int64' ? view.getBigInt64(i * 8, h.littleEndian) : view.getBigUint64(i * 8, h.littleEndian));
    }
    return out;
  }
  const copy = bytes.slice(start, end);
  if (!h.littleEndian && info.bytes > 1) {
    for (let i = 0; i < copy.length; i += info.bytes) copy.subarray(i, i + info.bytes).reverse();
  }
  return viewVoxels(info.type, copy.buffer, copy.byteOffset, count);
}

function headerBytes(h: NiftiHeader): number {
  return h.version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
}

/**
 * Decodes a whole (already read) .nii or .nii.gz file into a Volume. For a .hdr/.img pair, `fileBytes` is the
 * header and `imageBytes` the .img contents (both may be gzipped).
 */
export function decodeNifti(fileBytes: Uint8Array, file: string, options: NiftiReadOptions = {}, imageBytes?: Uint8Array): Volume {
  const headerFile = inflate(fileBytes, file);
  const h = parseNiftiHeader(headerFile, file);
  if (!h.singleFile && !imageBytes) {
    throw new HccError(`${file}: a NIfTI .hdr/.img pair header; read it by its .hdr path so the .img is found`);
  }
  const bytes = h.singleFile ? headerFile : inflate(imageBytes!, pairImagePath(file));
  const [nx = 1, ny = 1, nz = 1, ...rest] = h.dims;
  const frames = rest.reduce((a, b) => a * b, 1);
  const frame = options.frame ?? 0;
  if (frames > 1 && options.frame === undefined) {
    throw new HccError(`${file}: ${h.dims.length}D image with ${frames} frames (dim ${h.dims.join('x')}); choose one with the frame option`);
  }
  if (!(Number.isInteger(frame) && frame >= 0 && frame < frames)) {
    throw new HccError(`${file}: frame ${frame} requested but the file has ${frames} (0..${frames - 1})`);
  }
  const perFrame = nx * ny * nz;
  const info = datatypeInfo(h.datatype, file);
  // nibabel treats a single-file vox_offset below the header end as the header end.
  const offset = h.singleFile ? Math.max(h.voxOffset, headerBytes(h) + 4) : h.voxOffset;
  let data = decodeVoxels(bytes, h, offset + frame * perFrame * info.bytes, perFrame, file);
  const scale = scaling(h, file);
  if (scale) {
    const raw = data;
    data = allocVoxels(scaledType(raw, info.type, scale.slope, scale.inter), raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = raw[i]! * scale.slope + scale.inter;
  }
  const { affine, source } = bestAffine(h, file);
  if (affine.some((v) => !Number.isFinite(v))) throw new HccError(`${file}: the ${source} affine has non-finite entries`);
  const nifti: NiftiMeta = {
    version: h.version,
    dims: h.dims,
    datatype: info.name,
    qformCode: h.qformCode,
    sformCode: h.sformCode,
    affineSource: source,
    sclSlope: h.sclSlope,
    sclInter: h.sclInter,
  };
  return makeVolume([nx, ny, nz], affine, data, { source: basename(file), nifti });
}

/** The .img beside a .hdr (same compression suffix, as nibabel looks for it). */
function pairImagePath(hdrPath: string): string {
  return hdrPath.replace(/\.hdr(\.gz)?$/i, (_m, gz: string | undefined) => `.img${gz ?? ''}`);
}

const isPairHeader = (path: string) => /\.hdr(\.gz)?$/i.test(path);

function readError(path: string, err: unknown): HccError {
  const code = (err as NodeJS.ErrnoException).code;
  return new HccError(`${path}: cannot read (${code ?? (err as Error).message})`, { cause: err });
}

/** Reads a .nii or .nii.gz; decompression runs off the main thread. */
export async function readNifti(path: string, options: NiftiReadOptions = {}): Promise<Volume> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw readError(path, err);
  }
  const inflateAsync = async (b: Uint8Array, name: string) => {
    if (!isGzip(b)) return b;
    try {
      return await gunzipAsync(b);
    } catch (err) {
      throw new HccError(`${name}: gzip data is corrupt or truncated (${(err as Error).message})`);
    }
  };
  bytes = await inflateAsync(bytes, path);
  if (!isPairHeader(path)) return decodeNifti(bytes, path, options);
  const img = pairImagePath(path);
  let image: Uint8Array;
  try {
    image = await readFile(img);
  } catch (err) {
    throw readError(img, err);
  }
  return decodeNifti(bytes, path, options, await inflateAsync(image, img));
}

export function readNiftiSync(path: string, options: NiftiReadOptions = {}): Volume {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw readError(path, err);
  }
  if (!isPairHeader(path)) return decodeNifti(bytes, path, options);
  const img = pairImagePath(path);
  try {
    return decodeNifti(bytes, path, options, readFileSync(img));
  } catch (err) {
    throw err instanceof HccError ? err : readError(img, err);
  }
}

/**
 * Only the header and the affine nibabel would use, without reading the voxels: for `hcc info` on big files.
 * A .nii.gz is inflated just far enough to cover the header.
 */
export async function readNiftiHeader(path: string): Promise<{ header: NiftiHeader; affine: Affine; affineSource: 'sform' | 'qform' | 'base' }> {
  const need = NIFTI2_HEADER_BYTES + 4;
  let head: Uint8Array;
  try {
    const fd = await open(path);
    const probe = Buffer.alloc(need);
    const { bytesRead } = await fd.read(probe, 0, need, 0).finally(() => fd.close());
    head = probe.subarray(0, bytesRead);
  } catch (err) {
    throw readError(path, err);
  }
  if (isGzip(head)) {
    const chunks: Buffer[] = [];
    let total = 0;
    const raw = createReadStream(path);
    const gz = createGunzip();
    raw.on('error', (err) => gz.destroy(err));
    raw.pipe(gz);
    try {
      for await (const chunk of gz) {
        chunks.push(chunk as Buffer);
        total += (chunk as Buffer).length;
        if (total >= need) break;
      }
    } catch (err) {
      throw new HccError(`${path}: gzip data is corrupt (${(err as Error).message})`);
    } finally {
      raw.destroy();
    }
    head = Buffer.concat(chunks, total);
  }
  const header = parseNiftiHeader(head, path);
  const { affine, source } = bestAffine(header, path);
  return { header, affine, affineSource: source };
}
