// Tensor creation, conversion and data paths; op semantics checked against hand-computed values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { fromArray, fromBlob, tensor, tidy } from '../src/index.js';

test('tensor() infers dtype like PyTorch and round-trips through tolist/toArray', () => {
  tidy(() => {
    assert.equal(tensor([1, 2, 3]).dtype, 'int64');
    assert.equal(tensor([1.5, 2]).dtype, 'float32');
    assert.equal(tensor([true, false]).dtype, 'bool');
    assert.deepEqual(tensor([[1, 2], [3, 4]]).tolist(), [[1, 2], [3, 4]]);
    assert.deepEqual(tensor([true, false]).tolist(), [true, false]);
    assert.deepEqual(tensor(2.5).shape, []);
    assert.equal(tensor(2.5).item(), 2.5);
    assert.deepEqual(tensor([]).shape, [0]);
    assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
  });
});

test('every supported dtype round-trips from and to its TypedArray', () => {
  tidy(() => {
    const cases: [torch.TypedArray, torch.DType][] = [
      [new Float32Array([1.5, -2, 3]), 'float32'],
      [new Float64Array([1e-300, -2, 3]), 'float64'],
      [new BigInt64Array([1n, -(2n ** 40n), 3n]), 'int64'],
      [new Int32Array([1, -2, 2 ** 30]), 'int32'],
      [new Uint8Array([0, 255, 7]), 'uint8'],
    ];
    for (const [data, dtype] of cases) {
      const t = fromArray(data, [3]);
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), data);
    }
    const b = fromArray(new Uint8Array([0, 1, 1]), [3], { dtype: 'bool' });
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.tolist(), [false, true, true]);
    assert.deepEqual(b.toArray(), new Uint8Array([0, 1, 1]));
    // conversion on creation, and raw bytes both ways
    const h = fromArray(new Float64Array([0.5, 1.25]), [2], { dtype: 'float16' });
    assert.deepEqual(torch.fromBuffer(h.toBuffer(), 'float16', [2]).toArray(), new Float32Array([0.5, 1.25]));
    assert.throws(() => fromArray(new Float32Array(5), [2, 3]), /shape holds 6 elements but the array has 5/);
  });
});

test('fromArray copies; fromBlob aliases JS memory both ways and dataView aliases tensor memory', () => {
  tidy(() => {
    const data = new Float32Array([1, 2, 3, 4]);
    const copy = fromArray(data, [2, 2]);
    const alias = fromBlob(data, [2, 2]);
    data[0] = 10;
    assert.equal(copy.tolist()[0 as never][0], 1);
    assert.equal(alias.select(0, 0).select(0, 0).item(), 10);
    alias.mul_(2);
    assert.equal(data[3], 8);
    const view = copy.dataView() as Float32Array;
    copy.add_(1);
    assert.deepEqual(Array.from(view), [2, 3, 4, 5]);
    assert.throws(() => copy.t().dataView(), /contiguous CPU tensor/);
    assert.deepEqual(Array.from(copy.t().contiguous().dataView() as Float32Array), [2, 4, 3, 5]);
  });
});

