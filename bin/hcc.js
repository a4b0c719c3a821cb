#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `make setup` into dist/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

// libtorch training loops fragment glibc's heap (RSS grows even with every tensor disposed; see BENCHMARKS.md,
// "Torch binding"), so re-run once with jemalloc preloaded when it is installed. HCC_NO_JEMALLOC=1 opts out.
const jemalloc = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2'].find((p) => existsSync(p));
if (jemalloc && !process.env.HCC_NO_JEMALLOC && !(process.env.LD_PRELOAD ?? '').includes('libjemalloc')) {
  // jemalloc 5.3 purges every freed extent of 8 MiB or more at once (its oversize_threshold), whatever the page
  // decay, so each 3-D convolution's scratch buffer faulted in again on every call: segmenting a 512x512x100 CT took
  // 102 s of CPU that way and 52 s without (BENCHMARKS.md). Decay off (the old setting) skips that purge but keeps
  // every freed page for good, so worker threads freeing new buffers per case grew without bound (demo: 6.9 GB).
  // A 4 GiB threshold stops the eager purge while the default 10 s decay still returns what stays unused;
  // @hcc/torch applies it to arena 0 too, which jemalloc creates before it applies the option. One arena lets every
  // thread reuse the pages another freed.
  const env = {
    ...process.env,
    LD_PRELOAD: [jemalloc, process.env.LD_PRELOAD].filter(Boolean).join(':'),
    MALLOC_CONF: process.env.MALLOC_CONF ?? 'narenas:1,oversize_threshold:4294967296',
  };
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env });
  if (child.error) {
    process.stderr.write(`hcc: could not re-run with jemalloc (${child.error.message}); set HCC_NO_JEMALLOC=1\n`);
    process.exit(3);
  }
  process.exit(child.status ?? 128 + (constants.signals[child.signal] ?? 1));
}
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('hcc: not built yet. Run `make setup` in the repository root first.\n');
  process.exit(3);
}
// OpenMP threads that spin while waiting steal the event loop's core and, on a shared 2-core server, each
// other's: measured 535 ms per training step spinning against 78 ms passive. It must be set before libtorch loads.
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
let runCli;
try {
  ({ runCli } = await import(main));
} catch (err) {
  process.stderr.write(`hcc: the build in dist/ is incomplete or stale (${err.message}). Run \`make setup\` again.\n`);
  process.exit(3);
}
process.exitCode = await runCli(process.argv.slice(2));
