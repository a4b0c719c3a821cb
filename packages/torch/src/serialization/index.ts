import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Tensor } from '../tensor.js';
import { fromArray } from '../factory.js';
import { readTorch, SerializationError } from './reader.js';
import { writeTorch } from './writer.js';
import { StoredTensor, isPlainDict, type PyValue, type StoredData, type StoredDType } from './values.js';

/**
 * torch.save / torch.load for TypeScript: files Python's `torch.load` opens, and any file Python's
 * `torch.save` wrote (state dicts, nnU-Net checkpoints, optimizer states), with no Python and no libtorch
 * serialization code involved. Everything else about the format lives in ./reader.ts and ./writer.ts.
 */

/** What `save` accepts: Python-like values whose leaves may be native tensors. */
export type Saveable = PyValue | Tensor | Saveable[] | Map<PyValue, Saveable> | { [key: string]: Saveable };

/** What `load` returns: the file's values with every tensor native. */
export type Loaded = Exclude<PyValue, StoredTensor | PyValue[] | Map<PyValue, PyValue> | { [key: string]: PyValue }> | Tensor | Loaded[] | Map<PyValue, Loaded> | { [key: string]: Loaded };

const STORED: Record<string, StoredDType> = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', uint8: 'uint8', bool: 'bool' };

/** A native tensor's data as a StoredTensor (copied to the host). */
export function toStored(t: Tensor): StoredTensor {
  const dtype = STORED[t.dtype];
  if (!dtype) throw new SerializationError(`cannot save a ${t.dtype} tensor (float32, float64, int64, int32, uint8 and bool are supported)`);
  const host = t.device === 'cpu' ? t : t.to('cpu');
  try {
    const data = host.toArray() as StoredData;
    return new StoredTensor(dtype, [...t.shape], dtype === 'bool' ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data, t.requiresGrad);
  } finally {
    if (host !== t) host.dispose();
  }
}

function toStoredTree(value: Saveable, seen: Map<object, PyValue>): PyValue {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value as PyValue;
  const known = seen.get(value);
  if (known !== undefined) return known;
  let out: PyValue;
  if (value instanceof Tensor) out = toStored(value);
  else if (Array.isArray(value)) out = value.map((v) => toStoredTree(v, seen));
  else if (value instanceof Map) out = new Map([...value].map(([k, v]) => [k, toStoredTree(v, seen)]));
  else if (isPlainDict(value)) out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStoredTree(v as Saveable, seen)]));
  else out = value as PyValue;
  seen.set(value, out);
  return out;
}

/** A stored tensor as a native one (on `device`, default cpu). */
export function fromStored(t: StoredTensor, device = 'cpu'): Tensor {
  let native = fromArray(t.data, t.shape, { dtype: t.dtype });
  if (device !== 'cpu') {
    const moved = native.to(device);
    native.dispose();
    native = moved;
  }
  if (t.requiresGrad) native.requiresGrad_(true);
  return native;
}

function toNativeTree(value: PyValue, device: string, seen: Map<object, Loaded>): Loaded {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value as Loaded;
  const known = seen.get(value);
  if (known !== undefined) return known;
  let out: Loaded;
  if (value instanceof StoredTensor) out = fromStored(value, device);
  else if (Array.isArray(value)) out = value.map((v) => toNativeTree(v, device, seen));
  else if (value instanceof Map) out = new Map([...value].map(([k, v]) => [k, toNativeTree(v, device, seen)]));
  else if (isPlainDict(value)) out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toNativeTree(v, device, seen)]));
  else out = value as Loaded;
  seen.set(value, out);
  return out;
}

/**
 * Writes `value` (a state dict, an optimizer state, a checkpoint dict) as a file Python's `torch.load` reads.
 * The file appears atomically: written to a temporary sibling, then renamed.
 */
export function save(value: Saveable, path: string): void {
  const stem = basename(path).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]/g, '_') || 'archive';
  let bytes: Uint8Array;
  try {
    bytes = writeTorch(toStoredTree(value, new Map()), stem);
  } catch (error) {
    throw new SerializationError(`cannot save: ${(error as Error).message}`, path, { cause: error });
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new SerializationError(`cannot write: ${(error as Error).message}`, path, { cause: error });
  }
}

/** Reads a torch.save file with its tensors left as host data (StoredTensor); no native tensor is made. */
export function loadRaw(path: string): PyValue {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SerializationError(`cannot read: ${(error as Error).message}`, path, { cause: error });
  }
  return readTorch(bytes, path);
}

/**
 * Reads a torch.save file (zip or legacy format) into native tensors on `device` (default cpu, like
 * `map_location='cpu'`). Dicts with string keys become objects, other dicts Maps, tuples arrays,
 * numpy scalars numbers. A corrupt or truncated file throws a SerializationError naming it.
 */
export function load(path: string, options: { device?: string } = {}): Loaded {
  return toNativeTree(loadRaw(path), options.device ?? 'cpu', new Map());
}

export { readTorch, SerializationError } from './reader.js';
export { writeTorch } from './writer.js';
export { StoredTensor, TorchDevice, NdArray, PyGlobal, PyObject, type PyValue, type StoredDType, type StoredData } from './values.js';
