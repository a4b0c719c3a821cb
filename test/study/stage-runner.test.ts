import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStage, stageDir } from '../../src/study/stage-runner.js';

test('a finished stage is reused while its inputs are unchanged and rerun when they change', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'hcc-stage-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  let runs = 0;
  const stage = (inputs: unknown) => ({ name: 'demo', version: 1, inputs, run: async () => ({ value: ++runs }) });
  const quiet = () => {};
  const a = await runStage(out, stage({ n: 1 }), quiet);
  const b = await runStage(out, stage({ n: 1 }), quiet);
  assert.equal(a.cached, false);
  assert.equal(a.record.compute!.sittings, 1);
  assert.deepEqual(b.record, a.record, 'a cached stage reports the compute it cost when it ran');
  assert.equal(b.cached, true);
  assert.deepEqual(b.result, { value: 1 });
  const c = await runStage(out, stage({ n: 2 }), quiet);
  assert.equal(c.cached, false);
  assert.deepEqual(c.result, { value: 2 });
  // New stage code (a bumped version) recomputes even with equal inputs.
  const d = await runStage(out, { ...stage({ n: 2 }), version: 2 }, quiet);
  assert.equal(d.cached, false);
});

test('a tampered result is refused rather than silently reused', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'hcc-stage-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await runStage(out, { name: 's', version: 1, inputs: 1, run: async () => ({ auc: 0.8 }) }, () => {});
  const file = join(stageDir(out, 's'), 'result.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace('0.8', '0.9'));
  await assert.rejects(runStage(out, { name: 's', version: 1, inputs: 1, run: async () => ({ auc: 0 }) }, () => {}), /does not match the hash/);
});

test('an interrupted stage resumes in its folder; a stage with other inputs starts clean', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'hcc-stage-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const kill = new Error('killed');
  const stage = (inputs: unknown, fail: boolean) => ({
    name: 'train',
    version: 1,
    inputs,
    run: async (dir: string) => {
      const checkpoint = join(dir, 'checkpoint');
      const resumedFrom = existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8') : null;
      writeFileSync(checkpoint, 'epoch 5');
      if (fail) throw kill;
      return { resumedFrom };
    },
  });
  await assert.rejects(runStage(out, stage({ lr: 1 }, true), () => {}), /killed/);
  const first = JSON.parse(readFileSync(join(stageDir(out, 'train'), 'compute.json'), 'utf8'));
  assert.equal(first.sittings, 1);
  const resumed = await runStage(out, stage({ lr: 1 }, false), () => {});
  assert.deepEqual(resumed.result, { resumedFrom: 'epoch 5' });
  // The compute of the killed sitting is carried into the finished stage's total.
  assert.equal(resumed.record.compute!.sittings, 2);
  assert.ok(resumed.record.compute!.wallSeconds >= first.wallSeconds + resumed.record.seconds - 1e-9);
  assert.ok(resumed.record.compute!.cpuSeconds >= first.cpuSeconds);
  await assert.rejects(runStage(out, stage({ lr: 2 }, true), () => {}), /killed/);
  const fresh = await runStage(out, stage({ lr: 3 }, false), () => {});
  assert.deepEqual(fresh.result, { resumedFrom: null });
  assert.equal(fresh.record.compute!.sittings, 1, 'a folder from other inputs starts its compute afresh');
});

test('a stage records the CPU time its work took, worker threads included', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'hcc-stage-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const { Worker } = await import('node:worker_threads');
  // 0.3 CPU-s on the main thread and 0.3 in a worker: both must be counted.
  const spin = 'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 300000) {}';
  const r = await runStage(out, {
    name: 'busy',
    version: 1,
    inputs: 0,
    run: async () => {
      await new Promise((resolve, reject) => new Worker(spin, { eval: true }).on('exit', resolve).on('error', reject));
      const t0 = process.cpuUsage();
      while (process.cpuUsage(t0).user < 300_000);
      return {};
    },
  }, () => {});
  assert.ok(r.record.compute!.cpuSeconds >= 0.55, `counted ${r.record.compute!.cpuSeconds} CPU-s`);
});
