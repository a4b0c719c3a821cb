// conv3d's CPU weight gradient computed as a convolution (native/conv.cc) against ATen's own convolution backward:
// forward and every gradient in float64 (1e-12) and float32 (1e-5), which convolutions take that path and which
// stay ATen's, the switch, and the shape error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { conv3dWeightGradAsConv, setConv3dWeightGradAsConv, tidy, type Tensor } from '../src/index.js';
import { assertClose } from './core-helpers.js';

interface Case { name: string; n: number; cin: number; cout: number; size: [number, number, number]; kernel: [number, number, number]; padding: number | number[]; bias: boolean; inputGrad: boolean }

const CASES: Case[] = [
  { name: '3x3x3, padding 1, bias', n: 2, cin: 8, cout: 5, size: [6, 5, 7], kernel: [3, 3, 3], padding: 1, bias: true, inputGrad: true },
  { name: '3x3x3, no padding, no bias, batch 1', n: 1, cin: 9, cout: 3, size: [5, 6, 4], kernel: [3, 3, 3], padding: 0, bias: false, inputGrad: true },
  { name: 'anisotropic kernel and padding', n: 3, cin: 12, cout: 4, size: [4, 7, 6], kernel: [1, 3, 5], padding: [0, 1, 2], bias: true, inputGrad: true },
  { name: 'input without grad (a first layer)', n: 2, cin: 8, cout: 6, size: [5, 5, 5], kernel: [3, 3, 3], padding: 1, bias: true, inputGrad: false },
];

function leaf(shape: number[], dtype: 'float32' | 'float64', requiresGrad = true): Tensor {
  return torch.randn(shape, { dtype }).requiresGrad_(requiresGrad);
}

/** Output and the gradients (input, weight, bias) of a weighted sum of conv3d's output. */
function run(c: Case, x: Tensor, w: Tensor, b: Tensor | null, g: Tensor, asConv: boolean): { y: Tensor; grads: (Tensor | null)[]; gradFn: string | null } {
  const previous = conv3dWeightGradAsConv();
  setConv3dWeightGradAsConv(asConv);
  try {
    const y = torch.F.conv3d(x, w, b, 1, c.padding);
    const inputs = [...(c.inputGrad ? [x] : []), w, ...(b ? [b] : [])];
    const grads = torch.autograd.grad(y.mul(g).sum(), inputs);
    return { y, grads, gradFn: y.gradFn };
  } finally {
    setConv3dWeightGradAsConv(previous);
  }
}

for (const dtype of ['float64', 'float32'] as const) {
  const tol = dtype === 'float64' ? 1e-12 : 1e-5;
  for (const c of CASES) {
    test(`conv3d weight gradient as a convolution equals ATen's (${dtype}, ${c.name})`, () => tidy(() => {
      torch.manualSeed(7);
      const x = leaf([c.n, c.cin, ...c.size], dtype, c.inputGrad);
      const w = leaf([c.cout, c.cin, ...c.kernel], dtype);
      const b = c.bias ? leaf([c.cout], dtype) : null;
      const ref = run(c, x, w, b, torch.onesLike(torch.F.conv3d(x, w, b, 1, c.padding)), false);
      const g = torch.randnLike(ref.y);
      const expected = run(c, x, w, b, g, false);
      const actual = run(c, x, w, b, g, true);
      assert.match(actual.gradFn ?? '', /Conv3dWgradAsConv/, 'the custom op ran');
      assert.match(expected.gradFn ?? '', /ConvolutionBackward/, 'the reference is ATen');
      assertClose(actual.y, expected.y, tol, 'output');
      assert.equal(actual.grads.length, expected.grads.length);
      actual.grads.forEach((gr, i) => assertClose(gr!, expected.grads[i]!, tol, `gradient ${i}`));
    }));
  }
}

test('conv3d keeps ATen where the convolution is strided, dilated, grouped, 1x1x1, has few input channels, or needs no weight gradient', () => tidy(() => {
  const x8 = torch.randn([1, 8, 6, 6, 6]);
  const w = (cout: number, cin: number, k: number) => torch.randn([cout, cin, k, k, k]).requiresGrad_();
  const name = (y: Tensor) => y.gradFn ?? 'none';
  assert.match(name(torch.F.conv3d(x8, w(4, 8, 3), null, 1, 1)), /Conv3dWgradAsConv/);
  assert.match(name(torch.conv3d(x8, w(4, 8, 3), null, 1, 1)), /Conv3dWgradAsConv/, 'torch.conv3d is F.conv3d');
  assert.match(name(torch.F.conv3d(x8, w(4, 8, 3), null, 2, 1)), /ConvolutionBackward/, 'stride 2');
  assert.match(name(torch.F.conv3d(x8, w(4, 8, 3), null, [1, 1, 2], 1)), /ConvolutionBackward/, 'stride 2 on one axis');
  assert.match(name(torch.F.conv3d(x8, w(4, 8, 3), null, 1, 2, 2)), /ConvolutionBackward/, 'dilation 2');
  assert.match(name(torch.F.conv3d(x8, w(4, 4, 3), null, 1, 1, 1, 2)), /ConvolutionBackward/, 'groups 2');
  assert.match(name(torch.F.conv3d(x8, w(4, 8, 1), null, 1, 0)), /ConvolutionBackward/, '1x1x1');
  assert.match(name(torch.F.conv3d(torch.randn([1, 4, 6, 6, 6]), w(4, 4, 3), null, 1, 1)), /ConvolutionBackward/, '4 input channels');
  const frozen = torch.randn([4, 8, 3, 3, 3]);
  assert.match(name(torch.F.conv3d(x8.clone().requiresGrad_(), frozen, null, 1, 1)), /ConvolutionBackward/, 'weight without grad');
  assert.equal(torch.noGrad(() => torch.F.conv3d(x8, w(4, 8, 3), null, 1, 1)).gradFn, null, 'no grad mode');
  // nn.Conv3d goes through F.conv3d
  const conv = new torch.nn.Conv3d(8, 4, 3, { padding: 1 });
  assert.match(name(conv.forward(x8)), /Conv3dWgradAsConv/);
}));

test('conv3d with mismatched channels names both counts', () => tidy(() => {
  const x = torch.randn([1, 9, 4, 4, 4]);
  const w = torch.randn([2, 8, 3, 3, 3]).requiresGrad_();
  assert.throws(() => torch.F.conv3d(x, w, null, 1, 1), /weight has 8 input channels but input has 9/);
}));
