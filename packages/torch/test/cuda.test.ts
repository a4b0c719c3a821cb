// CUDA checks: results on the GPU against the same computation on the CPU. They run only where the addon was
// built against a CUDA libtorch and a device is present (README, "CUDA"); elsewhere they are skipped with the reason.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { causalConv1d, nn, optim, selectiveScan, tidy, type Tensor } from '../src/index.js';
import { relErr } from './core-helpers.js';

const skip = torch.cuda.isAvailable() ? false : `no CUDA device (cudaBuild: ${torch.buildInfo().cudaBuild})`;

/** Gradients of `f` at `inputs`, as CPU tensors, with the inputs moved to `device` first. */
function gradsOn(device: string, inputs: Tensor[], f: (...xs: Tensor[]) => Tensor): { out: Tensor; grads: Tensor[] } {
  const leaves = inputs.map((t) => t.to(device).detach().requiresGrad_());
  const out = f(...leaves);
  out.square().sum().backward();
  return { out: out.cpu(), grads: leaves.map((t) => t.grad!.cpu()) };
}

test('cuda: the device is visible and a tensor round-trips bit for bit', { skip }, () => tidy(() => {
  assert.ok(torch.cuda.deviceCount() >= 1);
  assert.equal(torch.buildInfo().cudaBuild, true);
  const x = torch.randn([3, 5, 7], { dtype: 'float64' });
  const y = x.to('cuda');
  assert.match(y.device, /^cuda/);
  assert.deepEqual(Array.from(y.cpu().toArray() as Float64Array), Array.from(x.toArray() as Float64Array));
  const z = torch.zeros([4], { device: 'cuda:0', dtype: 'int64' });
  assert.match(z.device, /^cuda/);
}));

test('cuda: conv3d, instance norm and leaky ReLU forward and backward match the CPU', { skip }, () => tidy(() => {
  torch.manualSeed(1);
  const x = torch.randn([2, 3, 12, 10, 8], { dtype: 'float64' });
  const w = torch.randn([4, 3, 3, 3, 3], { dtype: 'float64' });
  const b = torch.randn([4], { dtype: 'float64' });
  // The skip term keeps the bias gradient nonzero: instance norm alone cancels the bias, leaving rounding noise.
  const f = (xi: Tensor, wi: Tensor, bi: Tensor) => {
    const c = torch.conv3d(xi, wi, bi, 2, 1);
    return torch.leakyRelu(torch.instanceNorm(c, null, null, null, null, true, 0.1, 1e-5, false), 0.01).add(c.mul(0.5));
  };
  const cpu = gradsOn('cpu', [x, w, b], f);
  const gpu = gradsOn('cuda', [x, w, b], f);
  assert.ok(relErr(gpu.out, cpu.out) < 1e-10, 'forward');
  gpu.grads.forEach((g, i) => assert.ok(relErr(g, cpu.grads[i]!) < 1e-9, `grad ${i}`));
}));

test('cuda: three Nesterov SGD steps of a conv stage on the GPU give the CPU parameters', { skip }, () => tidy(() => {
  const build = () => {
    torch.manualSeed(7);
    return new nn.Sequential(new nn.Conv3d(2, 4, 3, { padding: 1 }), new nn.InstanceNorm3d(4, { affine: true }),
      new nn.LeakyReLU(0.01), new nn.Conv3d(4, 2, 1));
  };
  torch.manualSeed(3);
  const x = torch.randn([2, 2, 8, 8, 8]);
  const target = torch.randn([2, 2, 8, 8, 8]);
  const train = (device: string) => {
    const net = build().to(device);
    const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
    for (let i = 0; i < 3; i++) {
      tidy(() => {
        opt.zeroGrad();
        net.forward(x.to(device)).sub(target.to(device)).square().mean().backward();
        opt.step();
      });
    }
    return [...net.parameters()].map((p) => p.detach().cpu());
  };
  const cpu = train('cpu');
  const gpu = train('cuda');
  gpu.forEach((p, i) => assert.ok(relErr(p, cpu[i]!) < 1e-4, `parameter ${i}: ${relErr(p, cpu[i]!)}`));
}));

test('cuda: selective scan and causal conv1d on the GPU match the CPU kernels, gradients included', { skip }, () => tidy(() => {
  torch.manualSeed(11);
  const o = { dtype: 'float64' } as const;
  const [b, l, d, n] = [2, 9, 5, 3];
  const inputs = [torch.randn([b, l, d], o), torch.randn([b, l, d], o), torch.rand([d, n], o).add(0.5).neg(),
    torch.randn([b, l, n], o), torch.randn([b, l, n], o), torch.randn([d], o), torch.randn([b, l, d], o), torch.randn([d], o)];
  const mask = torch.rand([b, l]).gt(0.3);
  const scan = (u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, bias: Tensor) =>
    selectiveScan(u, delta, A, B, C, { D, z, deltaBias: bias, mask: mask.to(u.device) });
  const cpu = gradsOn('cpu', inputs, scan);
  const gpu = gradsOn('cuda', inputs, scan);
  assert.ok(relErr(gpu.out, cpu.out) < 1e-10, 'scan forward');
  gpu.grads.forEach((g, i) => assert.ok(relErr(g, cpu.grads[i]!) < 1e-9, `scan grad ${i}`));

  const conv = (x: Tensor, w: Tensor, bias: Tensor) => causalConv1d(x, w, bias);
  const convIn = [torch.randn([b, l, d], o), torch.randn([d, 4], o), torch.randn([d], o)];
  const cpuConv = gradsOn('cpu', convIn, conv);
  const gpuConv = gradsOn('cuda', convIn, conv);
  assert.ok(relErr(gpuConv.out, cpuConv.out) < 1e-10, 'causalConv1d forward');
  gpuConv.grads.forEach((g, i) => assert.ok(relErr(g, cpuConv.grads[i]!) < 1e-9, `causalConv1d grad ${i}`));
}));

test('cuda: a state dict saved from the GPU loads on the CPU unchanged', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-cuda-'));
  try {
    tidy(() => {
      const w = torch.randn([3, 4]);
      torch.save({ w: w.to('cuda') }, join(dir, 'w.pth'));
      const back = torch.load(join(dir, 'w.pth')) as Record<string, Tensor>;
      assert.equal(back.w!.device, 'cpu');
      assert.deepEqual(Array.from(back.w!.toArray() as Float32Array), Array.from(w.toArray() as Float32Array));
      const onGpu = torch.load(join(dir, 'w.pth'), { device: 'cuda' }) as Record<string, Tensor>;
      assert.match(onGpu.w!.device, /^cuda/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
