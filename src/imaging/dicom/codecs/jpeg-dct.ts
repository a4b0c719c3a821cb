/**
 * Sequential Huffman DCT JPEG (ITU T.81 processes 1, 2 and 4): DICOM's lossy JPEG baseline (8-bit, .50) and
 * extended (12-bit, .51). Interleaved and non-interleaved scans, any sampling factors, restart intervals; a float
 * IDCT, so results match libjpeg's integer IDCT within a grey level or so, well inside the codec's own loss.
 * Components come out at full size (subsampled ones replicated) without colour conversion: DICOM says in
 * PhotometricInterpretation what they are. Progressive and arithmetic-coded JPEG are not DICOM syntaxes we read.
 */
import { BitReader, HuffmanTable, readHuffmanTables } from './huffman.js';

export interface DctImage {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** Pixel-interleaved samples. */
  data: Uint16Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  coefficients: Int32Array;
  pred: number;
  dc?: HuffmanTable;
  ac?: HuffmanTable;
}

const ZIGZAG = new Uint8Array([0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]);

const COS = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) t[x * 8 + u] = (u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16) / 2;
  return t;
})();

export function decodeJpegDct(data: Uint8Array): DctImage {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('JPEG frame does not start with an SOI marker');
  const quant = new Map<number, Int32Array>();
  const huffman = new Map<number, HuffmanTable>();
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let precision = 8;
  let maxH = 1;
  let maxV = 1;
  let restartInterval = 0;
  let p = 2;
  while (p + 4 <= data.length) {
    const next = data[p + 1];
    // Skip fill bytes, stuffed zeros and restart markers left behind by a scan.
    if (data[p] !== 0xff || next === 0xff || next === 0 || (next >= 0xd0 && next <= 0xd7)) {
      p++;
      continue;
    }
    const marker = data[p + 1];
    if (marker === 0xd9) break;
    const length = (data[p + 2] << 8) | data[p + 3];
    const body = p + 4;
    const end = p + 2 + length;
    if (marker === 0xdb) {
      for (let q = body; q < end; ) {
        const wide = data[q] >> 4;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) table[ZIGZAG[k]] = wide ? (data[q + 1 + 2 * k] << 8) | data[q + 2 + 2 * k] : data[q + 1 + k];
        quant.set(data[q] & 15, table);
        q += 1 + (wide ? 128 : 64);
      }
    } else if (marker === 0xc4) readHuffmanTables(data, body, end, huffman);
    else if (marker === 0xdd) restartInterval = (data[body] << 8) | data[body + 1];
    else if (marker === 0xc0 || marker === 0xc1) {
      precision = data[body];
      height = (data[body + 1] << 8) | data[body + 2];
      width = (data[body + 3] << 8) | data[body + 4];
      const n = data[body + 5];
      for (let c = 0; c < n; c++) {
        const b = body + 6 + 3 * c;
        components.push({ id: data[b], h: data[b + 1] >> 4, v: data[b + 1] & 15, tq: data[b + 2], blocksPerLine: 0, blocksPerColumn: 0, coefficients: new Int32Array(0), pred: 0 });
      }
      maxH = Math.max(...components.map((c) => c.h));
      maxV = Math.max(...components.map((c) => c.v));
      const mcusX = Math.ceil(width / (8 * maxH));
      const mcusY = Math.ceil(height / (8 * maxV));
      for (const c of components) {
        c.blocksPerLine = mcusX * c.h;
        c.blocksPerColumn = mcusY * c.v;
        c.coefficients = new Int32Array(c.blocksPerLine * c.blocksPerColumn * 64);
      }
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new Error(`JPEG frame type SOF${marker - 0xc0} is not sequential Huffman DCT (baseline or extended expected)`);
    } else if (marker === 0xda) {
      if (width === 0) throw new Error('JPEG scan before its frame header');
      const ns = data[body];
      const scan: Component[] = [];
      for (let k = 0; k < ns; k++) {
        const c = components.find((x) => x.id === data[body + 1 + 2 * k]);
        if (!c) throw new Error('JPEG scan refers to an unknown component');
        const sel = data[body + 2 + 2 * k];
        c.dc = huffman.get(sel >> 4);
        c.ac = huffman.get(16 | (sel & 15));
        if (!c.dc || !c.ac) throw new Error('JPEG scan refers to a missing Huffman table');
        c.pred = 0;
        scan.push(c);
      }
      const reader = new BitReader(data, end);
      decodeScan(reader, scan, width, height, maxH, maxV, restartInterval);
      p = reader.pos;
      continue;
    }
    p = end;
  }
  if (components.length === 0) throw new Error('JPEG data has no frame header');
  return { width, height, components: components.length, precision, data: render(components, width, height, maxH, maxV, quant, precision) };
}

