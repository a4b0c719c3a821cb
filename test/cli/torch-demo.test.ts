import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

// One thread: the demo's numbers must not depend on how many cores the test machine has.
const hcc = (...args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'bin', 'hcc.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TORCH_NUM_THREADS: '1', HCC_PROGRESS: 'none' },
  });

test('hcc torch-demo --json trains, lowers the loss, and repeats bit for bit with the same seed', () => {
  const a = hcc('torch-demo', '--steps', '12', '--seed', '3', '--json');
  assert.equal(a.status, 0, a.stderr);
  const first = JSON.parse(a.stdout);
  assert.equal(first.steps, 12);
  assert.equal(first.parameters, 2001);
  assert.ok(first.finalLoss < first.firstLoss, `loss ${first.firstLoss} -> ${first.finalLoss}`);
  const b = JSON.parse(hcc('torch-demo', '--steps', '12', '--seed', '3', '--json').stdout);
  assert.equal(b.firstLoss, first.firstLoss);
  assert.equal(b.finalLoss, first.finalLoss);
  const c = JSON.parse(hcc('torch-demo', '--steps', '12', '--seed', '4', '--json').stdout);
  assert.notEqual(c.firstLoss, first.firstLoss);
});

test('hcc torch-demo rejects bad options with exit code 2', () => {
  const r = hcc('torch-demo', '--steps', '0');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--steps must be a positive integer/);
});
