// Threads, seeds, memory counters and CUDA queries.
import { availableParallelism } from 'node:os';
import { native as N } from './native.js';

/** Sets libtorch's intra-op thread count for the calling thread (each worker_thread has its own). */
export function setNumThreads(threads: number): void {
  N.setNumThreads(threads);
}

export function getNumThreads(): number {
  return N.getNumThreads() as number;
}

/** Threads each of `workers` workers may use so that workers × threads ≤ the cores available. */
export function threadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
}

/** Seeds libtorch's CPU (and CUDA) generators, as torch.manual_seed. */
export function manualSeed(seed: number): void {
  N.manualSeed(seed);
}

export interface MemoryInfo {
  /** Tensor objects currently holding a tensor (created and not yet disposed or collected). */
  live: number;
  /** Highest `live` since load or resetPeak(). */
  peak: number;
  created: number;
  disposed: number;
  /** Tensors freed by the GC finalizer because nobody disposed them. */
  finalized: number;
  /** Native bytes currently reported to V8 as external memory (CPU tensors not created by fromBlob). */
  externalBytes: number;
}

/** Live-tensor counters for this thread (like tf.memory() / TorchSharp's Tensor.TotalCount). */
export function memory(): MemoryInfo {
  return N.memory() as MemoryInfo;
}

export function resetPeak(): void {
  N.resetPeak();
}

/**
 * The malloc the process runs under. `hcc` preloads jemalloc (bin/hcc.js); loading this addon then gives jemalloc's
 * arena 0 the configured `oversize_threshold`, which jemalloc 5.3 applies to every arena but that one, so that
 * libtorch's large convolution buffers are not handed back to the OS on every free (README, "Memory").
 */
export type AllocatorInfo =
  | { name: 'system' }
  | {
      name: 'jemalloc';
      version: string;
      narenas: number;
      /** Arena 0's page decay; -1 keeps freed pages for good. */
      dirtyDecayMs: number;
      muzzyDecayMs: number;
      /** MALLOC_CONF's oversize_threshold: freed extents this large are purged at once unless a decay is -1. */
      oversizeThreshold: number;
      arena0OversizeThreshold: number;
    };

export function allocator(): AllocatorInfo {
  return N.allocator() as AllocatorInfo;
}

export const cuda = {
  isAvailable(): boolean {
    return N.cudaIsAvailable() as boolean;
  },
  deviceCount(): number {
    return N.cudaDeviceCount() as number;
  },
  synchronize(device = -1): void {
    N.cudaSynchronize(device);
  },
};

export interface BuildInfo {
  parallel: string;
  cudaBuild: boolean;
}

export function buildInfo(): BuildInfo {
  return N.buildInfo() as BuildInfo;
}

// libtorch picks 1 intra-op thread on small VMs; use the cores Node sees unless TORCH_NUM_THREADS says otherwise.
// Worker threads start with the same default and should cap themselves with setNumThreads(threadsPerWorker(k)).
function initThreads(): void {
  const fromEnv = Number(process.env.TORCH_NUM_THREADS);
  const threads = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism();
  setNumThreads(threads);
}
initThreads();
