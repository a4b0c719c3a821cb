import { isZip, readZip, ZipFormatError } from './zip.js';
import { PickleError, PyCallable, toPlain, unpickle } from './pickle.js';
import { NdArray, StoredTensor, TorchDevice, type PyValue, type StoredData, type StoredDType } from './values.js';

/**
 * Reads what Python's `torch.save` writes, without Python and without libtorch: the zip format (torch >= 1.6)
 * and the legacy sequential-pickle format (older torch, nnU-Net v1's `.model` files). Tensors come back as
 * StoredTensors; `load()` in ./index.ts turns them into native tensors.
 */

/** The message says what is wrong; `file` names the file when one was read from disk. */
export class SerializationError extends Error {
  constructor(message: string, readonly file?: string, options?: { cause?: unknown }) {
    super(file ? `${file}: ${message}` : message, options);
    this.name = 'SerializationError';
  }
}

interface StorageKind {
  /** Bytes per element in the file. */
  size: number;
  /** What it becomes when read. */
  dtype: StoredDType;
  name: string;
}

const STORAGE_KINDS: Record<string, StorageKind> = {
  FloatStorage: { size: 4, dtype: 'float32', name: 'float32' },
  DoubleStorage: { size: 8, dtype: 'float64', name: 'float64' },
  HalfStorage: { size: 2, dtype: 'float32', name: 'float16' },
  BFloat16Storage: { size: 2, dtype: 'float32', name: 'bfloat16' },
  LongStorage: { size: 8, dtype: 'int64', name: 'int64' },
  IntStorage: { size: 4, dtype: 'int32', name: 'int32' },
  ShortStorage: { size: 2, dtype: 'int32', name: 'int16' },
  CharStorage: { size: 1, dtype: 'int32', name: 'int8' },
  ByteStorage: { size: 1, dtype: 'uint8', name: 'uint8' },
  BoolStorage: { size: 1, dtype: 'bool', name: 'bool' },
  UntypedStorage: { size: 1, dtype: 'uint8', name: 'uint8' },
};

/** A storage as the pickle references it; `bytes` are filled in once its record is found. */
interface StorageRef {
  kind: StorageKind;
  key: string;
  location: string;
  numel: number;
  bytes?: Uint8Array;
  /** Element view of `bytes`, converted to the read dtype, made once per storage. */
  elements?: StoredData;
}

function storageKind(cls: unknown): StorageKind {
  const name = cls instanceof Object && 'name' in cls ? String((cls as { name: unknown }).name) : String(cls);
  const kind = STORAGE_KINDS[name];
  if (!kind) throw new PickleError(`unsupported tensor storage type '${name}'`);
  return kind;
}

/** The storage's elements in the dtype it is read as (a view of the file's bytes when aligned, else a copy). */
function storageElements(ref: StorageRef, bigEndian: boolean): StoredData {
  if (ref.elements) return ref.elements;
  const bytes = ref.bytes;
  if (!bytes) throw new PickleError(`storage '${ref.key}' has no data record`);
  if (bytes.length < ref.numel * ref.kind.size) {
    throw new PickleError(`storage '${ref.key}' has ${bytes.length} bytes, expected ${ref.numel * ref.kind.size}`);
  }
  const length = ref.numel * ref.kind.size;
  // torch.save aligns records to 64 bytes, so storages can usually be viewed in place; otherwise copy.
  const aligned = (bytes.byteOffset % ref.kind.size === 0) && !(bigEndian && ref.kind.size > 1);
  const copy = aligned ? bytes.subarray(0, length) : bytes.slice(0, length);
  if (bigEndian && ref.kind.size > 1) {
    for (let i = 0; i < copy.length; i += ref.kind.size) copy.subarray(i, i + ref.kind.size).reverse();
  }
  const view = <T>(ctor: new (b: ArrayBufferLike, offset: number, n: number) => T): T => new ctor(copy.buffer, copy.byteOffset, ref.numel);
  let out: StoredData;
  switch (ref.kind.name) {
    case 'float32': out = view(Float32Array); break;
    case 'float64': out = view(Float64Array); break;
    case 'int64': out = view(BigInt64Array); break;
    case 'int32': out = view(Int32Array); break;
    case 'uint8': case 'bool': out = copy; break;
    case 'int16': out = Int32Array.from(view(Int16Array)); break;
    case 'int8': out = Int32Array.from(view(Int8Array)); break;
    case 'float16': out = halfToFloat(view(Uint16Array)); break;
    case 'bfloat16': {
      const f = new Float32Array(ref.numel);
      const u = new Uint32Array(f.buffer);
      const h = view(Uint16Array);
      for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
      out = f;
      break;
    }
    default: throw new PickleError(`unsupported storage '${ref.kind.name}'`);
  }
  ref.elements = out;
  return out;
}

