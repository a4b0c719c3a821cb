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
