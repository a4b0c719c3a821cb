import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../src/tensor.js';
import { fromArray } from '../src/factory.js';
import { manualSeed } from '../src/runtime.js';
import { tidy } from '../src/scope.js';
import { BatchNorm3d, Conv3d, InstanceNorm3d, Linear, Sequential } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { load, loadRaw, save, SerializationError, TorchDevice, type Loaded } from '../src/serialization/index.js';
import { fixturePath } from './fixture-path.js';

/** save/load with native tensors; the format itself is tested in serialization-format.test.ts. */

const withTmp = (fn: (dir: string) => void): void => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-torch-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** The architecture of the fixtures' state_dict.pt and nnunet_checkpoint.pt. */
const fixtureNet = (): Sequential => new Sequential(new Conv3d(1, 2, 3, { padding: 1 }), new InstanceNorm3d(2, { affine: true }), new BatchNorm3d(2), new Linear(3, 2));

test('save then load gives the same tensors for every dtype, nested in dicts, Maps and lists; no temp file is left', () => {
  withTmp((dir) => {
    tidy(() => {
      const value = {
        f32: fromArray(Float32Array.from([1.5, -2, 3e-8]), [3, 1]),
        f64: fromArray(Float64Array.from([Math.E]), []),
        i64: fromArray(BigInt64Array.from([-(2n ** 40n), 7n]), [2]),
        i32: fromArray(Int32Array.from([1, -2, 3, 4]), [2, 2]),
        u8: fromArray(Uint8Array.from([0, 255]), [2]),
        flag: fromArray(Uint8Array.from([1, 0, 1]), [3], { dtype: 'bool' }),
        nested: [fromArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]).t(), { epoch: 3, device: new TorchDevice('cpu') }],
        byIndex: new Map([[0, fromArray(Float32Array.from([9]), [1])]]),
      };
      const path = join(dir, 'all.pt');
      save(value, path);
      assert.deepEqual(readdirSync(dir), ['all.pt']);
      const back = load(path) as Record<string, Loaded>;
      for (const key of ['f32', 'f64', 'i64', 'i32', 'u8', 'flag'] as const) {
        const a = value[key];
        const b = back[key] as Tensor;
        assert.equal(b.dtype, a.dtype, key);
        assert.deepEqual(b.shape, a.shape, key);
        assert.deepEqual(b.toArray(), a.toArray(), key);
      }
      const nested = back.nested as Loaded[];
      assert.deepEqual((nested[0] as Tensor).tolist(), [[1, 4], [2, 5], [3, 6]]);
      assert.deepEqual((nested[1] as Record<string, Loaded>).epoch, 3);
      assert.deepEqual(((back.byIndex as Map<number, Loaded>).get(0) as Tensor).tolist(), [9]);
    });
  });
});

test("load() of nnU-Net's checkpoint layout: network_weights load strictly into the same architecture", () => {
  tidy(() => {
    const ck = load(fixturePath('serialization', 'nnunet_checkpoint.pt')) as Record<string, Loaded>;
    assert.equal(ck.trainer_name, 'nnUNetTrainer');
    const net = fixtureNet();
    try {
      const weights = ck.network_weights as Record<string, Tensor>;
      assert.deepEqual(net.loadStateDict(weights), { missingKeys: [], unexpectedKeys: [] });
      const sd = net.stateDict();
      for (const [key, t] of Object.entries(weights)) assert.deepEqual(sd[key].toArray(), t.toArray(), key);
      const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
      opt.loadStateDict(ck.optimizer_state as { state: unknown; param_groups: unknown });
      assert.equal(opt.paramGroups[0].momentum, 0.99);
      assert.equal(opt.state.size, 2); // only the conv had gradients when the fixture's optimizer stepped
    } finally {
      net.dispose();
    }
  });
});

test('a missing, truncated or corrupt checkpoint gives a SerializationError naming the file', () => {
  withTmp((dir) => {
    const good = readFileSync(fixturePath('serialization', 'state_dict.pt'));
    const truncated = join(dir, 'truncated.pth');
    writeFileSync(truncated, good.subarray(0, 1000));
    const garbage = join(dir, 'garbage.pth');
    writeFileSync(garbage, Buffer.from('PK\x03\x04 this is not really a zip file'));
    for (const path of [truncated, garbage, join(dir, 'missing.pth')]) {
      assert.throws(() => load(path), (e: unknown) => e instanceof SerializationError && e.message.startsWith(`${path}: `) && e.file === path);
    }
    assert.throws(() => save({ x: 1 }, join(dir, 'no', 'such', 'dir.pt')), /dir\.pt: cannot write/);
  });
});

const python = '/usr/bin/python3';
const hasTorch = ((): boolean => {
  if (!existsSync(python)) return false;
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test("Python's torch.load reads our model and optimizer checkpoint (a bare state dict even with weights_only): strict load_state_dict, same output, optimizer resumes", { skip: hasTorch ? false : 'python3-torch not installed (only needed for this live check; committed fixtures cover CI)' }, () => {
  withTmp((dir) => {
    manualSeed(5);
    const net = fixtureNet();
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
    try {
      const x = fromArray(Float32Array.from({ length: 54 }, (_, i) => Math.sin(i)), [2, 1, 3, 3, 3]).keep();
      tidy(() => {
        net.forward(x).sum().backward();
        opt.step();
        net.eval();
        save({ network_weights: net.stateDict(), optimizer_state: opt.stateDict(), x, y: net.forward(x), current_epoch: 1 }, join(dir, 'ck.pth'));
        save(net.stateDict(), join(dir, 'weights.pth'));
      });
      x.dispose();
      const script = `
import sys, torch
ck = torch.load(sys.argv[1])
net = torch.nn.Sequential(torch.nn.Conv3d(1, 2, 3, padding=1), torch.nn.InstanceNorm3d(2, affine=True), torch.nn.BatchNorm3d(2), torch.nn.Linear(3, 2))
net.load_state_dict(ck["network_weights"], strict=True)
net.load_state_dict(torch.load(sys.argv[2], weights_only=True), strict=True)
net.eval()
err = (net(ck["x"]) - ck["y"]).abs().max().item()
assert err < 1e-5, err
opt = torch.optim.SGD(net.parameters(), lr=0.5)
opt.load_state_dict(ck["optimizer_state"])
assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["nesterov"] is True
assert len(opt.state) == 8
net(ck["x"]).sum().backward()
opt.step()
print("ok", err)
`;
      const out = execFileSync(python, ['-c', script, join(dir, 'ck.pth'), join(dir, 'weights.pth')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(out, /^ok /);
      assert.equal((loadRaw(join(dir, 'ck.pth')) as Record<string, unknown>).current_epoch, 1);
    } finally {
      net.dispose();
    }
  });
});