test('to / dtype conversions / clone / detach / contiguous / item', () => {
  tidy(() => {
    const x = tensor([[1.7, -2.2], [3, 4]]);
    assert.equal(x.to('float64').dtype, 'float64');
    assert.equal(x.to({ dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(x.long().tolist(), [[1, -2], [3, 4]]);
    assert.equal(x.to('cpu').device, 'cpu');
    assert.equal(x.double().to('cpu', 'float32').dtype, 'float32');
    const c = x.clone();
    c.zero_();
    assert.equal(x.sum().item() > 0, true);
    const t = x.t();
    assert.equal(t.isContiguous(), false);
    assert.equal(t.contiguous().isContiguous(), true);
    assert.deepEqual(t.stride(), [1, 2]);
    const r = x.requiresGrad_();
    assert.equal(r, x);
    assert.equal(x.detach().requiresGrad, false);
    assert.equal(x.max().item(), 4);
    assert.throws(() => x.item(), /item: a Tensor with 4 elements cannot be converted to Scalar/);
    assert.throws(() => x.to('tpu' as never), /unknown device 'tpu'/);
  });
});

test('arithmetic broadcasts, keeps integer dtypes for integer scalars, and in-place variants return this', () => {
  tidy(() => {
    const a = tensor([[1, 2, 3]]);
    const b = tensor([[10], [20]]);
    assert.deepEqual(a.add(b).tolist(), [[11, 12, 13], [21, 22, 23]]);
    assert.equal(a.add(1).dtype, 'int64');
    assert.equal(a.add(0.5).dtype, 'float32');
    assert.deepEqual(torch.sub(a, 1, 2).tolist(), [[-1, 0, 1]]);
    const f = a.float();
    assert.equal(f.mul_(2).add_(1, 3), f);
    assert.deepEqual(f.tolist(), [[5, 7, 9]]);
    assert.deepEqual(a.gt(1).tolist(), [[false, true, true]]);
    assert.deepEqual(torch.where(a.gt(1), a, 0).tolist(), [[0, 2, 3]]);
    assert.deepEqual(torch.where(a.gt(1), 1.5, a.float()).tolist(), [[1, 1.5, 1.5]]);
    assert.deepEqual(f.clamp(6, 8).tolist(), [[6, 7, 8]]);
    assert.deepEqual(f.clamp(null, 6).tolist(), [[5, 6, 6]]);
    assert.deepEqual(a.pow(2).tolist(), [[1, 4, 9]]);
  });
});

test('reductions, cumsum/logcumsumexp, sort/argsort/topk, unique and indexing ops', () => {
  tidy(() => {
    const x = tensor([[3, 1, 2], [6, 5, 4]], { dtype: 'float64' });
    assert.deepEqual(x.sum([1]).tolist(), [6, 15]);
    assert.deepEqual(x.mean([0], true).tolist(), [[4.5, 3, 3]]);
    assert.equal(x.sum().item(), 21);
    assert.deepEqual(x.cumsum(1).tolist(), [[3, 4, 6], [6, 11, 15]]);
    const lse = x.logcumsumexp(1).select(0, 2 - 1).tolist() as number[];
    assert.ok(Math.abs(lse[2] - Math.log(Math.exp(6) + Math.exp(5) + Math.exp(4))) < 1e-12);
    const [vals, idx] = x.sort(1, true);
    assert.deepEqual(vals.tolist(), [[3, 2, 1], [6, 5, 4]]);
    assert.deepEqual(idx.tolist(), [[0, 2, 1], [0, 1, 2]]);
    assert.deepEqual(x.argsort(1).tolist(), [[1, 2, 0], [2, 1, 0]]);
    const [tv, ti] = x.reshape([-1]).topk(2);
    assert.deepEqual([tv.tolist(), ti.tolist()], [[6, 5], [3, 4]]);
    const [mv, mi] = x.maxDim(1);
    assert.deepEqual([mv.tolist(), mi.tolist()], [[3, 6], [0, 0]]);
    const [u, , counts] = torch.uniqueConsecutive(tensor([1, 1, 2, 2, 2, 3, 1]), false, true);
    assert.deepEqual([u.tolist(), counts.tolist()], [[1, 2, 3, 1], [2, 3, 1, 1]]);
    assert.deepEqual(x.indexSelect(1, tensor([2, 0])).tolist(), [[2, 3], [4, 6]]);
    assert.deepEqual(x.gather(1, tensor([[1], [2]])).tolist(), [[1], [4]]);
    assert.deepEqual(torch.zeros([2, 3]).scatter(1, tensor([[0], [2]]), 7).tolist(), [[7, 0, 0], [0, 0, 7]]);
    assert.deepEqual(x.flip([1]).narrow(1, 0, 2).tolist(), [[2, 1], [4, 5]]);
    assert.deepEqual(torch.cat([x, x], 0).shape, [4, 3]);
    assert.deepEqual(torch.stack([x, x], 2).shape, [2, 3, 2]);
    assert.deepEqual(x.permute([1, 0]).reshape([-1]).tolist(), [3, 6, 1, 5, 2, 4]);
    assert.deepEqual(torch.pad(x, [1, 0], 'constant', 9).tolist(), [[9, 3, 1, 2], [9, 6, 5, 4]]);
    assert.deepEqual(torch.var(x, [1]).tolist(), [1, 1]);
    assert.deepEqual(torch.einsum('ij,kj->ik', [x, x]).tolist(), [[14, 31], [31, 77]]);
    assert.deepEqual(x.chunk(3, 1).map((c) => c.shape), [[2, 1], [2, 1], [2, 1]]);
  });
});

test('random numbers: manualSeed reproduces randn/rand/randint/bernoulli exactly', () => {
  tidy(() => {
    const draw = () => {
      torch.manualSeed(1234);
      return [torch.randn([5]), torch.rand([5]), torch.randint(0, 10, [5]), torch.bernoulli(torch.full([5], 0.5)),
        torch.randperm(6)].map((t) => t.tolist());
    };
    const a = draw();
    assert.deepEqual(draw(), a);
    assert.equal(torch.randint(0, 10, [3]).dtype, 'int64');
    assert.equal(torch.arange(5).dtype, 'int64');
    assert.equal(torch.arange(0, 1, 0.25).dtype, 'float32');
    assert.deepEqual(torch.arange(0, 1, 0.25).tolist(), [0, 0.25, 0.5, 0.75]);
    torch.manualSeed(0);
    // torch.manual_seed(0); torch.randn(3) in python3-torch 1.13
    assert.deepEqual(Array.from(torch.randn([3]).toArray() as Float32Array, (v) => Number(v.toFixed(4))), [1.5410, -0.2934, -2.1788]);
  });
});

test('autograd: backward, grad accumulation and reset, noGrad, autograd.grad, gradFn', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(x).sum();
    assert.equal(y.gradFn, 'SumBackward0');
    y.backward(null, true);
    assert.deepEqual(x.grad!.tolist(), [2, 4, 6]);
    y.backward();
    assert.deepEqual(x.grad!.tolist(), [4, 8, 12]);
    x.grad = null;
    assert.equal(x.grad, null);
    const z = torch.noGrad(() => x.mul(2));
    assert.equal(z.requiresGrad, false);
    assert.equal(torch.isGradEnabled(), true);
    const [g] = torch.autograd.grad(x.pow(3).sum(), x);
    assert.deepEqual(g!.tolist(), [3, 12, 27]);
    assert.throws(() => tensor([1.0]).sum().backward(), /does not require grad/);
    assert.throws(() => torch.noGrad((async () => 1) as never), /must be synchronous/);
  });
});
