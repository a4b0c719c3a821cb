import { spacingFromAffine } from './affine.js';

/**
 * The volume type every part of hcc-iat exchanges.
 *
 * Memory order: x (the first voxel index i) varies fastest, then y (j), then z (k), as in NIfTI on disk. So
 * `data[i + nx * (j + ny * k)]`, and the same buffer is a C-order array of shape [nz, ny, nx]: exactly the
 * [D, H, W] layout a torch tensor wants, with no copy.
 *
 * World space: RAS+ millimetres, as NIfTI and nibabel use: +x towards the patient's Right, +y Anterior,
 * +z Superior. DICOM's LPS+ is the same space with x and y negated; convert only at the DICOM boundary.
 */
export type VoxelArray = Float32Array | Float64Array | Int16Array | Uint16Array | Int32Array | Uint8Array | Int8Array | Uint32Array;

export type Vec3 = [number, number, number];

/** A 4x4 voxel-to-world matrix, row-major, 16 numbers. The last row is [0, 0, 0, 1]. */
export type Affine = number[];

export type Phase = 'arterial' | 'portal_venous' | 'delayed' | 'unenhanced' | 'unknown';

export interface VolumeMeta {
  modality?: string;
  phase?: Phase;
  seriesUid?: string;
  seriesDescription?: string;
  /** Free-text provenance, e.g. the source file name. Never patient identity. */
  source?: string;
  [key: string]: unknown;
}

export interface Volume<T extends VoxelArray = VoxelArray> {
  data: T;
  /** [nx, ny, nz]: voxel counts along i, j, k. */
  shape: Vec3;
  /** Voxel size in mm along i, j, k (the column norms of the affine's 3x3 part). */
  spacing: Vec3;
  affine: Affine;
  meta: VolumeMeta;
}

export function voxelCount(shape: Vec3): number {
  return shape[0] * shape[1] * shape[2];
}

export function voxelIndex(shape: Vec3, i: number, j: number, k: number): number {
  return i + shape[0] * (j + shape[1] * k);
}

/** Voxel storage types by their NumPy/NIfTI-style names. */
export type VoxelType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

const CONSTRUCTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

const RANGES: Partial<Record<VoxelType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export function voxelTypeOf(data: VoxelArray): VoxelType {
  for (const [name, ctor] of Object.entries(CONSTRUCTORS)) if (data instanceof ctor) return name as VoxelType;
  throw new TypeError('voxelTypeOf: not a voxel array');
}

export function allocVoxels(type: VoxelType, length: number): VoxelArray {
  return new CONSTRUCTORS[type](length);
}

/** A typed view of `length` voxels of `type` on existing memory (no copy). */
export function viewVoxels(type: VoxelType, buffer: ArrayBufferLike, byteOffset: number, length: number): VoxelArray {
  return new CONSTRUCTORS[type](buffer as ArrayBuffer, byteOffset, length);
}

export function isIntegerType(type: VoxelType): boolean {
  return type !== 'float32' && type !== 'float64';
}

/**
 * A copy of `data` as `type`. Integer targets round to nearest and saturate at the type's range (a resampled
 * label 1.9999 must become 2, and -1100 HU must not wrap in uint8); float targets convert exactly or to nearest.
 */
export function convertVoxels(data: VoxelArray, type: VoxelType): VoxelArray {
  const out = allocVoxels(type, data.length);
  const range = RANGES[type];
  if (!range) {
    out.set(data);
    return out;
  }
  const [lo, hi] = range;
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i]!);
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

/** A volume on the given grid; `data` defaults to zeros of `type` (default float32). */
export function makeVolume<T extends VoxelArray = VoxelArray>(
  shape: Vec3,
  affine: Affine,
  data?: T,
  meta: VolumeMeta = {},
  type: VoxelType = 'float32',
): Volume<T> {
  const n = voxelCount(shape);
  const values = (data ?? allocVoxels(type, n)) as T;
  if (values.length !== n) {
    throw new RangeError(`makeVolume: ${values.length} voxels given for shape ${shape.join('x')} (${n} expected)`);
  }
  return { data: values, shape: [...shape], spacing: spacingFromAffine(affine), affine: [...affine], meta: { ...meta } };
}

/** A deep copy: data, shape, affine and meta are all new objects. */
export function cloneVolume<T extends VoxelArray>(volume: Volume<T>): Volume<T> {
  return makeVolume(volume.shape, volume.affine, volume.data.slice() as T, structuredClone(volume.meta));
}

/** Same grid and meta, new voxel values (e.g. a mask computed from an image). */
export function withData<T extends VoxelArray>(volume: Volume, data: T): Volume<T> {
  return makeVolume(volume.shape, volume.affine, data, structuredClone(volume.meta));
}

export function convertVolume(volume: Volume, type: VoxelType): Volume {
  return withData(volume, convertVoxels(volume.data, type));
}

/** True when two volumes share a voxel grid (shape equal, affines within `tol` mm). */
export function sameGrid(a: { shape: Vec3; affine: Affine }, b: { shape: Vec3; affine: Affine }, tol = 1e-4): boolean {
  if (a.shape.some((n, d) => n !== b.shape[d])) return false;
  return a.affine.every((v, i) => Math.abs(v - b.affine[i]!) <= tol);
}
