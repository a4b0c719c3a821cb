/**
 * JPEG entropy-coded segment reading shared by the lossless (process 14) and DCT (baseline/extended) decoders:
 * a bit reader that undoes 0xFF00 byte stuffing and stops at markers, and canonical Huffman tables (ITU T.81
 * Annex C) decoded through a 9-bit lookup with a per-length slow path.
 */
export class HuffmanTable {
  private readonly maxCode = new Int32Array(18);
  private readonly valPtr = new Int32Array(17);
  private readonly minCode = new Int32Array(17);
  /** For codes of up to 9 bits: (length << 8 | symbol), 0 when longer. */
  private readonly fast = new Uint16Array(512);

  constructor(
    counts: Uint8Array,
    private readonly symbols: Uint8Array,
  ) {
    let code = 0;
    let k = 0;
    for (let len = 1; len <= 16; len++) {
      this.valPtr[len] = k;
      this.minCode[len] = code;
      for (let i = 0; i < counts[len - 1]; i++) {
        if (len <= 9) {
          const shift = 9 - len;
          const base = code << shift;
          for (let f = 0; f < 1 << shift; f++) this.fast[base + f] = (len << 8) | symbols[k];
        }
        code++;
        k++;
      }
      this.maxCode[len] = counts[len - 1] > 0 ? code - 1 : -1;
      code <<= 1;
    }
    this.maxCode[17] = 0x7fffffff;
  }

  decode(bits: BitReader): number {
    const peek = bits.peek(9);
    const hit = this.fast[peek];
    if (hit !== 0) {
      bits.skip(hit >> 8);
      return hit & 0xff;
    }
    let code = 0;
    for (let len = 1; len <= 16; len++) {
      code = (code << 1) | bits.bit();
      if (this.maxCode[len] >= 0 && code <= this.maxCode[len]) return this.symbols[this.valPtr[len] + code - this.minCode[len]];
    }
    throw new Error('invalid Huffman code in the JPEG entropy-coded data');
  }
}

export class BitReader {
  private buffer = 0;
  private count = 0;
  /** Set when a marker (other than stuffing) is reached; reads then return zero bits. */
  marker = -1;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (this.marker < 0 && this.pos < this.data.length) {
        byte = this.data[this.pos];
        if (byte === 0xff) {
          const next = this.data[this.pos + 1];
          if (next === 0) this.pos += 2;
          else {
            this.marker = next;
            byte = 0;
          }
        } else this.pos++;
      }
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  peek(n: number): number {
    if (this.count < n) this.fill();
    return (this.buffer >>> (this.count - n)) & ((1 << n) - 1);
  }

  skip(n: number): void {
    this.count -= n;
  }

  bit(): number {
    if (this.count < 1) this.fill();
    this.count--;
    return (this.buffer >>> this.count) & 1;
  }

  /** n raw bits (n <= 16). */
  bits(n: number): number {
    if (n === 0) return 0;
    const v = this.peek(n);
    this.count -= n;
    return v;
  }

  /** T.81 EXTEND: a value of `s` bits as a signed difference. */
  receiveExtend(s: number): number {
    if (s === 0) return 0;
    const v = this.bits(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }

  /** At a restart marker: drop buffered bits and skip the RSTn marker. */
  restart(): void {
    this.count = 0;
    this.buffer = 0;
    if (this.marker >= 0xd0 && this.marker <= 0xd7) {
      this.pos += 2;
      this.marker = -1;
      return;
    }
    // Tolerate a missing marker: scan forward to the next RSTn.
    while (this.pos + 1 < this.data.length && !(this.data[this.pos] === 0xff && this.data[this.pos + 1] >= 0xd0 && this.data[this.pos + 1] <= 0xd7)) this.pos++;
    this.pos += 2;
    this.marker = -1;
  }
}

/** Reads a DHT segment's tables into `into`, keyed by (class << 4 | id). */
export function readHuffmanTables(data: Uint8Array, start: number, end: number, into: Map<number, HuffmanTable>): void {
  let p = start;
  while (p < end) {
    const key = data[p];
    const counts = data.subarray(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i];
    into.set(key, new HuffmanTable(counts, data.subarray(p + 17, p + 17 + total)));
    p += 17 + total;
  }
}
