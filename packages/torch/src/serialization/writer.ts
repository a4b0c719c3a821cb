import { writeZip, type ZipEntry } from './zip.js';
import { NdArray, PyGlobal, PyObject, StoredTensor, TorchDevice, isPlainDict, type PyValue, type StoredDType } from './values.js';

/**
 * Writes the zip format that Python's `torch.load` reads (torch >= 1.6): `archive/data.pkl` (pickle protocol
 * 2, as torch.save writes by default), one `archive/data/<key>` record per storage, `archive/byteorder` and
 * `archive/version`. Plain objects become dicts with string keys, Maps keep their keys (an optimizer's
 * `state` is keyed by int), arrays become lists, integral numbers become ints and others floats.
 */

const STORAGE_CLASS: Record<StoredDType, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

class PickleWriter {
  private chunks: Uint8Array[] = [];
  private current: number[] = [];
  private readonly encoder = new TextEncoder();

  byte(b: number): void {
    this.current.push(b);
    if (this.current.length >= 65536) this.flush();
  }

  bytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
  }

  u32(v: number): void {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
    this.byte((v >>> 16) & 0xff);
    this.byte((v >>> 24) & 0xff);
  }

  string(s: string): void {
    const b = this.encoder.encode(s);
    this.byte(0x58); // BINUNICODE
    this.u32(b.length);
    this.bytes(b);
  }

  global(module: string, name: string): void {
    this.byte(0x63); // GLOBAL
    this.bytes(this.encoder.encode(`${module}\n${name}\n`));
  }

  int(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v < 256) {
      this.byte(0x4b); // BININT1
      this.byte(v);
    } else if (typeof v === 'number' && v >= 0 && v < 65536) {
      this.byte(0x4d); // BININT2
      this.byte(v & 0xff);
      this.byte(v >> 8);
    } else if (typeof v === 'number' && v >= -(2 ** 31) && v < 2 ** 31) {
      this.byte(0x4a); // BININT
      this.u32(v >>> 0);
    } else {
      // LONG1: little-endian two's complement, as short as possible.
      let big = BigInt(v);
      const out: number[] = [];
      for (;;) {
        const b = Number(big & 0xffn);
        out.push(b);
        big >>= 8n;
        if ((big === 0n && !(b & 0x80)) || (big === -1n && b & 0x80)) break;
      }
      this.byte(0x8a);
      this.byte(out.length);
      for (const b of out) this.byte(b);
    }
  }

  float(v: number): void {
    this.byte(0x47); // BINFLOAT, big-endian
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    for (const x of b) this.byte(x);
  }

  tuple(items: Array<() => void>): void {
    if (items.length === 0) {
      this.byte(0x29);
      return;
    }
    if (items.length > 3) this.byte(0x28); // MARK
    for (const item of items) item();
    this.byte(items.length === 1 ? 0x85 : items.length === 2 ? 0x86 : items.length === 3 ? 0x87 : 0x74);
  }

  flush(): void {
    if (this.current.length) {
      this.chunks.push(Uint8Array.from(this.current));
      this.current = [];
    }
  }

  finish(): Uint8Array {
    this.byte(0x2e); // STOP
    this.flush();
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}

