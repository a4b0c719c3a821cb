import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../src/tensor.js';
import { fromArray } from '../src/factory.js';
import { manualSeed } from '../src/runtime.js';
import { noGrad } from '../src/autograd.js';
import { tidy } from '../src/scope.js';
import { cat } from '../src/gen/ops.js';
import {
  BatchNorm3d, Conv1d, Conv3d, ConvTranspose3d, Dropout, Dropout3d, GELU, GroupNorm, Identity, InstanceNorm3d, LayerNorm, LeakyReLU,
  Linear, Module, ModuleList, ReLU, Sequential, SiLU,
} from '../src/nn/index.js';
import { fromStored } from '../src/serialization/index.js';
import { StoredTensor, type PyValue } from '../src/serialization/values.js';
import { assertClose, readFixture } from './nn-helpers.js';

/** Fixtures: test/fixtures/nn/make_fixtures.py (python3-torch 1.13). */

class Stage extends Module {
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.registerModule('conv', new Conv3d(cin, cout, 3, { stride, padding: 1 }));
    this.registerModule('norm', new InstanceNorm3d(cout, { eps: 1e-5, affine: true }));
    this.registerModule('nonlin', new LeakyReLU(0.01));
  }

  forward(x: Tensor): Tensor {
    const [conv, norm, nonlin] = this.children();
    return nonlin.forward(norm.forward(conv.forward(x)));
  }
}

/** The fixture's TinyUNet, module for module. */
class TinyUNet extends Module {
  readonly encoder = this.registerModule('encoder', new ModuleList([new Stage(1, 4, 1), new Stage(4, 8, 2)]));
  readonly up = this.registerModule('up', new ConvTranspose3d(8, 4, 2, { stride: 2 }));
  readonly decoder = this.registerModule('decoder', new Sequential(new Stage(8, 4, 1)));
  readonly head = this.registerModule('head', new Conv3d(4, 3, 1));

  forward(x: Tensor): Tensor {
    const skip = this.encoder.at(0).forward(x);
    const low = this.encoder.at(1).forward(skip);
    return this.head.forward(this.decoder.forward(cat([this.up.forward(low), skip], 1)));
  }
}

const unet = readFixture('nn', 'unet.pt');
const layers = readFixture('nn', 'layers.pt');
const stored = (v: PyValue): Tensor => fromStored(v as StoredTensor);

test("a module's default initialisation after manualSeed is PyTorch's, key for key and bit for bit", () => {
  manualSeed(0);
  const net = new TinyUNet();
  try {
    assert.deepEqual(Object.keys(tidy(() => net.stateDict({ keepVars: true }))), unet.keys);
    const expected = unet.state_dict as Record<string, PyValue>;
    for (const [key, value] of Object.entries(net.stateDict({ keepVars: true }))) assertClose(value, expected[key], 0, key);
  } finally {
    net.dispose();
  }
});

test('a small 3D U-Net gives PyTorch’s output and parameter gradients for fixed weights', () => {
  const net = new TinyUNet();
  try {
    net.loadStateDict(unet.state_dict as Record<string, StoredTensor>);
    tidy(() => {
      const out = net.forward(stored(unet.input));
      assertClose(out, unet.output, 2e-5, 'output');
      out.mul(stored(unet.weight_map)).sum().backward();
    });
    const grads = unet.grads as Record<string, PyValue>;
    for (const [name, p] of net.namedParameters()) tidy(() => assertClose(p.grad as Tensor, grads[name], 1e-4, `grad ${name}`));
  } finally {
    net.dispose();
  }
});

test('Linear, Conv1d (grouped), GroupNorm, LayerNorm and convolutions with reflect/replicate/circular padding match PyTorch', () => {
  const cases: Array<[Module, string, string]> = [
    [new Linear(7, 5), 'linear', 'x3'],
    [new Conv1d(3, 6, 3, { padding: 1, groups: 3 }), 'conv1d', 'x3'],
    [new GroupNorm(2, 4), 'groupnorm', 'x5'],
    [new LayerNorm([4, 5]), 'layernorm', 'x5'],
    [new Conv3d(4, 2, 3, { padding: [1, 1, 2], paddingMode: 'reflect' }), 'conv3d_reflect', 'x5'],
    [new Conv3d(4, 2, 3, { padding: [1, 1, 2], paddingMode: 'replicate' }), 'conv3d_replicate', 'x5'],
    [new Conv3d(4, 2, 3, { padding: [1, 1, 2], paddingMode: 'circular' }), 'conv3d_circular', 'x5'],
    [new Conv1d(3, 2, 3, { padding: 2, paddingMode: 'replicate' }), 'conv1d_replicate', 'x3'],
  ];
  for (const [module, name, input] of cases) {
    module.loadStateDict(layers[`${name}.state`] as Record<string, StoredTensor>);
    tidy(() => assertClose(module.forward(stored(layers[input])), layers[`${name}.out`], 1e-5, name));
    module.dispose();
  }
});

