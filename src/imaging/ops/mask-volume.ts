import { voxelVolumeMm3 } from '../affine.js';
import type { Volume } from '../volume.js';

/** Voxels equal to `label` (or non-zero when no label is given). */
export function countVoxels(data: ArrayLike<number>, label?: number): number {
  let n = 0;
  if (label === undefined) {
    for (let i = 0; i < data.length; i++) if (data[i]) n++;
  } else {
    for (let i = 0; i < data.length; i++) if (data[i] === label) n++;
  }
  return n;
}

/** Volume of a mask or of one label in millilitres: voxel count × |det| of the affine's 3x3 part / 1000. */
export function maskVolumeMl(volume: Volume, label?: number): number {
  return (countVoxels(volume.data, label) * voxelVolumeMm3(volume.affine)) / 1000;
}
