import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTorch, SerializationError } from '../src/serialization/reader.js';
import { writeTorch } from '../src/serialization/writer.js';
import { NdArray, StoredTensor, TorchDevice, type PyValue } from '../src/serialization/values.js';
import { fixturePath } from './fixture-path.js';

/** Pure-TypeScript format tests: no native tensor involved. Fixtures: test/fixtures/serialization/make_fixtures.py. */

const dir = (name: string): string => fixturePath('serialization', name);
const expected = JSON.parse(readFileSync(dir('expected.json'), 'utf8')) as Record<string, Record<string, Flat>>;

interface Flat {
  shape: number[];
  dtype: string;
  values: number[];
}

function assertTensor(actual: PyValue, want: Flat, name: string, tolerance = 0): void {
  assert.ok(actual instanceof StoredTensor, `${name} is a tensor`);
  assert.deepEqual(actual.shape, want.shape, `${name} shape`);
  const values = Array.from(actual.data as ArrayLike<number | bigint>, Number);
  assert.equal(values.length, want.values.length, `${name} numel`);
  for (let i = 0; i < values.length; i++) {
    const a = values[i];
    const b = want.values[i];
    if (tolerance === 0) assert.equal(a, b, `${name}[${i}]`);
    else assert.ok(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b)), `${name}[${i}]: ${a} vs ${b}`);
  }
}

test('reads a torch.save state_dict: OrderedDict, int64 buffers, strided and offset views, shared storage', () => {
  const sd = readTorch(readFileSync(dir('state_dict.pt'))) as Record<string, PyValue>;
  assert.deepEqual(Object.keys(sd), Object.keys(expected.state_dict));
  for (const [key, want] of Object.entries(expected.state_dict)) assertTensor(sd[key], want, key);
  const nbt = sd['2.num_batches_tracked'] as StoredTensor;
  assert.equal(nbt.dtype, 'int64');
  assert.equal(nbt.data[0], 7n);
  assert.deepEqual((sd.strided as StoredTensor).shape, [4, 3]);
});

test("reads nnU-Net v2's checkpoint layout: numpy scalars and arrays, torch.device, int-keyed optimizer state, cuda storages", () => {
  const ck = readTorch(readFileSync(dir('nnunet_checkpoint.pt'))) as Record<string, PyValue>;
  assert.equal(ck.trainer_name, 'nnUNetTrainer');
  assert.deepEqual(ck.inference_allowed_mirroring_axes, [0, 1, 2]);
  assert.equal(ck.current_epoch, 2);
  assert.equal(ck._best_ema, 0.5125);
  assert.equal(ck.grad_scaler_state, null);
  const logging = ck.logging as Record<string, PyValue>;
  assert.deepEqual(logging.mean_fg_dice, [0.5, 0.625]);
  const init = ck.init_args as Record<string, PyValue>;
  assert.equal(init.configuration, '3d_fullres');
  assert.ok(init.device instanceof TorchDevice);
  assert.equal(String(init.device), 'cuda:0');
  assert.deepEqual((init.dataset_json as Record<string, PyValue>).labels, { background: 0, liver: 1, tumor: 2 });
  const weights = ck.network_weights as Record<string, PyValue>;
  for (const [key, want] of Object.entries(expected.network_weights)) assertTensor(weights[key], want, key);
  assert.equal((weights['0.weight'] as StoredTensor).device, 'cuda:0');
  const opt = ck.optimizer_state as Record<string, PyValue>;
  const state = opt.state as Map<PyValue, PyValue>;
  assert.ok(state instanceof Map, 'optimizer state keyed by int is a Map');
  for (const [key, want] of Object.entries(expected.momentum_buffers)) {
    assertTensor((state.get(Number(key)) as Record<string, PyValue>).momentum_buffer, want, `momentum_buffer ${key}`);
  }
  assert.deepEqual(opt.param_groups, expected.param_groups);
  const patch = ck.patch_size as NdArray;
  assert.ok(patch instanceof NdArray);
  assert.deepEqual(patch.shape, [2, 2]);
  assert.deepEqual(Array.from(patch.data as BigInt64Array, Number), [64, 128, 128, 96]);
  assert.deepEqual(Array.from((ck.spacing as NdArray).data as Float64Array), [2.5, 0.75, 0.75]);
});

test('widens float16/bfloat16 to float32 and int8/int16 to int32, keeping the source dtype', () => {
  const half = readTorch(readFileSync(dir('half.pt'))) as Record<string, StoredTensor>;
  for (const [key, want] of Object.entries(expected.half)) assertTensor(half[key], want, key);
  assert.equal(half.f16.dtype, 'float32');
  assert.equal(half.f16.sourceDtype, 'float16');
  assert.equal(half.bf16.sourceDtype, 'bfloat16');
  assert.equal(half.i8.dtype, 'int32');
  assert.equal(half.bool.dtype, 'bool');
  assert.equal(half.i64.data[0], -(2n ** 40n));
});

test('reads pickle protocol 4 (frames, memoize, stack globals)', () => {
  const p4 = readTorch(readFileSync(dir('protocol4.pt'))) as Record<string, PyValue>;
  for (const [key, want] of Object.entries(expected.half)) assertTensor(p4[key], want, key);
});

test('reads the legacy (pre-1.6, non-zip) torch.save format', () => {
  const legacy = readTorch(readFileSync(dir('legacy.pt'))) as Record<string, PyValue>;
  for (const [key, want] of Object.entries(expected.half)) {
    if (key !== 'bf16') assertTensor(legacy[key], want, key);
  }
  const nested = legacy.nested as PyValue[];
  assertTensor(nested[0], expected.legacy_nested0 as unknown as Flat, 'nested[0]');
  assert.deepEqual(nested[1], [1, 'a']);
});

