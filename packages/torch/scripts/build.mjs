#!/usr/bin/env node
// Builds @hcc/torch: the native addon (node-gyp, only when its sources, binding.gyp or the libtorch found by
// torch-config.mjs changed) and then the TypeScript. Flags: --addon-only, --force (rebuild the addon).
// No downloads: node-gyp is pointed at the running Node's own headers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchConfig } from './torch-config.mjs';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const argv = new Set(process.argv.slice(2));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: pkg, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`@hcc/torch build: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  paths.forEach(visit);
  return newest;
}

function buildAddon() {
  const config = torchConfig();
  const sources = readdirSync(join(pkg, 'native'), { recursive: true }).filter((f) => f.endsWith('.cc')).sort();
  const stamp = JSON.stringify({ config, sources, node: process.versions.modules }, null, 2);
  const stampFile = join(pkg, 'build', 'torch-config.json');
  const addon = join(pkg, 'build', 'Release', 'hcc_torch.node');
  const inputsChanged = !existsSync(addon)
    || newestMtime([join(pkg, 'native'), join(pkg, 'binding.gyp'), join(pkg, 'scripts', 'torch-config.mjs')]) > statSync(addon).mtimeMs;
  const configChanged = !existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp;
  if (!argv.has('--force') && !inputsChanged && !configChanged) return;
  const gyp = require.resolve('node-gyp/bin/node-gyp.js');
  const nodeRoot = dirname(dirname(process.execPath));
  const nodedir = existsSync(join(nodeRoot, 'include', 'node', 'node_api.h')) ? [`--nodedir=${nodeRoot}`] : [];
  // Shared 2-core machines: never more than 2 compiler jobs (each peaks near 0.8 GB).
  const jobs = String(Math.max(1, Math.min(Number(process.env.JOBS) || 2, availableParallelism())));
  process.stdout.write(`@hcc/torch: building the addon against ${config.source} (libtorch ${config.version}${config.cuda ? ', CUDA' : ''}), -j${jobs}\n`);
  if (configChanged || argv.has('--force') || !existsSync(join(pkg, 'build', 'Makefile'))) {
    run(process.execPath, [gyp, 'configure', ...nodedir]);
  }
  run(process.execPath, [gyp, 'build', '-j', jobs]);
  mkdirSync(dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, stamp);
}

buildAddon();
if (!argv.has('--addon-only')) {
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')]);
}
