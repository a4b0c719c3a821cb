import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../src/tensor.js';
import { tidy } from '../src/scope.js';
import { memory } from '../src/runtime.js';
import { Adam, AdamW, CosineAnnealingLR, PolyLRScheduler, SGD, WarmupCosineLR, splitWeightDecay, type Optimizer } from '../src/optim/index.js';
import { BatchNorm3d, Conv3d, LayerNorm, Linear, Sequential } from '../src/nn/index.js';
import { fromStored } from '../src/serialization/index.js';
import { StoredTensor, type PyValue } from '../src/serialization/values.js';
import { assertClose, readFixture } from './nn-helpers.js';

/** Fixtures: test/fixtures/optim/make_fixtures.py (python3-torch 1.13 optimizers and schedulers). */

const steps = readFixture('optim', 'steps.pt') as Record<string, Record<string, PyValue>>;
const schedules = readFixture('optim', 'schedules.pt');

type Factory = (groups: Array<{ params: Tensor[]; weightDecay?: number }>) => Optimizer<{ lr: number }>;

const factories: Record<string, Factory> = {
  adamw: (g) => new AdamW(g, { lr: 1e-2, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.05 }),
  adamw_amsgrad: (g) => new AdamW(g, { lr: 1e-2, weightDecay: 0.01, amsgrad: true }),
  adam_l2: (g) => new Adam(g, { lr: 1e-2, weightDecay: 0.1 }),
  sgd_nesterov: (g) => new SGD(g, { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 }),
  sgd_dampening: (g) => new SGD(g, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01 }),
  sgd_plain: (g) => new SGD(g, { lr: 0.1 }),
};

function run(name: string): { params: Tensor[]; opt: Optimizer<{ lr: number }> } {
  const fx = steps[name];
  const params = (fx.init as StoredTensor[]).map((t) => fromStored(t).requiresGrad_(true).keep());
  const opt = factories[name]([{ params: [params[0]] }, { params: [params[1]], weightDecay: 0 }]);
  (fx.grads as StoredTensor[][]).forEach((grads, step) => {
    params.forEach((p, i) => {
      p.grad = fromStored(grads[i]);
    });
    opt.step();
    params.forEach((p, i) => tidy(() => assertClose(p, (fx.params as StoredTensor[][])[step][i], 1e-6, `${name} step ${step + 1} param ${i}`)));
  });
  return { params, opt };
}

for (const name of Object.keys(factories)) {
  test(`${name}: six steps with two parameter groups match PyTorch to 1e-6, and so does the state dict`, () => {
    const { params, opt } = run(name);
    const sd = opt.stateDict();
    const want = steps[name].state_dict as { state: Map<number, Record<string, PyValue>>; param_groups: Array<Record<string, PyValue>> };
    assert.deepEqual(sd.param_groups, want.param_groups);
    assert.deepEqual([...sd.state.keys()], [...want.state.keys()]);
    for (const [i, entry] of want.state) {
      const ours = sd.state.get(i) as Record<string, unknown>;
      assert.deepEqual(Object.keys(ours).sort(), Object.keys(entry).sort());
      for (const [key, value] of Object.entries(entry)) {
        if (key === 'step') assert.equal(ours.step, Number((value as StoredTensor).data[0]));
        else if (value === null) assert.equal(ours[key] ?? null, null);
        else tidy(() => assertClose(ours[key] as Tensor, value, 1e-6, `state ${i}.${key}`));
      }
    }
    // PyTorch's own state dict loads into a fresh optimizer and comes back out unchanged.
    const fresh = factories[name]([{ params: [params[0]] }, { params: [params[1]], weightDecay: 0 }]);
    fresh.loadStateDict(want);
    assert.deepEqual(fresh.stateDict().param_groups, want.param_groups);
    for (const [i, entry] of want.state) {
      for (const [key, value] of Object.entries(entry)) {
        const ours = (fresh.stateDict().state.get(i) as Record<string, unknown>)[key];
        if (value instanceof StoredTensor && key !== 'step') tidy(() => assertClose(ours as Tensor, value, 0, `loaded ${key}`));
      }
    }
    for (const p of params) p.dispose();
  });
}

test('loadStateDict rejects a state with a different group layout', () => {
  const { params, opt } = run('sgd_plain');
  const one = new SGD(params, { lr: 0.1 });
  assert.throws(() => one.loadStateDict(opt.stateDict()), /the state has 2 parameter groups, this optimizer has 1/);
  for (const p of params) p.dispose();
});