/** Serializes a value to the bytes of a torch.save zip archive. */
export function writeTorch(value: PyValue, archiveName = 'archive'): Uint8Array {
  const w = new PickleWriter();
  const storages: Array<{ key: string; data: Uint8Array }> = [];
  const storageKeys = new Map<ArrayBufferLike, Map<string, string>>();
  const active = new Set<object>();

  const storageFor = (t: StoredTensor): string => {
    // Tensors that share a data view share a storage, as they did when they were read.
    const buffer = t.data.buffer;
    let byOffset = storageKeys.get(buffer);
    if (!byOffset) storageKeys.set(buffer, (byOffset = new Map()));
    const span = `${t.data.byteOffset}:${t.data.byteLength}`;
    const existing = byOffset.get(span);
    if (existing !== undefined) return existing;
    const key = String(storages.length);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    storages.push({ key, data: bytes });
    byOffset.set(span, key);
    return key;
  };

  const write = (v: PyValue, path: string): void => {
    if (v === null || v === undefined) {
      w.byte(0x4e);
    } else if (typeof v === 'boolean') {
      w.byte(v ? 0x88 : 0x89);
    } else if (typeof v === 'bigint') {
      w.int(v);
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && !Object.is(v, -0)) w.int(v);
      else w.float(v);
    } else if (typeof v === 'string') {
      w.string(v);
    } else if (v instanceof StoredTensor) {
      writeTensor(v);
    } else if (v instanceof TorchDevice) {
      w.global('torch', 'device');
      w.tuple(v.index === null ? [() => w.string(v.type)] : [() => w.string(v.type), () => w.int(v.index as number)]);
      w.byte(0x52); // REDUCE
    } else if (v instanceof Uint8Array) {
      // Protocol 2 has no bytes opcode; Python pickles bytes as _codecs.encode(latin-1 text, 'latin1').
      w.global('_codecs', 'encode');
      w.tuple([() => w.string(String.fromCharCode(...v)), () => w.string('latin1')]);
      w.byte(0x52);
    } else if (v instanceof NdArray || v instanceof PyGlobal || v instanceof PyObject) {
      throw new Error(`cannot save ${v.constructor.name} at '${path}': only tensors, dicts, lists, numbers, strings, booleans, null and torch devices are written`);
    } else {
      if (active.has(v)) throw new Error(`cannot save a value that contains itself (at '${path}')`);
      active.add(v);
      if (Array.isArray(v)) {
        w.byte(0x5d); // EMPTY_LIST
        if (v.length) {
          w.byte(0x28);
          v.forEach((item, i) => write(item, `${path}[${i}]`));
          w.byte(0x65); // APPENDS
        }
      } else if (v instanceof Map) {
        w.byte(0x7d); // EMPTY_DICT
        if (v.size) {
          w.byte(0x28);
          for (const [k, item] of v) {
            write(k, path);
            write(item, `${path}.${String(k)}`);
          }
          w.byte(0x75); // SETITEMS
        }
      } else if (isPlainDict(v)) {
        // State dicts are OrderedDicts in PyTorch; writing one keeps `type(sd)` the same after a round trip.
        w.global('collections', 'OrderedDict');
        w.byte(0x29);
        w.byte(0x52);
        const keys = Object.keys(v);
        if (keys.length) {
          w.byte(0x28);
          for (const k of keys) {
            w.string(k);
            write(v[k], path ? `${path}.${k}` : k);
          }
          w.byte(0x75);
        }
      } else {
        throw new Error(`cannot save a ${(v as object).constructor?.name ?? typeof v} at '${path}'`);
      }
      active.delete(v);
    }
  };

  const writeTensor = (t: StoredTensor): void => {
    const key = storageFor(t);
    const strides: number[] = [];
    for (let d = t.shape.length - 1, s = 1; d >= 0; d--) {
      strides[d] = s;
      s *= t.shape[d];
    }
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.byte(0x28); // MARK for the argument tuple
    w.tuple([() => w.string('storage'), () => w.global('torch', STORAGE_CLASS[t.dtype]), () => w.string(key), () => w.string('cpu'), () => w.int(t.numel)]);
    // The tuple above has 5 items, so it was written with MARK ... TUPLE; BINPERSID turns it into the storage.
    w.byte(0x51);
    w.int(0); // storage offset
    w.tuple(t.shape.map((n) => () => w.int(n)));
    w.tuple(strides.map((n) => () => w.int(n)));
    w.byte(t.requiresGrad ? 0x88 : 0x89);
    w.global('collections', 'OrderedDict');
    w.byte(0x29);
    w.byte(0x52);
    w.byte(0x74); // TUPLE
    w.byte(0x52); // REDUCE
  };

  write(value, '');
  const pkl = w.finish();
  const encoder = new TextEncoder();
  const entries: ZipEntry[] = [
    { name: `${archiveName}/data.pkl`, data: pkl },
    { name: `${archiveName}/byteorder`, data: encoder.encode('little') },
    ...storages.map((s) => ({ name: `${archiveName}/data/${s.key}`, data: s.data })),
    { name: `${archiveName}/version`, data: encoder.encode('3\n') },
  ];
  return writeZip(entries);
}
