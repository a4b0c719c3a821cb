import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Tests run from dist/test/...; everything is located from the repository root, never from the cwd. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'Makefile'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('test helpers: repository root (with its Makefile) not found');
    dir = up;
  }
  return dir;
}

export const repoRoot = findRepoRoot();

/** Committed test data: test/fixtures/<path>. */
export function fixture(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts);
}

/** The shared folder beside the checkout (real DICOM/NIfTI samples, R oracle). HCC_SHARED overrides it. */
export const sharedDir = resolve(process.env.HCC_SHARED ?? join(repoRoot, '..', 'shared'));

export function shared(...parts: string[]): string {
  return join(sharedDir, ...parts);
}
