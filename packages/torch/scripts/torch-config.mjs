#!/usr/bin/env node
// Finds libtorch and prints the compiler/linker flags binding.gyp needs (tch-rs order):
//   1. LIBTORCH=/dir            official zip layout (include/, include/torch/csrc/api/include, lib/,
//                               share/cmake/Torch/TorchConfig.cmake for the C++ ABI)
//   2. LIBTORCH_USE_PYTORCH=1   the libtorch inside the `torch` package of $PYTHON (default python3)
//   3. Debian's libtorch-dev    /usr/include + /usr/lib/<multiarch>
// Usage: node scripts/torch-config.mjs include|cflags|libs|ldflags|sources|json
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

function fail(message) {
  process.stderr.write(`@hcc/torch: ${message}\n`);
  process.exit(1);
}

/** `-D_GLIBCXX_USE_CXX11_ABI=N` as written by libtorch's own CMake config; null if it says nothing. */
function abiFromCmake(cmakeFile) {
  if (!existsSync(cmakeFile)) return null;
  const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(readFileSync(cmakeFile, 'utf8'));
  return m ? Number(m[1]) : null;
}

function versionFromHeaders(includeDirs) {
  for (const dir of includeDirs) {
    const file = join(dir, 'torch', 'version.h');
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const part = (name) => (new RegExp(`#define TORCH_VERSION_${name} (\\d+)`).exec(text) ?? [])[1];
    if (part('MAJOR') !== undefined) return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  }
  return 'unknown';
}

function fromRoot(root, source, abiOverride) {
  const include = [join(root, 'include'), join(root, 'include', 'torch', 'csrc', 'api', 'include')];
  const libDir = join(root, 'lib');
  if (!existsSync(join(include[0], 'ATen', 'core', 'Tensor.h'))) {
    fail(`${source}: ${include[0]}/ATen/core/Tensor.h not found; expected the official libtorch zip layout`);
  }
  if (!existsSync(join(libDir, 'libtorch_cpu.so')) && !existsSync(join(libDir, 'libtorch_cpu.dylib'))) {
    fail(`${source}: no libtorch_cpu in ${libDir}`);
  }
  const abi = abiOverride ?? abiFromCmake(join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'));
  return { source, root, include, libDir, abi };
}

function resolve() {
  if (process.env.LIBTORCH) return fromRoot(process.env.LIBTORCH, `LIBTORCH=${process.env.LIBTORCH}`, null);
  if (process.env.LIBTORCH_USE_PYTORCH === '1') {
    const python = process.env.PYTHON ?? 'python3';
    let out;
    try {
      out = execFileSync(python, ['-c',
        'import os, torch; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))'],
      { encoding: 'utf8' });
    } catch (e) {
      fail(`LIBTORCH_USE_PYTORCH=1 but \`${python} -c "import torch"\` failed: ${e.message}`);
    }
    const [root, abi] = out.trim().split('\n');
    if (existsSync(join(root, 'include', 'ATen'))) return fromRoot(root, `PyTorch at ${root}`, Number(abi));
    // Debian's python3-torch has no headers of its own; they come with libtorch-dev.
  }
  const multiarch = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']
    .find((dir) => existsSync(join(dir, 'libtorch_cpu.so')));
  if (!multiarch || !existsSync('/usr/include/ATen/core/Tensor.h')) {
    fail('libtorch not found. Install Debian\'s libtorch-dev (`make setup` does), set LIBTORCH=/path/to/libtorch '
      + '(unzipped official build), or LIBTORCH_USE_PYTORCH=1 to use the libtorch of an installed PyTorch.');
  }
  const include = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  return {
    source: 'Debian libtorch-dev', root: '/usr', include, libDir: multiarch,
    abi: abiFromCmake(join(multiarch, 'cmake', 'Torch', 'TorchConfig.cmake')),
  };
}

function hasLib(libDir, name) {
  return existsSync(join(libDir, `lib${name}.so`)) || existsSync(join(libDir, `lib${name}.dylib`));
}

export function torchConfig() {
  const found = resolve();
  const cuda = hasLib(found.libDir, 'torch_cuda');
  const version = versionFromHeaders(found.include);
  // node-gyp's "libraries" keeps order; torch_cuda must be linked although nothing references its symbols
  // (it registers the CUDA backend from static initialisers), hence --no-as-needed around it.
  const libs = [`-L${found.libDir}`, `-Wl,-rpath,${found.libDir}`];
  if (cuda) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', ...(hasLib(found.libDir, 'c10_cuda') ? ['-lc10_cuda'] : []), '-Wl,--as-needed');
  libs.push('-ltorch', '-ltorch_cpu', '-lc10');
  // ATen's headers refuse C++17 from PyTorch 2.12 on (`#error C++20 or later compatible compiler is required`);
  // older ones (Debian's 1.13) predate C++20 support, so the standard follows the version.
  const [major, minor] = version.split('.').map(Number);
  const cflags = [major > 2 || (major === 2 && minor >= 12) ? '-std=c++20' : '-std=c++17'];
  if (found.abi !== null) cflags.push(`-D_GLIBCXX_USE_CXX11_ABI=${found.abi}`);
  if (cuda) cflags.push('-DHCC_TORCH_CUDA=1');
  return { ...found, cuda, version, libs, cflags };
}

function nativeSources() {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(packageDir, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.cc')) out.push(rel);
    }
  };
  walk('native');
  return out.sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2];
  const config = what === 'sources' ? null : torchConfig();
  const print = (items) => process.stdout.write(items.join('\n') + '\n');
  switch (what) {
    case 'include': print(config.include); break;
    case 'cflags': print(config.cflags); break;
    case 'libs': print(config.libs); break;
    case 'sources': print(nativeSources()); break;
    case 'json': process.stdout.write(JSON.stringify(config, null, 2) + '\n'); break;
    default: fail(`torch-config: unknown query ${JSON.stringify(what)} (include|cflags|libs|sources|json)`);
  }
}
