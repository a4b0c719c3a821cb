// Helpers for long training loops. Disposing temporaries is not enough on its own: each disposed tensor leaves
// a small native wrapper that is freed only when the event loop turns (Node 20 runs N-API finalizers there),
// and a synchronous loop fragments the glibc heap (RSS grew by ~0.3 MB/step in the prototype). Yielding once per
// step keeps RSS flat at no cost; see BENCHMARKS.md "Torch binding".
import { disposeUnkept, tidy } from './scope.js';

/** Lets the event loop turn (and pending finalizers run). Await it once per training step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface LoopOptions<T> {
  /** Called after each step with the step's (kept) result. */
  onStep?: (step: number, result: T) => void | Promise<void>;
  /** First step index (when resuming); default 0. */
  start?: number;
}

/**
 * Runs `body(step)` for steps start..steps-1, each inside tidy() (its return value survives until onStep has
 * seen it and is then disposed), yielding to the event loop after every step.
 */
export async function trainLoop<T>(steps: number, body: (step: number) => T, options: LoopOptions<T> = {}): Promise<void> {
  for (let step = options.start ?? 0; step < steps; step++) {
    const result = tidy(() => body(step));
    try {
      await options.onStep?.(step, result);
    } finally {
      disposeUnkept(result);
    }
    await yieldToEventLoop();
  }
}
