// Forward and backward of conv/norm/resampling/loss ops against python3-torch (fixtures/core/make_fixtures.py).
import { test } from 'node:test';
import { F, tidy, type Tensor } from '../src/index.js';
import * as torch from '../src/index.js';
import { assertClose, Reference } from './core-helpers.js';

const ref = new Reference();

/** Runs fn on the case's inputs (floating ones require grad), compares out and every stored input gradient. */
function check(name: string, inputs: string[], fn: (x: Record<string, Tensor>) => Tensor, tol: number): void {
  tidy(() => {
    const x: Record<string, Tensor> = {};
    for (const k of inputs) {
      const t = ref.tensor(`${name}/${k}`);
      x[k] = t.dtype.startsWith('float') ? t.requiresGrad_() : t;
    }
    const out = fn(x);
    assertClose(out, ref.tensor(`${name}/out`), tol, `${name} forward`);
    if (!ref.has(`${name}/grad_out`)) return;
    out.backward(ref.tensor(`${name}/grad_out`));
    for (const k of inputs) {
      if (!ref.has(`${name}/grad_${k}`)) continue;
      assertClose(x[k].grad!, ref.tensor(`${name}/grad_${k}`), tol, `${name} d/d${k}`);
    }
  });
}

const TOL64 = 1e-10;

test('conv3d forward and backward match PyTorch (float64, strides and padding per axis)', () => {
  check('conv3d', ['input', 'weight', 'bias'], (x) => F.conv3d(x.input, x.weight, x.bias, [1, 2, 1], [1, 0, 2]), TOL64);
});

test('grouped strided conv3d matches PyTorch', () => {
  check('conv3d_groups', ['input', 'weight', 'bias'], (x) => F.conv3d(x.input, x.weight, x.bias, 2, 1, 1, 2), TOL64);
});

test('float32 conv3d (oneDNN path) matches PyTorch to float32 precision', () => {
  check('conv3d_f32', ['input', 'weight', 'bias'], (x) => F.conv3d(x.input, x.weight, x.bias, 1, 1), 1e-5);
});

test('convTranspose3d forward and backward match PyTorch (stride 2, output padding)', () => {
  check('conv_transpose3d', ['input', 'weight', 'bias'], (x) => F.convTranspose3d(x.input, x.weight, x.bias, 2, 1, 1), TOL64);
  check('conv_transpose3d_k2', ['input', 'weight', 'bias'], (x) => F.convTranspose3d(x.input, x.weight, x.bias, 2), TOL64);
});

test('depthwise conv1d matches PyTorch', () => {
  check('conv1d', ['input', 'weight', 'bias'], (x) => F.conv1d(x.input, x.weight, x.bias, 1, 3, 1, 5), TOL64);
});

test('instance, group and layer norm forward and backward match PyTorch', () => {
  check('instance_norm', ['input', 'weight', 'bias'], (x) => F.instanceNorm(x.input, null, null, x.weight, x.bias, true, 0.1, 1e-5), TOL64);
  check('group_norm', ['input', 'weight', 'bias'], (x) => F.groupNorm(x.input, 2, x.weight, x.bias, 1e-5), TOL64);
  check('layer_norm', ['input', 'weight', 'bias'], (x) => F.layerNorm(x.input, [6], x.weight, x.bias, 1e-5), TOL64);
});

test('batch norm in training mode matches PyTorch, running statistics included', () => {
  const rm = ref.tensor('batch_norm/running_mean_before').keep();
  const rv = ref.tensor('batch_norm/running_var_before').keep();
  check('batch_norm', ['input', 'weight', 'bias'], (x) => F.batchNorm(x.input, rm, rv, x.weight, x.bias, true, 0.1, 1e-5), TOL64);
  assertClose(rm, ref.tensor('batch_norm/running_mean_after'), TOL64, 'running mean');
  assertClose(rv, ref.tensor('batch_norm/running_var_after'), TOL64, 'running var');
  rm.dispose();
  rv.dispose();
});

test('interpolate (trilinear to a size, nearest by a scale factor) matches PyTorch', () => {
  check('interpolate_trilinear', ['input'], (x) => F.interpolate(x.input, { size: [5, 7, 4], mode: 'trilinear', alignCorners: false }), TOL64);
  check('interpolate_nearest', ['input'], (x) => F.interpolate(x.input, { scaleFactor: 2, mode: 'nearest' }), TOL64);
});

test('affineGrid + gridSample (5-D, border padding) match PyTorch, gradients to input and theta', () => {
  check('grid_sample', ['input', 'theta'], (x) => F.gridSample(x.input, F.affineGrid(x.theta, [1, 2, 4, 5, 6], false),
    { mode: 'bilinear', paddingMode: 'border', alignCorners: false }), TOL64);
});

test('crossEntropy (class weights, ignoreIndex, label smoothing) and BCE with logits match PyTorch', () => {
  check('cross_entropy', ['input', 'target', 'weight'], (x) => F.crossEntropy(x.input, x.target,
    { weight: x.weight.detach(), ignoreIndex: 1, labelSmoothing: 0.1 }), TOL64);
  check('bce_with_logits', ['input', 'target', 'pos_weight'], (x) => F.binaryCrossEntropyWithLogits(x.input, x.target.detach(),
    { posWeight: x.pos_weight.detach() }), TOL64);
});

test('logcumsumexp, activations, einsum and pooling match PyTorch', () => {
  check('logcumsumexp', ['input'], (x) => torch.logcumsumexp(x.input, 1), TOL64);
  check('softplus_gelu_silu', ['input'], (x) => F.softplus(x.input).add(F.gelu(x.input).mul(0.5)).add(F.silu(x.input).mul(0.25))
    .add(F.leakyRelu(x.input, 0.1)), TOL64);
  check('einsum', ['a', 'b'], (x) => torch.einsum('bld,bln->bdn', [x.a, x.b]), TOL64);
  check('max_avg_pool3d', ['input'], (x) => F.maxPool3d(x.input, 2, 2, 1).add(F.avgPool3d(x.input, 2, 2, 1, false, false)), TOL64);
});
