import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { writeFileAtomic, writeFileAtomicSync } from '../../util/atomic.js';
import { HccError } from '../../util/errors.js';
import { convertVoxels, voxelTypeOf, type VoxelType, type Volume } from '../volume.js';
import { datatypeCode, encodeNiftiHeader } from './header.js';
import type { NiftiMeta } from './read.js';

export interface NiftiWriteOptions {
  /**
   * 1 or 2. Default: the version the volume was read from, else 1; NIfTI-2 whenever a dimension exceeds
   * NIfTI-1's 32767.
   */
  version?: 1 | 2;
  /** Store the voxels as this type (integers round and saturate); default: the volume's own type. */
  type?: VoxelType;
  /**
   * qform_code and sform_code. Default: the codes the volume was read with when they were non-zero, else 1
   * (scanner anatomical), which is what dcm2niix writes for DICOM-derived images.
   */
  qformCode?: number;
  sformCode?: number;
  /** gzip level for .gz paths; default 1, nibabel's default. */
  compressionLevel?: number;
}

const gzipAsync = promisify(gzip);

/** The single-file NIfTI bytes (uncompressed) for a volume. */
export function encodeNifti(volume: Volume, options: NiftiWriteOptions = {}): Uint8Array {
  const type = options.type ?? voxelTypeOf(volume.data);
  const data = type === voxelTypeOf(volume.data) ? volume.data : convertVoxels(volume.data, type);
  const tooBig = volume.shape.some((n) => n > 32767);
  if (options.version === 1 && tooBig) {
    throw new HccError(`NIfTI-1 cannot store shape ${volume.shape.join('x')} (at most 32767 per axis); use version 2`);
  }
  const read = volume.meta.nifti as Partial<NiftiMeta> | undefined;
  const version = options.version ?? (tooBig ? 2 : read?.version ?? 1);
  const code = (given: number | undefined, fromFile: number | undefined) => given ?? (fromFile && fromFile > 0 ? fromFile : 1);
  const header = encodeNiftiHeader({
    version,
    dims: [...volume.shape],
    datatype: datatypeCode(type),
    bitpix: data.BYTES_PER_ELEMENT * 8,
    affine: volume.affine,
    qformCode: code(options.qformCode, read?.qformCode),
    sformCode: code(options.sformCode, read?.sformCode),
    sclSlope: 1,
    sclInter: 0,
    descrip: 'hcc-iat',
  });
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

const isGz = (path: string) => path.toLowerCase().endsWith('.gz');

/** Writes .nii or .nii.gz (by extension) through a temporary file and a rename. */
export async function writeNifti(path: string, volume: Volume, options: NiftiWriteOptions = {}): Promise<void> {
  const raw = encodeNifti(volume, options);
  const bytes = isGz(path) ? await gzipAsync(raw, { level: options.compressionLevel ?? 1 }) : raw;
  await writeFileAtomic(path, bytes);
}

export function writeNiftiSync(path: string, volume: Volume, options: NiftiWriteOptions = {}): void {
  const raw = encodeNifti(volume, options);
  writeFileAtomicSync(path, isGz(path) ? gzipSync(raw, { level: options.compressionLevel ?? 1 }) : raw);
}