function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i];
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

function asInts(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) throw new PickleError(`tensor ${what} is not a tuple of ints`);
  return value as number[];
}

/** Materializes a (possibly strided, offset) view of a storage as contiguous C-order data. */
function rebuildTensor(storage: unknown, offsetValue: unknown, sizeValue: unknown, strideValue: unknown, requiresGrad: unknown, bigEndian: boolean): StoredTensor {
  const ref = storage as StorageRef;
  if (!ref || typeof ref !== 'object' || !('kind' in ref)) throw new PickleError('tensor without a storage');
  const offset = Number(offsetValue);
  const shape = asInts(sizeValue, 'size');
  const stride = asInts(strideValue, 'stride');
  const numel = shape.reduce((a, b) => a * b, 1);
  const src = storageElements(ref, bigEndian);
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  let reach = offset;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) reach += (shape[d] - 1) * stride[d];
  if (numel > 0 && (offset < 0 || reach >= src.length)) {
    throw new PickleError(`tensor view (offset ${offset}, size [${shape}], stride [${stride}]) lies outside its storage of ${src.length} elements`);
  }
  let data: StoredData;
  if (contiguous) {
    data = src.subarray(offset, offset + numel) as StoredData;
  } else {
    data = new (src.constructor as new (n: number) => StoredData)(numel);
    const index = new Array<number>(shape.length).fill(0);
    let s = offset;
    for (let i = 0; i < numel; i++) {
      (data as Float64Array)[i] = (src as Float64Array)[s];
      for (let d = shape.length - 1; d >= 0; d--) {
        index[d]++;
        s += stride[d];
        if (index[d] < shape[d]) break;
        s -= stride[d] * shape[d];
        index[d] = 0;
      }
    }
  }
  const sourceDtype = ref.kind.name !== ref.kind.dtype ? ref.kind.name : undefined;
  return new StoredTensor(ref.kind.dtype, shape, data, requiresGrad === true, sourceDtype, ref.location);
}

