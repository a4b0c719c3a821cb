// Loads the compiled addon (build/Release/hcc_torch.node) once per thread; it is context-aware, so every
// worker_thread gets its own instance.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/src/native.js -> package root
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = join(packageRoot, 'build', 'Release', 'hcc_torch.node');

// Debian's libtorch does its matrix products in the system BLAS, OpenBLAS, which keeps its own pthread pool beside
// libtorch's OpenMP threads; its threads busy-wait after each call and take the cores the next op's OpenMP threads
// need (on 2 loaded cores the PMN training step took 1.7x the CPU time, its matrix products 2-3x). Unless the user
// chose otherwise, BLAS runs on the calling thread. OpenBLAS reads this when it loads, i.e. with the addon below.
process.env.OPENBLAS_NUM_THREADS ??= '1';

function load(): NativeAddon {
  if (!existsSync(addonPath)) {
    throw new Error(`@hcc/torch: the native addon ${addonPath} is not built; run \`make setup\` (or \`npm run build -w @hcc/torch\`)`);
  }
  try {
    return createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(`@hcc/torch: cannot load ${addonPath}: ${message}. If libtorch moved or changed, rebuild with \`npm run build:addon -w @hcc/torch\``);
  }
}

/** The raw addon: generated ops take positional arguments in PyTorch order (see src/gen/ops.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeAddon = Record<string, any>;

export const native: NativeAddon = load();
