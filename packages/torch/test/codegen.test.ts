// The committed generated op wrappers are exactly what codegen/gen.mjs makes from codegen/ops.spec, and every
// spec entry is reachable from JS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as torch from '../src/index.js';
import { native } from '../src/native.js';
import { fixturePath } from './fixture-path.js';

const packageRoot = dirname(dirname(fixturePath()));

interface Generator {
  render(): { files: Record<string, string>; count: number };
  parseSpec(text: string): { js: string; flags: Set<string>; name: string }[];
}

test('generated files are up to date with codegen/ops.spec', async () => {
  const gen = (await import(pathToFileURL(join(packageRoot, 'codegen', 'gen.mjs')).href)) as Generator;
  const { files, count } = gen.render();
  assert.ok(count > 200);
  for (const [rel, text] of Object.entries(files)) {
    assert.equal(readFileSync(join(packageRoot, rel), 'utf8'), text, `${rel} is stale: run npm run codegen -w @hcc/torch`);
  }
});

test('every spec op is a native function and, where flagged, a Tensor method', async () => {
  const gen = (await import(pathToFileURL(join(packageRoot, 'codegen', 'gen.mjs')).href)) as Generator;
  const ops = gen.parseSpec(readFileSync(join(packageRoot, 'codegen', 'ops.spec'), 'utf8'));
  const proto = torch.Tensor.prototype as unknown as Record<string, unknown>;
  for (const op of ops) {
    assert.equal(typeof native[op.js], 'function', `native.${op.js}`);
    const methodOnly = op.flags.has('methodonly') || op.name.endsWith('_');
    if (!methodOnly) assert.equal(typeof (torch as Record<string, unknown>)[op.js], 'function', `torch.${op.js}`);
    if (op.flags.has('method') || methodOnly) assert.equal(typeof proto[op.js], 'function', `Tensor.${op.js}`);
    if (op.flags.has('inplace')) assert.equal(typeof proto[`${op.js}_`], 'function', `Tensor.${op.js}_`);
  }
});
