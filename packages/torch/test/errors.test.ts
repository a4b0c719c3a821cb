// libtorch errors become JS Errors carrying libtorch's message without the C++ backtrace; bad arguments are
// TypeErrors naming the argument; nothing aborts the process.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { F, tensor, tidy } from '../src/index.js';

function throwsClean(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, 'a JS Error');
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /Exception raised from|frame #\d|\.cpp:\d+/, 'no C++ backtrace');
    return true;
  });
}

test('shape mismatches carry libtorch\'s message, prefixed with the op', () => {
  tidy(() => {
    throwsClean(() => torch.add(torch.ones([2, 3]), torch.ones([4])), /^add: The size of tensor a \(3\) must match the size of tensor b \(4\)/);
    throwsClean(() => F.conv3d(torch.ones([1, 2, 4, 4, 4]), torch.ones([3, 1, 3, 3, 3])), /^conv3d: Given groups=1, weight of size \[3, 1, 3, 3, 3\], expected input\[1, 2, 4, 4, 4\] to have 1 channels/);
    throwsClean(() => torch.matmul(torch.ones([2, 3]), torch.ones([2, 3])), /^matmul: .*cannot be multiplied/);
    throwsClean(() => torch.ones([6]).reshape([4, -1]), /^reshape: shape '\[4, -1\]' is invalid for input of size 6/);
    throwsClean(() => torch.cat([torch.ones([2, 2]), torch.ones([3, 3])], 0), /^cat: Sizes of tensors must match/);
  });
});

test('dtype mismatches and invalid values are JS errors', () => {
  tidy(() => {
    throwsClean(() => torch.mm(torch.ones([2, 2]), torch.ones([2, 2], { dtype: 'float64' })), /^mm: expected .*(same dtype|Double|Float)/);
    throwsClean(() => F.crossEntropy(torch.ones([2, 3]), tensor([0.5, 1.5])), /^crossEntropyLoss: /);
    throwsClean(() => torch.ones([2]).select(0, 5), /^select: .*index 5 out of range/);
    throwsClean(() => F.interpolate(torch.ones([1, 1, 2, 2]), { size: 3, mode: 'trilinear' }), /mode 'trilinear' needs a 5-D input/);
  });
});

test('bad argument types are TypeErrors naming the argument', () => {
  tidy(() => {
    assert.throws(() => torch.add({} as never, 1), (e: unknown) => e instanceof TypeError && /add: argument 'input' must be a Tensor/.test(e.message));
    assert.throws(() => torch.conv3d(torch.ones([1, 1, 3, 3, 3]), torch.ones([1, 1, 1, 1, 1]), null, [1, 2] as never), /conv3d: argument 'stride' must be an integer or an array of 3 integers/);
    assert.throws(() => torch.zeros([2], { dtype: 'complex64' as never }), /zeros: unknown dtype 'complex64'/);
    assert.throws(() => torch.sum(torch.ones([2]), 'x' as never), /sum: argument 'dim' must be an integer array/);
    assert.throws(() => new (torch.Tensor as unknown as new () => unknown)(), /cannot be constructed with `new`/);
  });
});

test('jit.load of a missing or corrupt file names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-torch-'));
  const bad = join(dir, 'corrupt.pt');
  writeFileSync(bad, 'PK\u0003\u0004 this is not a zip archive');
  throwsClean(() => torch.jit.load(join(dir, 'missing.pt')), /jit\.load\(.*missing\.pt\)/);
  throwsClean(() => torch.jit.load(bad), /jit\.load\(.*corrupt\.pt\)/);
});