function decodeBlock(bits: BitReader, c: Component, offset: number): void {
  const s = c.dc!.decode(bits);
  c.pred += bits.receiveExtend(s);
  const out = c.coefficients;
  out[offset] = c.pred;
  for (let k = 1; k < 64; ) {
    const rs = c.ac!.decode(bits);
    const r = rs >> 4;
    const size = rs & 15;
    if (size === 0) {
      if (r !== 15) break;
      k += 16;
      continue;
    }
    k += r;
    if (k > 63) break;
    out[offset + ZIGZAG[k]] = bits.receiveExtend(size);
    k++;
  }
}

function decodeScan(bits: BitReader, scan: Component[], width: number, height: number, maxH: number, maxV: number, restartInterval: number): void {
  let restartsLeft = restartInterval;
  const step = (): void => {
    if (restartInterval === 0) return;
    if (restartsLeft === 0) {
      bits.restart();
      for (const c of scan) c.pred = 0;
      restartsLeft = restartInterval;
    }
    restartsLeft--;
  };
  if (scan.length === 1) {
    // Non-interleaved: the component's own block grid, cropped to its real size.
    const c = scan[0];
    const w = Math.ceil(Math.ceil((width * c.h) / maxH) / 8);
    const h = Math.ceil(Math.ceil((height * c.v) / maxV) / 8);
    for (let by = 0; by < h; by++)
      for (let bx = 0; bx < w; bx++) {
        step();
        decodeBlock(bits, c, (by * c.blocksPerLine + bx) * 64);
      }
  } else {
    const mcusX = Math.ceil(width / (8 * maxH));
    const mcusY = Math.ceil(height / (8 * maxV));
    for (let my = 0; my < mcusY; my++)
      for (let mx = 0; mx < mcusX; mx++) {
        step();
        for (const c of scan)
          for (let v = 0; v < c.v; v++)
            for (let h = 0; h < c.h; h++) decodeBlock(bits, c, ((my * c.v + v) * c.blocksPerLine + mx * c.h + h) * 64);
      }
  }
}

function render(components: Component[], width: number, height: number, maxH: number, maxV: number, quant: Map<number, Int32Array>, precision: number): Uint16Array {
  const n = components.length;
  const out = new Uint16Array(width * height * n);
  const max = (1 << precision) - 1;
  const shift = 1 << (precision - 1);
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  components.forEach((c, ci) => {
    const q = quant.get(c.tq);
    if (!q) throw new Error('JPEG component refers to a missing quantisation table');
    const planeW = c.blocksPerLine * 8;
    const plane = new Uint16Array(planeW * c.blocksPerColumn * 8);
    for (let by = 0; by < c.blocksPerColumn; by++)
      for (let bx = 0; bx < c.blocksPerLine; bx++) {
        const off = (by * c.blocksPerLine + bx) * 64;
        for (let k = 0; k < 64; k++) block[k] = c.coefficients[off + k] * q[k];
        // Separable inverse DCT: rows then columns.
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            let sum = 0;
            for (let u = 0; u < 8; u++) sum += COS[x * 8 + u] * block[y * 8 + u];
            tmp[y * 8 + x] = sum;
          }
        for (let x = 0; x < 8; x++)
          for (let y = 0; y < 8; y++) {
            let sum = 0;
            for (let v = 0; v < 8; v++) sum += COS[y * 8 + v] * tmp[v * 8 + x];
            const value = Math.round(sum + shift);
            plane[(by * 8 + y) * planeW + bx * 8 + x] = value < 0 ? 0 : value > max ? max : value;
          }
      }
    const sx = c.h / maxH;
    const sy = c.v / maxV;
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y * sy) * planeW;
      for (let x = 0; x < width; x++) out[(y * width + x) * n + ci] = plane[row + Math.floor(x * sx)];
    }
  });
  return out;
}
