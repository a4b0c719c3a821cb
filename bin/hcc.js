#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `make setup` into dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('hcc: not built yet. Run `make setup` in the repository root first.\n');
  process.exit(3);
}
let runCli;
try {
  ({ runCli } = await import(main));
} catch (err) {
  process.stderr.write(`hcc: the build in dist/ is incomplete or stale (${err.message}). Run \`make setup\` again.\n`);
  process.exit(3);
}
process.exitCode = await runCli(process.argv.slice(2));
