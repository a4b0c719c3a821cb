/**
 * DICOM RLE lossless (PS3.5 Annex G): a 64-byte header with up to 15 segment offsets, each segment a PackBits
 * stream of one byte plane. Planes go most significant byte first, sample by sample (all bytes of sample 0,
 * then sample 1). The result is little-endian interleaved pixel bytes, as an uncompressed frame would be.
 */
export function decodeRle(frame: Uint8Array, pixels: number, bytesPerSample: number, samplesPerPixel: number): Uint8Array {
  if (frame.length < 64) throw new Error('RLE frame is shorter than its 64-byte header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = bytesPerSample * samplesPerPixel;
  if (segments !== expected) throw new Error(`RLE frame has ${segments} segments, expected ${expected}`);
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > end || end > frame.length) throw new Error(`RLE segment ${s + 1} has an offset outside the frame`);
    const sample = Math.floor(s / bytesPerSample);
    // Segment 0 of a sample is its most significant byte; little endian puts that last.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    unpackBits(frame, start, end, out, sample * bytesPerSample + byteInSample, expected, pixels);
  }
  return out;
}

function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array, offset: number, stride: number, count: number): void {
  let p = start;
  let n = 0;
  while (p < end && n < count) {
    const header = src[p++];
    if (header < 128) {
      for (let i = 0; i <= header && n < count && p < end; i++, n++) out[offset + n * stride] = src[p++];
    } else if (header > 128) {
      const value = src[p++];
      for (let i = 0; i < 257 - header && n < count; i++, n++) out[offset + n * stride] = value;
    }
  }
  if (n < count) throw new Error(`RLE segment decodes to ${n} bytes, expected ${count}; the data is truncated`);
}
