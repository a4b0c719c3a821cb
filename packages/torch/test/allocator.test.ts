// allocator(): what the process runs under, and the addon giving jemalloc's arena 0 the configured
// oversize_threshold (jemalloc 5.3 creates that arena before it applies the option, so it would keep 8 MiB and purge
// libtorch's convolution buffers on every free). Each case is a child process: the allocator is chosen at exec.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { AllocatorInfo } from '../src/index.js';

const jemalloc = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2'].find((p) => existsSync(p));
const noJemalloc = jemalloc ? false : 'libjemalloc2 is not installed';
const index = new URL('../src/index.js', import.meta.url).href;
const JEMALLOC_DEFAULT_OVERSIZE = 8 << 20;

function allocatorIn(env: Record<string, string>): AllocatorInfo {
  const { LD_PRELOAD: _preload, MALLOC_CONF: _conf, ...rest } = process.env;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e',
    `const t = await import(${JSON.stringify(index)}); process.stdout.write(JSON.stringify(t.allocator()));`],
  { env: { ...rest, ...env }, encoding: 'utf8' });
  return JSON.parse(out) as AllocatorInfo;
}

test('under the system allocator the addon loads and reports it, touching nothing', () => {
  assert.deepEqual(allocatorIn({}), { name: 'system' });
});

test('under jemalloc arena 0 gets the configured oversize_threshold, as hcc configures it', { skip: noJemalloc }, () => {
  const info = allocatorIn({ LD_PRELOAD: jemalloc!, MALLOC_CONF: 'narenas:1,oversize_threshold:4294967296' });
  assert.equal(info.name, 'jemalloc');
  if (info.name !== 'jemalloc') return;
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  assert.equal(info.narenas, 1);
  assert.equal(info.oversizeThreshold, 4294967296);
  assert.equal(info.arena0OversizeThreshold, 4294967296);
  // page decay stays jemalloc's default: freed pages still go back to the OS after 10 s
  assert.equal(info.dirtyDecayMs, 10000);
});

test('under jemalloc without the option, or with a value jemalloc rejects, arena 0 keeps its default', { skip: noJemalloc }, () => {
  const rejected = allocatorIn({ LD_PRELOAD: jemalloc!, MALLOC_CONF: 'oversize_threshold:1' });
  assert.deepEqual(rejected.name === 'jemalloc' && [rejected.oversizeThreshold, rejected.arena0OversizeThreshold], [0, JEMALLOC_DEFAULT_OVERSIZE]);
  const decayOff = allocatorIn({ LD_PRELOAD: jemalloc!, MALLOC_CONF: 'dirty_decay_ms:-1,muzzy_decay_ms:-1' });
  assert.deepEqual(decayOff.name === 'jemalloc' && [decayOff.arena0OversizeThreshold, decayOff.dirtyDecayMs, decayOff.muzzyDecayMs],
    [JEMALLOC_DEFAULT_OVERSIZE, -1, -1]);
});
