import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeVolume, type Volume, type VoxelArray } from '../../src/imaging/volume.js';
import { encodeNifti, type NiftiWriteOptions } from '../../src/imaging/nifti/write.js';
import { writeFileAtomicSync } from '../../src/util/atomic.js';

/**
 * Small volumes that exercise the NIfTI writer: oblique, left-handed (LPS, qfac -1), sheared, each storage type,
 * NIfTI-2. test/fixtures/imaging/written/ holds these files as our writer produced them and nibabel_written.json
 * holds nibabel's reading of them; the test re-encodes each case and checks the bytes are unchanged.
 * Regenerate: node dist/test/imaging/nifti-written-cases.js test/fixtures/imaging/written
 * then /usr/bin/python3 test/fixtures/imaging/make_nibabel_written.py
 */
export interface WrittenCase { name: string; volume: Volume; options: NiftiWriteOptions }

function rotation(ax: number, az: number): number[] {
  const [ca, sa, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(az), Math.sin(az)];
  // Rz · Rx
  return [cz, -sz * ca, sz * sa, sz, cz * ca, -cz * sa, 0, sa, ca];
}

function affine(r: number[], spacing: number[], origin: number[]): number[] {
  const a = [0, 0, 0, origin[0]!, 0, 0, 0, origin[1]!, 0, 0, 0, origin[2]!, 0, 0, 0, 1];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) a[i * 4 + j] = r[i * 3 + j]! * spacing[j]!;
  return a;
}

function ramp<T extends VoxelArray>(data: T, scale: number, offset: number): T {
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) * scale + offset;
  return data;
}

export function writtenCases(): WrittenCase[] {
  const shape: [number, number, number] = [5, 4, 3];
  const n = 60;
  const lps = [-0.8, 0, 0, 100.5, 0, -0.8, 0, 120.25, 0, 0, 2.5, -50, 0, 0, 0, 1];
  const sheared = [0.9, 0.2, 0, -10, 0, 1.1, 0.3, 5, 0, 0, 3, 7, 0, 0, 0, 1];
  return [
    { name: 'oblique_int16', volume: makeVolume(shape, affine(rotation(0.26, 0.17), [0.75, 0.75, 1.5], [-120.5, 80.25, -300]), ramp(new Int16Array(n), 20, -1024)), options: {} },
    { name: 'lps_uint8_labels', volume: makeVolume(shape, lps, ramp(new Uint8Array(n), 0.02, 0).map((v) => v % 3)), options: {} },
    { name: 'sheared_float32', volume: makeVolume(shape, sheared, ramp(new Float32Array(n), 0.37, -3.5)), options: { qformCode: 1, sformCode: 2 } },
    { name: 'left_handed_float64', volume: makeVolume(shape, affine(rotation(-0.4, 2.9), [1, 2, -3], [1, 2, 3]), ramp(new Float64Array(n), 1e-3, 0.5)), options: {} },
    { name: 'nifti2_int32', volume: makeVolume(shape, lps, ramp(new Int32Array(n), 1e6, -5e7)), options: { version: 2 } },
    { name: 'converted_to_uint16', volume: makeVolume(shape, lps, ramp(new Float32Array(n), 10.4, 0.2)), options: { type: 'uint16' } },
  ];
}

if (process.argv[1]?.endsWith('nifti-written-cases.js') && process.argv[2]) {
  const dir = process.argv[2];
  mkdirSync(dir, { recursive: true });
  for (const c of writtenCases()) writeFileAtomicSync(join(dir, `${c.name}.nii`), encodeNifti(c.volume, c.options));
}