test('BatchNorm3d updates running stats and num_batches_tracked in train mode and uses them in eval mode', () => {
  const bn = new BatchNorm3d(4, { momentum: 0.2 });
  try {
    bn.loadStateDict(layers['batchnorm.initial'] as Record<string, StoredTensor>);
    tidy(() => {
      const x = stored(layers.x5);
      assertClose(bn.forward(x), layers['batchnorm.train_out'], 1e-5, 'train output');
      bn.forward(x.mul(2).add(1));
    });
    const after = layers['batchnorm.after_train'] as Record<string, PyValue>;
    tidy(() => {
      for (const [key, value] of Object.entries(bn.stateDict())) assertClose(value, after[key], 1e-6, key);
    });
    bn.eval();
    tidy(() => assertClose(bn.forward(stored(layers.x5)), layers['batchnorm.eval_out'], 1e-5, 'eval output'));
  } finally {
    bn.dispose();
  }
});

test('InstanceNorm3d with track_running_stats keeps running averages like PyTorch', () => {
  const norm = new InstanceNorm3d(4, { trackRunningStats: true });
  try {
    tidy(() => assertClose(norm.forward(stored(layers.x5)), layers['instancenorm_rs.train_out'], 1e-5, 'train output'));
    const after = layers['instancenorm_rs.after_train'] as Record<string, PyValue>;
    assert.deepEqual(Object.keys(tidy(() => norm.stateDict({ keepVars: true }))), Object.keys(after));
    tidy(() => {
      for (const [key, value] of Object.entries(norm.stateDict())) assertClose(value, after[key], 1e-6, key);
    });
    norm.eval();
    tidy(() => assertClose(norm.forward(stored(layers.x5)), layers['instancenorm_rs.eval_out'], 1e-5, 'eval output'));
  } finally {
    norm.dispose();
  }
});

test('activations and eval-mode dropout match PyTorch', () => {
  const cases: Array<[Module, string]> = [
    [new GELU(), 'gelu'], [new GELU('tanh'), 'gelu_tanh'], [new SiLU(), 'silu'], [new ReLU(), 'relu'],
    [new LeakyReLU(0.2), 'leakyrelu'], [new Dropout(0.5).eval(), 'dropout_eval'], [new Dropout3d(0.5).eval(), 'dropout_eval'],
    [new Identity(), 'dropout_eval'],
  ];
  tidy(() => {
    for (const [module, name] of cases) assertClose(module.forward(stored(layers.x5)), layers[name], 1e-6, name);
  });
});

test('dropout in train mode zeroes about p of the elements, scales the rest, and is reproducible under manualSeed', () => {
  const d = new Dropout(0.25);
  tidy(() => {
    const x = fromArray(new Float32Array(4000).fill(1), [4000]);
    manualSeed(3);
    const a = Array.from(d.forward(x).toArray() as Float32Array);
    manualSeed(3);
    const b = Array.from(d.forward(x).toArray() as Float32Array);
    assert.deepEqual(a, b);
    const zeros = a.filter((v) => v === 0).length;
    assert.ok(zeros > 850 && zeros < 1150, `zeroed ${zeros} of 4000`);
    assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  });
});

