// Builds bench/reference.cc (plain C++ libtorch, same flags as the addon) into build/bench/ once and runs it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/torch, from dist/bench/*.js or bench/*.ts. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function config(what: string): string[] {
  return execFileSync(process.execPath, [join(packageRoot, 'scripts', 'torch-config.mjs'), what], { encoding: 'utf8' })
    .split('\n').filter(Boolean);
}

export function referenceBinary(): string {
  const src = join(packageRoot, 'bench', 'reference.cc');
  const out = join(packageRoot, 'build', 'bench', 'reference');
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(dirname(out), { recursive: true });
    const args = ['-O2', '-std=c++17', ...config('cflags'), ...config('include').map((d) => `-I${d}`), src, '-o', out, ...config('libs')];
    process.stderr.write(`building ${out}\n`);
    execFileSync('g++', args, { stdio: 'inherit' });
  }
  return out;
}

export function runReference(...args: string[]): unknown {
  return JSON.parse(execFileSync(referenceBinary(), args, { encoding: 'utf8' }));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
