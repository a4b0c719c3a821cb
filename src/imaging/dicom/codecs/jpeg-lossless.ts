/**
 * JPEG lossless, process 14 (ITU T.81 Annex H): DICOM transfer syntaxes 1.2.840.10008.1.2.4.57 (any predictor)
 * and .70 (selection value 1). Huffman-coded differences from one of seven predictors, with point transform and
 * restart intervals. Components are interleaved one sample each (H = V = 1), which is what DICOM encoders write.
 */
import { BitReader, HuffmanTable, readHuffmanTables } from './huffman.js';

export interface LosslessImage {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** Samples, pixel-interleaved when components > 1. */
  data: Uint16Array;
}

export function decodeJpegLossless(data: Uint8Array): LosslessImage {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('JPEG lossless frame does not start with an SOI marker');
  const tables = new Map<number, HuffmanTable>();
  let restartInterval = 0;
  let width = 0;
  let height = 0;
  let precision = 0;
  let components: number[] = [];
  let p = 2;
  while (p + 4 <= data.length) {
    if (data[p] !== 0xff) {
      p++;
      continue;
    }
    const marker = data[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd9) break;
    const length = (data[p + 2] << 8) | data[p + 3];
    const body = p + 4;
    if (marker === 0xc3 || marker === 0xc7) {
      precision = data[body];
      height = (data[body + 1] << 8) | data[body + 2];
      width = (data[body + 3] << 8) | data[body + 4];
      components = Array.from({ length: data[body + 5] }, (_, c) => data[body + 6 + 3 * c]);
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new Error(`JPEG frame type SOF${marker - 0xc0} is not lossless (process 14 expected)`);
    } else if (marker === 0xc4) {
      readHuffmanTables(data, body, p + 2 + length, tables);
    } else if (marker === 0xdd) {
      restartInterval = (data[body] << 8) | data[body + 1];
    } else if (marker === 0xda) {
      if (width === 0) throw new Error('JPEG lossless scan before its SOF3 frame header');
      const ns = data[body];
      const scanTables: HuffmanTable[] = [];
      for (let c = 0; c < ns; c++) {
        const table = tables.get(data[body + 2 + 2 * c] >> 4);
        if (!table) throw new Error('JPEG lossless scan refers to a missing Huffman table');
        scanTables.push(table);
      }
      const predictor = data[body + 1 + 2 * ns];
      const pointTransform = data[body + 3 + 2 * ns] & 0x0f;
      const out = new Uint16Array(width * height * ns);
      decodeScan(new BitReader(data, p + 2 + length), out, width, height, ns, scanTables, predictor, pointTransform, precision, restartInterval);
      return { width, height, components: components.length, precision, data: out };
    }
    p += 2 + length;
  }
  throw new Error('JPEG lossless data has no scan (SOS marker)');
}

function decodeScan(bits: BitReader, out: Uint16Array, width: number, height: number, ns: number, tables: HuffmanTable[], predictor: number, pt: number, precision: number, restartInterval: number): void {
  const initial = 1 << (precision - pt - 1);
  const mask = (1 << (precision - pt)) - 1;
  const rowLength = width * ns;
  let untilRestart = restartInterval;
  // Samples in the first row of the scan or of a restart interval are predicted from the left neighbour only.
  let firstRowStart = 0;
  for (let y = 0; y < height; y++) {
    const row = y * rowLength;
    for (let x = 0; x < width; x++) {
      if (restartInterval > 0) {
        if (untilRestart === 0) {
          bits.restart();
          untilRestart = restartInterval;
          firstRowStart = row + x * ns;
        }
        untilRestart--;
      }
      for (let c = 0; c < ns; c++) {
        const i = row + x * ns + c;
        const s = tables[c].decode(bits);
        const diff = s === 16 ? 32768 : bits.receiveExtend(s);
        const pos = i - c;
        let pred: number;
        if (pos === firstRowStart) pred = initial;
        else if (pos < firstRowStart + rowLength) pred = out[i - ns];
        else if (x === 0) pred = out[i - rowLength];
        else {
          const ra = out[i - ns];
          const rb = out[i - rowLength];
          const rc = out[i - rowLength - ns];
          switch (predictor) {
            case 1: pred = ra; break;
            case 2: pred = rb; break;
            case 3: pred = rc; break;
            case 4: pred = ra + rb - rc; break;
            case 5: pred = ra + ((rb - rc) >> 1); break;
            case 6: pred = rb + ((ra - rc) >> 1); break;
            case 7: pred = (ra + rb) >> 1; break;
            default: pred = ra;
          }
        }
        out[i] = (pred + diff) & mask;
      }
    }
  }
  if (pt > 0) for (let i = 0; i < out.length; i++) out[i] <<= pt;
}