test('a truncated, corrupt, empty or foreign file gives an error naming the file', () => {
  const bytes = readFileSync(dir('state_dict.pt'));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['truncated.pt', bytes.subarray(0, bytes.length - 100), /truncated|end-of-central/],
    ['empty.pt', new Uint8Array(0), /empty/],
    ['notes.txt', new TextEncoder().encode('hello world, not a model'), /not a PyTorch file/],
  ];
  const corrupt = Uint8Array.from(bytes);
  corrupt[200] ^= 0xff; // inside the first record
  cases.push(['corrupt.pt', corrupt, /CRC-32|corrupt/]);
  for (const [name, data, pattern] of cases) {
    assert.throws(() => readTorch(data, `/models/${name}`), (error: unknown) => {
      assert.ok(error instanceof SerializationError, `${name}: ${String(error)}`);
      assert.match(error.message, new RegExp(`^/models/${name.replace('.', '\\.')}: `));
      assert.match(error.message, pattern);
      return true;
    });
  }
  const legacy = readFileSync(dir('legacy.pt'));
  assert.throws(() => readTorch(legacy.subarray(0, legacy.length - 10), 'old.pt'), /^SerializationError: old\.pt: .*truncated/);
});

/** A value that exercises every kind the writer produces. */
function sample(): PyValue {
  const weights: Record<string, PyValue> = {
    'conv.weight': new StoredTensor('float32', [2, 1, 1, 1, 2], Float32Array.from([0.5, -1.25, 3, 1e-8])),
    'conv.bias': new StoredTensor('float32', [2], Float32Array.from([0.1, -0.2]), true),
    'bn.num_batches_tracked': new StoredTensor('int64', [], BigInt64Array.from([12n])),
    'mask': new StoredTensor('bool', [3], Uint8Array.from([1, 0, 1])),
    'f64': new StoredTensor('float64', [2], Float64Array.from([Math.PI, -0.5])),
    'i32': new StoredTensor('int32', [1, 2], Int32Array.from([-7, 2 ** 31 - 1])),
  };
  const state = new Map<PyValue, PyValue>([
    [0, { step: 3, exp_avg: new StoredTensor('float32', [2], Float32Array.from([1, 2])) }],
  ]);
  return {
    network_weights: weights,
    optimizer_state: { state, param_groups: [{ lr: 0.01, betas: [0.9, 0.999], weight_decay: 0, params: [0] }] },
    trainer_name: 'tsTrainer',
    current_epoch: 5,
    big: 2n ** 70n,
    negative: -100000,
    _best_ema: 0.75,
    flags: [true, false, null],
    device: new TorchDevice('cuda', 0),
    name_utf8: 'Léber ✓',
  };
}

test('writer output reads back identically and is byte-stable (committed written_by_ts.pt)', () => {
  const bytes = writeTorch(sample(), 'written_by_ts');
  const back = readTorch(bytes) as Record<string, PyValue>;
  assert.deepEqual(back, sample());
  const committed = dir('written_by_ts.pt');
  if (process.env.HCC_UPDATE_FIXTURES === '1') writeFileSync(committed, bytes);
  assert.deepEqual(new Uint8Array(readFileSync(committed)), bytes, 'writer output changed: rerun with HCC_UPDATE_FIXTURES=1, then make_fixtures.py');
});

test("Python's torch.load read our committed file as written (python_read.json, made by make_fixtures.py)", () => {
  const seen = JSON.parse(readFileSync(dir('python_read.json'), 'utf8'));
  assert.equal(seen.type, 'OrderedDict');
  const w = seen.items.network_weights.items;
  assert.deepEqual(w['conv.weight'], { shape: [2, 1, 1, 1, 2], dtype: 'float32', values: Array.from(Float32Array.from([0.5, -1.25, 3, 1e-8])) });
  assert.deepEqual(w['bn.num_batches_tracked'], { shape: [], dtype: 'int64', values: [12] });
  assert.deepEqual(w.mask, { shape: [3], dtype: 'bool', values: [1, 0, 1] });
  assert.deepEqual(w.i32.values, [-7, 2 ** 31 - 1]);
  assert.deepEqual(seen.items.optimizer_state.items.state.key_types, ['int']);
  assert.equal(seen.items.big, 2 ** 70);
  assert.equal(seen.items.negative, -100000);
  assert.deepEqual(seen.items.device, { device: 'cuda:0' });
  assert.equal(seen.items.name_utf8, 'Léber ✓');
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

test('round trip through Python: torch.load of our file, then our reader on its torch.save', { skip: hasTorch ? false : 'python3-torch not installed (only needed for this live check; the committed fixtures cover CI)' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hcc-torch-'));
  try {
    writeFileSync(join(tmp, 'ours.pt'), writeTorch(sample()));
    const script = [
      'import sys, torch',
      'ck = torch.load(sys.argv[1] + "/ours.pt")',
      'w = ck["network_weights"]',
      'assert w["conv.bias"].requires_grad is True and w["conv.weight"].requires_grad is False',
      'assert ck["optimizer_state"]["state"][0]["exp_avg"].tolist() == [1.0, 2.0]',
      'w["conv.weight"] = w["conv.weight"] * 2',
      'ck["python"] = True',
      'torch.save(ck, sys.argv[1] + "/theirs.pt")',
    ].join('\n');
    execFileSync(python, ['-c', script, tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    const back = readTorch(readFileSync(join(tmp, 'theirs.pt'))) as Record<string, PyValue>;
    const w = back.network_weights as Record<string, StoredTensor>;
    assert.deepEqual(Array.from(w['conv.weight'].data as Float32Array), Array.from(Float32Array.from([1, -2.5, 6, 2e-8])));
    assert.equal(back.python, true);
    assert.equal(back.trainer_name, 'tsTrainer');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
