// Deterministic memory management. Every tensor the API returns is registered in the innermost open scope;
// closing the scope disposes everything registered there except what the scope returns and what was keep()'d.
// The GC finalizer is only a backstop: in Node 20 it runs when the event loop turns, not inside a synchronous loop.
import type { Tensor } from './tensor.js';

interface Scope {
  tensors: Tensor[];
  parent: Scope | null;
}

let current: Scope | null = null;

/** Registers a freshly created tensor in the current scope (used by every op wrapper). */
export function track(t: Tensor): Tensor {
  if (current !== null) current.tensors.push(t);
  return t;
}

export function trackAll(ts: Tensor[]): Tensor[] {
  if (current !== null) for (const t of ts) current.tensors.push(t);
  return ts;
}

function isTensorLike(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as { dispose?: unknown }).dispose === 'function'
    && typeof (x as { isKept?: unknown }).isKept === 'boolean';
}

/** Tensors reachable from a scope's result (arrays, plain objects, Maps), which survive the scope. */
function reachable(result: unknown, out: Set<Tensor>, depth = 0): Set<Tensor> {
  if (depth > 8 || typeof result !== 'object' || result === null) return out;
  if (isTensorLike(result)) { out.add(result); return out; }
  if (Array.isArray(result)) for (const x of result) reachable(x, out, depth + 1);
  else if (result instanceof Map) for (const x of result.values()) reachable(x, out, depth + 1);
  else if (Object.getPrototypeOf(result) === Object.prototype) for (const x of Object.values(result)) reachable(x, out, depth + 1);
  return out;
}

function close(scope: Scope, result: unknown): void {
  const survivors = reachable(result, new Set());
  current = scope.parent;
  for (const t of scope.tensors) {
    if (survivors.has(t)) {
      if (current !== null) current.tensors.push(t);
    } else if (!t.isKept) {
      t.dispose();
    }
  }
  scope.tensors.length = 0;
}

function rejectAsync(fn: Function, what: string): void {
  if (fn.constructor?.name === 'AsyncFunction') {
    throw new TypeError(`${what}: the function must be synchronous (a scope cannot span an await); `
      + 'use tidy() inside each step, or const s = scope(); try { ... } finally { s.end(result) } around async code');
  }
}

/**
 * Runs fn and disposes every tensor created inside except those reachable from its return value (which move
 * to the enclosing scope) and those marked with keep(). Like tf.tidy / TorchSharp's DisposeScope.
 */
export function tidy<T>(fn: () => T): T {
  rejectAsync(fn, 'tidy');
  const scope: Scope = { tensors: [], parent: current };
  current = scope;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    close(scope, undefined);
    throw e;
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    close(scope, undefined);
    throw new TypeError('tidy: the function returned a Promise; scopes must be synchronous');
  }
  close(scope, result);
  return result;
}

/** An explicit scope for code that cannot be one synchronous function. Close it with `end(result?)` (LIFO). */
export interface ExplicitScope {
  end(result?: unknown): void;
}

export function scope(): ExplicitScope {
  const s: Scope = { tensors: [], parent: current };
  current = s;
  let ended = false;
  return {
    end(result?: unknown) {
      if (ended) return;
      if (current !== s) throw new Error('scope().end(): scopes must be closed in the reverse order of opening');
      ended = true;
      close(s, result);
    },
  };
}

/** Marks tensors so that no scope disposes them (they still go away on dispose() or, eventually, GC). */
export function keep<T extends Tensor | Tensor[]>(t: T): T {
  if (Array.isArray(t)) for (const x of t) x.keep();
  else t.keep();
  return t;
}

/** Disposes every tensor reachable from x (a tensor, array, Map or plain object of tensors). */
export function dispose(x: unknown): void {
  for (const t of reachable(x, new Set())) t.dispose();
}

/** Disposes the tensors reachable from x that were not keep()'d. */
export function disposeUnkept(x: unknown): void {
  for (const t of reachable(x, new Set())) if (!t.isKept) t.dispose();
}

/** Number of scopes currently open (for tests and diagnostics). */
export function scopeDepth(): number {
  let n = 0;
  for (let s = current; s !== null; s = s.parent) n++;
  return n;
}
