import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

const hcc = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'hcc.js'), ...args], { encoding: 'utf8' });

test('hcc --help lists commands and exits 0', () => {
  const r = hcc('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: hcc <command>/);
});

test('an unknown command exits 2 with a hint, never a stack trace', () => {
  const r = hcc('no-such-command');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'no-such-command'/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});
