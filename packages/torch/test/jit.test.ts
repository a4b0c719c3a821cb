// TorchScript inference against the output python3-torch computed for the same scripted module.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { tidy, type Tensor } from '../src/index.js';
import { assertClose, Reference } from './core-helpers.js';
import { fixturePath } from './fixture-path.js';

test('jit.load runs a scripted conv/norm/transposed-conv net and returns its tuple like Python', () => {
  const ref = new Reference();
  tidy(() => {
    const m = torch.jit.load(fixturePath('core', 'tiny_script.pt'));
    const out = torch.noGrad(() => m.forward(ref.tensor('jit/input'))) as Tensor[];
    assert.equal(out.length, 2);
    assertClose(out[0], ref.tensor('jit/out0'), 1e-12, 'segmentation output');
    assertClose(out[1], ref.tensor('jit/out1'), 1e-12, 'mean');
    const names = m.namedParameters().map(([n]) => n);
    assert.equal(names.length, ref.index.cases.jit.parameters);
    assert.ok(names.includes('conv.weight') && names.includes('up.bias'));
  });
});