const NUMPY_TYPES: Record<string, { size: number; read: (v: DataView, o: number, le: boolean) => number | bigint | boolean }> = {
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  i8: { size: 8, read: (v, o, le) => safeBig(v.getBigInt64(o, le)) },
  u8: { size: 8, read: (v, o, le) => safeBig(v.getBigUint64(o, le)) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  b1: { size: 1, read: (v, o) => v.getUint8(o) !== 0 },
  f2: { size: 2, read: (v, o, le) => halfToFloat(new Uint16Array([v.getUint16(o, le)]))[0] },
};

function safeBig(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** numpy.dtype as pickled: `dtype('f8', False, True)` then BUILD with (version, byteorder, ...). */
class NumpyDType {
  littleEndian = true;
  constructor(readonly code: string) {}
}

function numpyDType(args: unknown[]): NumpyDType {
  let code = String(args[0]);
  if (code.startsWith('<') || code.startsWith('>') || code.startsWith('=') || code.startsWith('|')) code = code.slice(1);
  const aliases: Record<string, string> = { float64: 'f8', float32: 'f4', int64: 'i8', int32: 'i4', bool: 'b1', uint8: 'u1', int8: 'i1', int16: 'i2', float16: 'f2', uint16: 'u2', uint32: 'u4', uint64: 'u8' };
  return new NumpyDType(aliases[code] ?? code);
}

function numpyScalar(args: unknown[]): PyValue {
  const dtype = args[0];
  const raw = args[1];
  if (!(dtype instanceof NumpyDType) || !(raw instanceof Uint8Array)) throw new PickleError('numpy scalar without dtype and bytes');
  const t = NUMPY_TYPES[dtype.code];
  if (!t) throw new PickleError(`unsupported numpy scalar dtype '${dtype.code}'`);
  const bytes = raw.slice();
  return t.read(new DataView(bytes.buffer), 0, dtype.littleEndian) as PyValue;
}

function numpyArrayBuild(_array: unknown, state: unknown): NdArray {
  if (!Array.isArray(state) || state.length < 5) throw new PickleError('numpy array state is not (version, shape, dtype, fortran, data)');
  const [, shapeValue, dtype, fortran, raw] = state;
  const shape = asInts(shapeValue, 'numpy shape');
  if (!(dtype instanceof NumpyDType)) throw new PickleError('numpy array without a dtype');
  const numel = shape.reduce((a, b) => a * b, 1);
  if (Array.isArray(raw)) return new NdArray(dtype.code, shape, raw as PyValue[]);
  if (!(raw instanceof Uint8Array)) throw new PickleError('numpy array data is not bytes');
  const t = NUMPY_TYPES[dtype.code];
  if (!t) throw new PickleError(`unsupported numpy array dtype '${dtype.code}'`);
  if (raw.length !== numel * t.size) throw new PickleError(`numpy array has ${raw.length} bytes, expected ${numel * t.size}`);
  const bytes = raw.slice();
  const view = new DataView(bytes.buffer);
  const ctor: Record<string, new (n: number) => NdArray['data']> = {
    f8: Float64Array, f4: Float32Array, i8: BigInt64Array, u8: BigUint64Array, i4: Int32Array, u4: Uint32Array,
    i2: Int16Array, u2: Uint16Array, i1: Int8Array, u1: Uint8Array, b1: Uint8Array, f2: Float32Array,
  };
  const data = new ctor[dtype.code](numel);
  // Fortran order is read into C order so that `data` always means C order.
  const cIndex = (i: number): number => {
    if (fortran !== true) return i;
    let rest = i;
    let c = 0;
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    for (let d = 0; d < shape.length; d++) {
      c += (rest % shape[d]) * strides[d];
      rest = Math.floor(rest / shape[d]);
    }
    return c;
  };
  for (let i = 0; i < numel; i++) {
    let v = t.read(view, i * t.size, dtype.littleEndian);
    if (typeof v === 'boolean') v = v ? 1 : 0;
    (data as unknown as Array<number | bigint>)[cIndex(i)] = typeof v === 'number' && (dtype.code === 'i8' || dtype.code === 'u8') ? BigInt(v) : v;
  }
  return new NdArray(dtype.code, shape, data);
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function torchGlobals(bigEndian: boolean): Record<string, unknown> {
  const storageClasses: Record<string, unknown> = {};
  for (const name of Object.keys(STORAGE_KINDS)) {
    storageClasses[`torch.${name}`] = { name };
    storageClasses[`torch.storage.${name}`] = { name };
  }
  const tensorV2 = new PyCallable('_rebuild_tensor_v2', (a) => rebuildTensor(a[0], a[1], a[2], a[3], a[4], bigEndian));
  const tensorV1 = new PyCallable('_rebuild_tensor', (a) => rebuildTensor(a[0], a[1], a[2], a[3], false, bigEndian));
  const parameter = new PyCallable('_rebuild_parameter', (a) => {
    const t = a[0] as StoredTensor;
    if (!(t instanceof StoredTensor)) throw new PickleError('Parameter without a tensor');
    return new StoredTensor(t.dtype, t.shape, t.data, a[1] !== false, t.sourceDtype, t.device);
  });
  const ordered = new PyCallable('OrderedDict', () => new Map());
  const numpyReconstruct = new PyCallable('_reconstruct', () => ({ numpyArray: true }), numpyArrayBuild);
  const dtype = new PyCallable('dtype', numpyDType, (obj, state) => {
    const d = obj as NumpyDType;
    if (Array.isArray(state) && state[1] === '>') d.littleEndian = false;
    return d;
  });
  const scalar = new PyCallable('scalar', numpyScalar);
  const torchDtypes: Record<string, unknown> = {};
  for (const name of ['float16', 'bfloat16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool', 'half', 'float', 'double', 'long', 'int']) {
    torchDtypes[`torch.${name}`] = name;
  }
  return {
    ...storageClasses,
    ...torchDtypes,
    'torch._utils._rebuild_tensor_v2': tensorV2,
    'torch._utils._rebuild_tensor': tensorV1,
    'torch._utils._rebuild_parameter': parameter,
    'torch._utils._rebuild_parameter_with_state': parameter,
    'torch._tensor._rebuild_from_type_v2': new PyCallable('_rebuild_from_type_v2', (a) => {
      const fn = a[0];
      if (!(fn instanceof PyCallable) || !Array.isArray(a[2])) throw new PickleError('_rebuild_from_type_v2 with an unknown function');
      return fn.call(a[2]);
    }),
    'torch.device': new PyCallable('device', (a) => {
      const spec = String(a[0]);
      if (a.length > 1 && typeof a[1] === 'number') return new TorchDevice(spec, a[1]);
      const [type, index] = spec.split(':');
      return new TorchDevice(type, index === undefined ? null : Number(index));
    }),
    'torch.serialization._get_layout': new PyCallable('_get_layout', (a) => String(a[0])),
    'collections.OrderedDict': ordered,
    'builtins.dict': new PyCallable('dict', () => new Map()),
    'builtins.set': new PyCallable('set', (a) => new Set(Array.isArray(a[0]) ? a[0] : [])),
    'builtins.frozenset': new PyCallable('frozenset', (a) => new Set(Array.isArray(a[0]) ? a[0] : [])),
    'builtins.bytearray': new PyCallable('bytearray', (a) => (a[0] instanceof Uint8Array ? a[0] : typeof a[0] === 'string' ? latin1Bytes(a[0]) : new Uint8Array())),
    '__builtin__.set': new PyCallable('set', (a) => new Set(Array.isArray(a[0]) ? a[0] : [])),
    '_codecs.encode': new PyCallable('encode', (a) => latin1Bytes(String(a[0]))),
    'numpy.core.multiarray.scalar': scalar,
    'numpy._core.multiarray.scalar': scalar,
    'numpy.core.multiarray._reconstruct': numpyReconstruct,
    'numpy._core.multiarray._reconstruct': numpyReconstruct,
    'numpy.dtype': dtype,
  };
}

/** Reads a torch.save file from its bytes. `file` only names it in error messages. */
export function readTorch(input: Uint8Array, file?: string): PyValue {
  // A Node Buffer's slice() is a view; a plain Uint8Array's is a copy, which the storage conversion relies on.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  try {
    if (isZip(bytes)) return readZipFormat(bytes);
    if (bytes.length >= 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
      throw new SerializationError('this is the tar-based torch.save format of torch < 0.4; load and re-save it with a current torch', file);
    }
    if (bytes.length > 2 && bytes[0] === 0x80) return readLegacyFormat(bytes);
    throw new SerializationError(
      bytes.length === 0 ? 'the file is empty' : 'not a PyTorch file (neither a torch.save zip archive nor a legacy pickle)',
      file,
    );
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    if (error instanceof PickleError || error instanceof ZipFormatError || error instanceof RangeError) {
      throw new SerializationError(`cannot read PyTorch file: ${error.message}`, file, { cause: error });
    }
    throw error;
  }
}

function readZipFormat(bytes: Uint8Array): PyValue {
  const entries = readZip(bytes);
  const pkl = entries.find((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (!pkl) throw new PickleError('the zip archive has no data.pkl (not a torch.save file)');
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  if (byName.has(`${prefix}constants.pkl`)) {
    throw new PickleError('this is a TorchScript archive (torch.jit.save); load it with jit.load, not load');
  }
  const byteorder = byName.get(`${prefix}byteorder`);
  const bigEndian = byteorder !== undefined && new TextDecoder().decode(byteorder).trim() === 'big';
  const storages = new Map<string, StorageRef>();
  const value = unpickle(pkl.data, {
    globals: torchGlobals(bigEndian),
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid[0] !== 'storage') throw new PickleError(`unknown persistent id ${JSON.stringify(pid)}`);
      const key = String(pid[2]);
      let ref = storages.get(key);
      if (!ref) {
        const data = byName.get(`${prefix}data/${key}`);
        if (!data) throw new PickleError(`storage record data/${key} is missing from the archive`);
        const kind = storageKind(pid[1]);
        // Newer torch writes numel of the untyped storage in bytes; the record length is authoritative.
        ref = { kind, key, location: String(pid[3]), numel: Math.floor(data.length / kind.size), bytes: data };
        storages.set(key, ref);
      }
      return ref;
    },
  });
  return toPlain(value.value);
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readLegacyFormat(bytes: Uint8Array): PyValue {
  const plain = { globals: {} };
  const magic = unpickle(bytes, plain);
  if (magic.value !== LEGACY_MAGIC) {
    throw new PickleError('a pickle, but not one written by torch.save (no torch magic number); plain pickles are not model files');
  }
  const protocol = unpickle(bytes, plain, magic.end);
  if (protocol.value !== 1001) throw new PickleError(`legacy torch.save protocol ${String(protocol.value)} (expected 1001)`);
  const sysInfo = unpickle(bytes, plain, protocol.end);
  const info = sysInfo.value instanceof Map ? sysInfo.value : new Map();
  const bigEndian = info.get('little_endian') === false;
  // The storages' bytes follow the object pickle, so the object is read once to find where it ends and which
  // storages it needs, and again once the storages are known.
  const refs = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') throw new PickleError(`unknown persistent id ${JSON.stringify(pid)}`);
    const [, cls, rootKey, location, numel, viewMetadata] = pid as [string, unknown, string, string, number, unknown];
    let ref = refs.get(rootKey);
    if (!ref) {
      ref = { kind: storageKind(cls), key: rootKey, location: String(location), numel: Number(numel) };
      refs.set(rootKey, ref);
    }
    if (Array.isArray(viewMetadata)) {
      const [viewKey, offset, size] = viewMetadata as [string, number, number];
      return { ...ref, key: viewKey, numel: size, viewOf: ref, viewOffset: offset };
    }
    return ref;
  };
  const placeholderGlobals = { ...torchGlobals(bigEndian), 'torch._utils._rebuild_tensor_v2': new PyCallable('_rebuild_tensor_v2', () => null), 'torch._utils._rebuild_tensor': new PyCallable('_rebuild_tensor', () => null) };
  const first = unpickle(bytes, { globals: placeholderGlobals, persistentLoad }, sysInfo.end);
  const keys = unpickle(bytes, plain, first.end);
  if (!Array.isArray(keys.value)) throw new PickleError('legacy storage key list missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keys.end;
  for (const key of keys.value) {
    const ref = refs.get(String(key));
    if (!ref) throw new PickleError(`legacy storage '${String(key)}' is not referenced`);
    if (p + 8 > bytes.length) throw new PickleError(`legacy storage '${ref.key}' is truncated`);
    const numel = Number(view.getBigInt64(p, true));
    p += 8;
    const length = numel * ref.kind.size;
    if (p + length > bytes.length) throw new PickleError(`legacy storage '${ref.key}' is truncated`);
    ref.bytes = bytes.subarray(p, p + length);
    ref.numel = numel;
    p += length;
  }
  const second = unpickle(bytes, {
    globals: torchGlobals(bigEndian),
    persistentLoad: (pid) => {
      const ref = persistentLoad(pid) as StorageRef & { viewOf?: StorageRef; viewOffset?: number };
      if (!ref.viewOf) return refs.get(ref.key);
      const root = ref.viewOf;
      const start = (ref.viewOffset ?? 0) * root.kind.size;
      return { kind: root.kind, key: ref.key, location: root.location, numel: ref.numel, bytes: root.bytes?.subarray(start, start + ref.numel * root.kind.size) };
    },
  }, sysInfo.end);
  return toPlain(second.value);
}
