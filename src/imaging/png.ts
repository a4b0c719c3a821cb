import { deflateSync } from 'node:zlib';
import type { Volume } from './volume.js';

/**
 * PNG output for anything a person should look at: axial slices with an HU window, segmentation overlays,
 * prototype patches and similarity maps. 8-bit greyscale or RGB, no interlacing: all a report needs.
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** `pixels` is row-major, top row first, with `channels` bytes per pixel (1 grey, 3 RGB). */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`encodePng: expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${pixels.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

export interface SliceOptions {
  /** Axial slice index k. */
  slice: number;
  /** HU window centre and width; the default is the abdominal window L50/W400. */
  level?: number;
  window?: number;
  /** Label overlay: label value -> [r, g, b]; drawn blended at `alpha`. */
  labels?: Volume;
  colors?: Record<number, [number, number, number]>;
  alpha?: number;
}

const DEFAULT_COLORS: Record<number, [number, number, number]> = { 1: [0, 200, 80], 2: [230, 40, 40] };

/**
 * One axial slice as RGB, in radiological display convention: the patient's right on the image's left and
 * anterior at the top. Which voxel axis maps where is read from the affine, so any stored orientation displays
 * the same way.
 */
export function renderAxialSlice(volume: Volume, options: SliceOptions): { rgb: Uint8Array; width: number; height: number } {
  const [nx, ny, nz] = volume.shape;
  const k = options.slice;
  if (!(k >= 0 && k < nz)) throw new RangeError(`renderAxialSlice: slice ${k} outside 0..${nz - 1}`);
  const level = options.level ?? 50;
  const window = options.window ?? 400;
  const alpha = options.alpha ?? 0.4;
  const colors = options.colors ?? DEFAULT_COLORS;
  const a = volume.affine;
  // Display columns run towards patient Left (RAS -x), rows towards Posterior (RAS -y).
  const flipX = a[0]! > 0;
  const flipY = a[5]! > 0;
  const rgb = new Uint8Array(nx * ny * 3);
  for (let row = 0; row < ny; row++) {
    const j = flipY ? ny - 1 - row : row;
    for (let col = 0; col < nx; col++) {
      const i = flipX ? nx - 1 - col : col;
      const idx = i + nx * (j + ny * k);
      const v = Number(volume.data[idx]);
      const g = Math.max(0, Math.min(255, Math.round(((v - (level - window / 2)) / window) * 255)));
      let r = g, gg = g, b = g;
      const label = options.labels ? Number(options.labels.data[idx]) : 0;
      const c = label ? colors[label] : undefined;
      if (c) {
        r = Math.round((1 - alpha) * r + alpha * c[0]);
        gg = Math.round((1 - alpha) * gg + alpha * c[1]);
        b = Math.round((1 - alpha) * b + alpha * c[2]);
      }
      const o = (row * nx + col) * 3;
      rgb[o] = r;
      rgb[o + 1] = gg;
      rgb[o + 2] = b;
    }
  }
  return { rgb, width: nx, height: ny };
}

export function axialSlicePng(volume: Volume, options: SliceOptions): Buffer {
  const { rgb, width, height } = renderAxialSlice(volume, options);
  return encodePng(rgb, width, height, 3);
}
