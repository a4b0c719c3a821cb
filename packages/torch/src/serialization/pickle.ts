import { PyGlobal, PyObject, isPlainDict, type PyValue } from './values.js';

/**
 * A pickle reader (protocols 0-5) that never executes anything: GLOBALs resolve only through the table the
 * caller passes, and every other class is kept as data (PyGlobal / PyObject). Dicts are Maps while reading
 * (keys may be ints or tuples, and SETITEM may arrive after a dict was memoized), then `toPlain` turns those
 * with string keys into objects.
 */

export class PickleError extends Error {}

/** A Python callable the reader knows how to apply (REDUCE / NEWOBJ). */
export class PyCallable {
  constructor(
    readonly name: string,
    readonly call: (args: unknown[]) => unknown,
    /** BUILD on the result (for classes whose state comes after construction, e.g. numpy arrays). */
    readonly build?: (obj: unknown, state: unknown) => unknown,
  ) {}
}

export interface UnpickleOptions {
  /** `module.name` -> callable or constant. Anything not listed becomes a PyGlobal. */
  globals: Record<string, unknown>;
  /** Resolves BINPERSID/PERSID ids (torch storages). */
  persistentLoad?: (pid: unknown) => unknown;
}

const MARK = Symbol('mark');

/** Tuples stay arrays but are frozen, so a tuple key in a Map cannot be mutated. */
function tuple(items: unknown[]): unknown[] {
  return Object.freeze(items) as unknown[];
}

export function unpickle(bytes: Uint8Array, options: UnpickleOptions, start = 0): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const builders = new WeakMap<object, (obj: unknown, state: unknown) => unknown>();
  let p = start;

  const need = (n: number): void => {
    if (p + n > bytes.length) throw new PickleError('pickle data ends early (truncated)');
  };
  const u8 = (): number => {
    need(1);
    return bytes[p++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(p, true);
    p += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError('pickle length beyond 2^53');
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(p, p + n);
    p += n;
    return out;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw new PickleError('pickle data ends early (truncated)');
    const s = latin1.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new PickleError('pickle stack underflow (corrupt data)');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleError('pickle stack underflow (corrupt data)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError('pickle MARK missing (corrupt data)');
    return stack.splice(m);
  };
  const decodeUtf8 = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      throw new PickleError('invalid UTF-8 in a pickled string (corrupt data)');
    }
  };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return intValue(v);
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    const key = `${module}.${name}`;
    if (Object.prototype.hasOwnProperty.call(options.globals, key)) return options.globals[key];
    return new PyGlobal(module, name);
  };
  const apply = (fn: unknown, args: unknown[]): unknown => {
    if (fn instanceof PyCallable) {
      const result = fn.call(args);
      if (fn.build && result !== null && typeof result === 'object') builders.set(result, fn.build);
      return result;
    }
    if (fn instanceof PyGlobal) return new PyObject(fn, args as PyValue[]);
    throw new PickleError(`pickle REDUCE on a non-callable ${describe(fn)} (corrupt data)`);
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) {
      if (dict instanceof PyObject) {
        // A dict subclass the reader does not model: keep its items as its state.
        const m = dict.state instanceof Map ? dict.state : new Map();
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        dict.state = m as PyValue;
        return;
      }
      throw new PickleError(`pickle SETITEM on ${describe(dict)} (corrupt data)`);
    }
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleError('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: stack.length ? stack.pop() : undefined, end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(p, true));
        p += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x49: { // INT
        const s = line().trim();
        stack.push(s === '01' ? true : s === '00' ? false : intValue(BigInt(s)));
        break;
      }
      case 0x4c: // LONG
        stack.push(intValue(BigInt(line().trim().replace(/L$/, ''))));
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(take(u32())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x46: // FLOAT
        stack.push(parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(decodeUtf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decodeUtf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decodeUtf8(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x53: { // STRING (repr with quotes)
        const s = line();
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError(`pickle APPEND on ${describe(list)} (corrupt data)`);
        list.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError(`pickle APPENDS on ${describe(list)} (corrupt data)`);
        list.push(...items);
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const m = new Map();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) throw new PickleError(`pickle ADDITEMS on ${describe(set)} (corrupt data)`);
        for (const item of items) set.add(item);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('pickle STACK_GLOBAL without names');
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args)) throw new PickleError('pickle REDUCE without an argument tuple (corrupt data)');
        stack.push(apply(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(apply(cls, Array.isArray(args) ? args : []));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(apply(cls, Array.isArray(args) ? args : []));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        stack.push(apply(items[0], items.slice(1)));
        break;
      }
      case 0x69: { // INST
        const module = line();
        const name = line();
        stack.push(apply(resolveGlobal(module, name), popMark()));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        const builder = obj !== null && typeof obj === 'object' ? builders.get(obj) : undefined;
        if (builder) {
          stack[stack.length - 1] = builder(obj, state);
        } else if (obj instanceof PyObject) {
          obj.state = state as PyValue;
        }
        // BUILD on a dict (an OrderedDict's `_metadata` attribute) carries nothing a loader needs.
        break;
      }
      case 0x70: // PUT
        memo.set(parseInt(line(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const key = op === 0x67 ? parseInt(line(), 10) : op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw new PickleError(`pickle memo key ${key} missing (corrupt data)`);
        stack.push(memo.get(key));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) throw new PickleError('pickle has persistent ids but no loader was given');
        stack.push(options.persistentLoad(pid));
        break;
      }
      case 0x50: { // PERSID
        const pid = line();
        if (!options.persistentLoad) throw new PickleError('pickle has persistent ids but no loader was given');
        stack.push(options.persistentLoad(pid));
        break;
      }
      default:
        throw new PickleError(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${p - 1} (corrupt data or an unsupported feature)`);
    }
  }
}

function intValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list/tuple';
  if (value instanceof Map) return 'a dict';
  return typeof value === 'object' ? (value as object).constructor.name : typeof value;
}

/**
 * Turns reader-internal Maps into plain objects where every key is a string, and Sets into arrays, keeping
 * shared references shared (a checkpoint may hold the same dict twice).
 */
export function toPlain(value: unknown, seen = new Map<unknown, PyValue>()): PyValue {
  if (value === null || typeof value !== 'object') return value as PyValue;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (value instanceof Map) {
    if ([...value.keys()].every((k) => typeof k === 'string')) {
      const out: { [key: string]: PyValue } = {};
      seen.set(value, out);
      for (const [k, v] of value) out[k as string] = toPlain(v, seen);
      return out;
    }
    const out = new Map<PyValue, PyValue>();
    seen.set(value, out);
    for (const [k, v] of value) out.set(toPlain(k, seen), toPlain(v, seen));
    return out;
  }
  if (value instanceof Set) return toPlain([...value], seen);
  if (Array.isArray(value)) {
    const out: PyValue[] = [];
    seen.set(value, out);
    for (const item of value) out.push(toPlain(item, seen));
    return out;
  }
  if (value instanceof PyObject) {
    seen.set(value, value);
    value.state = toPlain(value.state, seen);
    for (let i = 0; i < value.args.length; i++) value.args[i] = toPlain(value.args[i], seen);
    return value;
  }
  if (isPlainDict(value)) return value;
  return value as PyValue;
}