test('splitWeightDecay puts biases, norm parameters, 1-D tensors and excluded names in the no-decay group', () => {
  const net = new Sequential(new Conv3d(1, 2, 3), new BatchNorm3d(2), new LayerNorm([2, 3]), new Linear(3, 3));
  try {
    const g = splitWeightDecay(net, 0.05, [/^3\.weight$/]);
    assert.deepEqual(g.decay.names, ['0.weight']);
    assert.deepEqual(g.noDecay.names, ['0.bias', '1.weight', '1.bias', '2.weight', '2.bias', '3.weight', '3.bias']);
    const opt = new AdamW([g.decay, g.noDecay], { lr: 1e-3 });
    assert.deepEqual(opt.stateDict().param_groups.map((p) => p.weight_decay), [0.05, 0]);
  } finally {
    net.dispose();
  }
});

test("schedules: poly (nnU-Net's formula), cosine annealing and warm-up + cosine match PyTorch's rates", () => {
  const p = fromStored(new StoredTensor('float32', [1], new Float32Array(1))).requiresGrad_(true);
  const epochs = schedules.epochs as number;
  const check = (make: (opt: SGD) => { step(e?: number): void }, lr: number, want: number[], what: string): void => {
    const opt = new SGD([p], { lr });
    const s = make(opt);
    want.forEach((rate, e) => {
      assert.ok(Math.abs(opt.paramGroups[0].lr - rate) <= 1e-12 * Math.max(1, rate), `${what} epoch ${e}: ${opt.paramGroups[0].lr} vs ${rate}`);
      s.step();
    });
  };
  check((o) => new PolyLRScheduler(o, 0.01, epochs), 0.01, schedules.poly as number[], 'poly');
  check((o) => new CosineAnnealingLR(o, epochs, 0.01), 0.5, schedules.cosine as number[], 'cosine');
  check((o) => new WarmupCosineLR(o, schedules.warmup_epochs as number, epochs), 0.5, schedules.warmup_cosine as number[], 'warm-up cosine');
  const opt = new SGD([p], { lr: 0.01 });
  const poly = new PolyLRScheduler(opt, 0.01, 10);
  poly.step(5); // nnU-Net passes the epoch explicitly
  assert.equal(opt.paramGroups[0].lr, 0.01 * 0.5 ** 0.9);
  p.dispose();
});

test('a schedule resumes from the optimizer state: initial_lr is saved with the param groups, as in PyTorch', () => {
  const p = fromStored(new StoredTensor('float32', [1], new Float32Array(1))).requiresGrad_(true);
  const opt = new SGD([p], { lr: 0.5 });
  const cosine = new CosineAnnealingLR(opt, 10, 0.01);
  for (let e = 0; e < 4; e++) cosine.step();
  const saved = opt.stateDict();
  assert.equal(saved.param_groups[0].initial_lr, 0.5);
  const rateAt5 = ((): number => {
    cosine.step();
    return opt.paramGroups[0].lr;
  })();
  const resumed = new SGD([p], { lr: 0.5 });
  resumed.loadStateDict(saved);
  assert.throws(() => new CosineAnnealingLR(new SGD([p], { lr: 0.5 }), 10, 0.01, 3), /needs 'initial_lr'/);
  const again = new CosineAnnealingLR(resumed, 10, 0.01, 4);
  assert.equal(resumed.paramGroups[0].lr, rateAt5);
  assert.equal(again.lastEpoch, 5);
  p.dispose();
});

test('training steps (forward, backward, optimizer step) leave no tensors behind beyond the optimizer state', () => {
  const net = new Sequential(new Conv3d(1, 2, 3, { padding: 1 }), new BatchNorm3d(2), new Linear(4, 1));
  const opt = new AdamW(net.parameters(), { lr: 1e-3 });
  const x = fromStored(new StoredTensor('float32', [2, 1, 4, 4, 4], Float32Array.from({ length: 128 }, (_, i) => Math.cos(i)))).keep();
  const live: number[] = [];
  try {
    for (let step = 0; step < 4; step++) {
      tidy(() => {
        opt.zeroGrad();
        net.forward(x).square().mean().backward();
        opt.step();
      });
      live.push(memory().live);
    }
    assert.deepEqual(live.slice(1), [live[0], live[0], live[0]], `live tensors per step: ${live.join(', ')}`);
  } finally {
    net.dispose();
    opt.dispose();
    x.dispose();
  }
});
