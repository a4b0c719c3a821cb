import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import type { TumourCrop } from './crop.js';

/**
 * Crops on disk: `<id>.crop` holds a JSON header line (geometry) followed by the voxels, HU as int16 (CT is
 * integer HU to begin with) and the masks as uint8, ~1.1 MB per case at the default size. Training reads
 * these, never the full CTs, which is what keeps paper-scale runs within a few GB.
 */
interface Header {
  version: 1;
  size: [number, number, number];
  spacing: [number, number, number];
  scale: number;
  centre: [number, number, number];
  affine: number[];
}

export function cropPath(dir: string, id: string): string {
  return join(dir, `${id}.crop`);
}

export function saveCrop(path: string, crop: TumourCrop): void {
  const header: Header = { version: 1, size: crop.size, spacing: crop.spacing, scale: crop.scale, centre: crop.centre, affine: crop.affine };
  const head = Buffer.from(JSON.stringify(header) + '\n', 'utf8');
  const n = crop.art.length;
  const body = Buffer.alloc(n * 6);
  for (let p = 0; p < n; p++) {
    body.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(crop.art[p]!))), 2 * p);
    body.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(crop.pv[p]!))), 2 * n + 2 * p);
  }
  body.set(crop.tumour, 4 * n);
  body.set(crop.liver, 5 * n);
  writeFileAtomicSync(path, Buffer.concat([head, body]));
}

export function loadCrop(path: string): TumourCrop {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new HccError(`cannot read crop ${path}: ${(err as Error).message}`);
  }
  const eol = bytes.indexOf(10);
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(0, eol).toString('utf8')) as Header;
  } catch {
    throw new HccError(`${path}: not a crop file (no JSON header)`);
  }
  const n = header.size[0] * header.size[1] * header.size[2];
  const body = bytes.subarray(eol + 1);
  if (header.version !== 1 || body.length !== 6 * n) throw new HccError(`${path}: truncated or corrupt crop (expected ${6 * n} voxel bytes, found ${body.length})`);
  // Little-endian int16 (every supported platform): view it directly (a copy when the header left it at an odd
  // offset) and widen natively; per-voxel readInt16LE took most of the 5 ms this costs per training case.
  let hu: Int16Array;
  if (endianness() === 'LE') {
    const bytesHu = body.byteOffset % 2 === 0 ? body : Uint8Array.prototype.slice.call(body, 0, 4 * n);
    hu = new Int16Array(bytesHu.buffer, bytesHu.byteOffset, 2 * n);
  } else {
    hu = Int16Array.from({ length: 2 * n }, (_, p) => body.readInt16LE(2 * p));
  }
  const art = new Float32Array(hu.subarray(0, n));
  const pv = new Float32Array(hu.subarray(n, 2 * n));
  return {
    size: header.size,
    spacing: header.spacing,
    scale: header.scale,
    centre: header.centre,
    affine: header.affine,
    art,
    pv,
    tumour: Uint8Array.from(body.subarray(4 * n, 5 * n)),
    liver: Uint8Array.from(body.subarray(5 * n, 6 * n)),
  };
}
