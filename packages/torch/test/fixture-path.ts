import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Tests run from dist/test/; fixtures stay in the package's test/fixtures/, found by walking up. */
export function fixturePath(...parts: string[]): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return join(candidate, ...parts);
    const up = dirname(dir);
    if (up === dir) throw new Error('fixturePath: packages/torch/test/fixtures not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