test('loadStateDict names missing and unexpected keys and shape mismatches; non-strict returns them', () => {
  const net = new Sequential(new Conv3d(1, 2, 3), new BatchNorm3d(2));
  try {
    const good = tidy(() => Object.fromEntries(Object.entries(net.stateDict()).map(([k, v]) => [k, v.clone().keep()])));
    const { ['1.running_var']: dropped, ...missing } = good;
    const extra = { ...good, 'head.weight': dropped };
    assert.throws(() => net.loadStateDict(missing), /Error\(s\) in loading state_dict for Sequential:\n\tMissing key\(s\) in state_dict: "1\.running_var"\./);
    assert.throws(() => net.loadStateDict(extra), /Unexpected key\(s\) in state_dict: "head\.weight"\./);
    const wrong = { ...good, '0.weight': new StoredTensor('float32', [2, 1, 3, 3], new Float32Array(18)) };
    assert.throws(() => net.loadStateDict(wrong), /size mismatch for 0\.weight: copying a param with shape \[2, 1, 3, 3\] from checkpoint, the shape in current model is \[2, 1, 3, 3, 3\]\./);
    assert.throws(() => net.loadStateDict(wrong, { strict: false }), /size mismatch/);
    assert.deepEqual(net.loadStateDict(extra, { strict: false }), { missingKeys: [], unexpectedKeys: ['head.weight'] });
    assert.deepEqual(net.loadStateDict(missing, { strict: false }), { missingKeys: ['1.running_var'], unexpectedKeys: [] });
    for (const t of Object.values(good)) t.dispose();
  } finally {
    net.dispose();
  }
});

test('train()/eval() reach every submodule; parameters shared by two modules are listed once', () => {
  const shared = new Linear(3, 3);
  const net = new Sequential(shared, new ReLU(), shared, new Dropout());
  assert.equal(net.training, true);
  net.eval();
  assert.ok(net.modules().every((m) => m.training === false));
  assert.deepEqual(net.namedParameters().map(([n]) => n), ['0.weight', '0.bias']);
  assert.equal(net.numParameters(), 12);
  assert.deepEqual(net.namedModules().map(([n]) => n), ['', '0', '1', '3']);
  assert.throws(() => net.registerModule('a.b', new ReLU()), /invalid name 'a\.b'/);
  assert.throws(() => new Conv3d(3, 4, 3, { groups: 2 }), /divisible by groups/);
  assert.throws(() => tidy(() => new Conv3d(1, 1, 3).forward(fromArray(new Float32Array(8), [2, 2, 2]))), /expected a 5D input/);
  net.dispose();
});

test('to(float64) casts parameters and buffers but leaves num_batches_tracked int64', () => {
  const bn = new BatchNorm3d(2).to('float64');
  try {
    const sd = bn.stateDict({ keepVars: true });
    assert.equal(sd.weight.dtype, 'float64');
    assert.equal(sd.running_mean.dtype, 'float64');
    assert.equal(sd.num_batches_tracked.dtype, 'int64');
    assert.equal(sd.weight.requiresGrad, true);
    noGrad(() => tidy(() => bn.forward(fromArray(new Float64Array(16), [2, 2, 2, 2, 1]))));
    const before = bn.parameters();
    bn.to('cpu').to('float64');
    assert.ok(bn.parameters().every((p, i) => p === before[i]), 'a no-op move keeps the same tensors');
  } finally {
    bn.dispose();
  }
});

test('toString() prints the module tree as PyTorch does', () => {
  const net = new Sequential(new Conv3d(1, 8, 3, { padding: 1 }), new InstanceNorm3d(8, { affine: true }), new LeakyReLU(0.01), new Dropout(0.5),
    new Linear(3, 2, { bias: false }), new GroupNorm(2, 4), new LayerNorm([4, 5]), new GELU(), new ConvTranspose3d(8, 4, 2, { stride: 2 }),
    new Conv1d(3, 6, 3, { padding: 1, groups: 3, paddingMode: 'replicate' }), new BatchNorm3d(4), new Sequential(new ReLU(), new SiLU(), new Identity()));
  try {
    // repr() of the same model in python3-torch 1.13
    assert.equal(String(net), `Sequential(
  (0): Conv3d(1, 8, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1))
  (1): InstanceNorm3d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=False)
  (2): LeakyReLU(negative_slope=0.01)
  (3): Dropout(p=0.5, inplace=False)
  (4): Linear(in_features=3, out_features=2, bias=False)
  (5): GroupNorm(2, 4, eps=1e-05, affine=True)
  (6): LayerNorm((4, 5), eps=1e-05, elementwise_affine=True)
  (7): GELU(approximate='none')
  (8): ConvTranspose3d(8, 4, kernel_size=(2, 2, 2), stride=(2, 2, 2))
  (9): Conv1d(3, 6, kernel_size=(3,), stride=(1,), padding=(1,), groups=3, padding_mode=replicate)
  (10): BatchNorm3d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (11): Sequential(
    (0): ReLU()
    (1): SiLU()
    (2): Identity()
  )
)`);
    net.requiresGrad_(false);
    assert.ok(net.parameters().every((p) => !p.requiresGrad));
  } finally {
    net.dispose();
  }
});
