// Grad mode (thread-local in libtorch, so per worker_thread) and torch.autograd.grad.
import { native as N } from './native.js';
import { trackAll } from './scope.js';
import type { Tensor } from './tensor.js';

function withGradMode<T>(enabled: boolean, fn: () => T, what: string): T {
  if (fn.constructor?.name === 'AsyncFunction') {
    throw new TypeError(`${what}: the function must be synchronous (grad mode cannot span an await)`);
  }
  const previous = N.isGradEnabled() as boolean;
  N.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    N.setGradEnabled(previous);
  }
}

/** Runs fn with gradient recording off (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn, 'noGrad');
}

/** Runs fn with gradient recording on (torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn, 'enableGrad');
}

export function isGradEnabled(): boolean {
  return N.isGradEnabled() as boolean;
}

export function setGradEnabled(enabled: boolean): void {
  N.setGradEnabled(enabled);
}

export interface GradOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

/** torch.autograd.grad(outputs, inputs): gradients of outputs w.r.t. inputs, without touching `.grad`. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const result = N.autogradGrad(outs, ins, options.gradOutputs, options.retainGraph, options.createGraph, options.allowUnused) as (Tensor | null)[];
  trackAll(result.filter((t): t is Tensor => t !== null));
  return result;
}
