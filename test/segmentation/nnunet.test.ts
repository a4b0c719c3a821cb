import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as torch from '@hcc/torch';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { predictStage, segmentCase } from '../../src/segmentation/infer.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';
import { fixture } from '../helpers.js';

torch.setNumThreads(1);
const results = fixture('segmentation', 'nnunet_results');
const f32 = (name: string) => new Float32Array(readFileSync(fixture('segmentation', name)).buffer.slice(0));
const scratch = mkdtempSync(join(tmpdir(), 'hcc-seg-nnunet-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('an nnU-Net checkpoint (292-key layout: all_modules and decoder.encoder aliases, numpy scalars, torch.device) loads and gives python3-torch logits', () => {
  const model = loadSegmentationModel(results);
  assert.equal(model.format, 'nnunet');
  assert.deepEqual(model.stages[0]!.mirrorAxes, [0, 1, 2]);
  const net = model.stages[0]!.nets[0]!;
  const keys = Object.keys(torch.tidy(() => net.stateDict()));
  assert.ok(keys.includes('encoder.stages.0.0.convs.0.all_modules.0.weight'));
  assert.ok(keys.includes('decoder.encoder.stages.2.0.convs.1.norm.bias'));
  assert.ok(keys.includes('decoder.transpconvs.1.weight') && keys.includes('decoder.seg_layers.1.bias'));
  const expected = f32('net_logits.f32');
  const got = torch.tidy(() => torch.noGrad(() => net.forward(torch.fromArray(f32('net_input.f32'), [1, 1, 8, 16, 16]))[0]!.toArray() as Float32Array));
  assert.equal(got.length, expected.length);
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - expected[i]!));
  assert.ok(maxErr < 1e-4, `max |logit difference| ${maxErr}`);
});

test('nnU-Net v2 predictor (crop, CT normalisation, padding, tiles, float16 Gaussian accumulation, mirroring) reproduced voxel for voxel', () => {
  const model = loadSegmentationModel(results);
  const ct = readNiftiSync(fixture('segmentation', 'ct.nii.gz'));
  const expected = readNiftiSync(fixture('segmentation', 'expected_seg.nii.gz'));
  const seg = predictStage(model.stages[0]!, [ct], { mirror: true, exact: true });
  let diff = 0;
  for (let i = 0; i < seg.data.length; i++) if (seg.data[i] !== expected.data[i]) diff++;
  assert.equal(diff, 0, `${diff} of ${seg.data.length} voxels differ`);
  assert.deepEqual(seg.affine, ct.affine);
});

test('errors: channel mismatch, corrupt checkpoint, unsupported architecture, absent device', () => {
  const model = loadSegmentationModel(results);
  const ct = readNiftiSync(fixture('segmentation', 'ct.nii.gz'));
  assert.throws(() => predictStage(model.stages[0]!, [ct, ct]), /expects 1 input channel\(s\), got 2/);
  // corrupt: a truncated checkpoint
  const bad = join(scratch, 'corrupt');
  cpSync(results, bad, { recursive: true });
  const ck = join(bad, 'fold_0', 'checkpoint_final.pth');
  writeFileSync(ck, readFileSync(ck).subarray(0, 5000));
  assert.throws(() => loadSegmentationModel(bad), (e: Error) => e.name === 'HccError' && e.message.includes('checkpoint_final.pth: cannot read the checkpoint'));
  // weights that do not fit the plans
  const wrong = join(scratch, 'wrong');
  cpSync(results, wrong, { recursive: true });
  const plans = JSON.parse(readFileSync(join(wrong, 'plans.json'), 'utf8'));
  plans.configurations['3d_fullres'].architecture.arch_kwargs.features_per_stage = [4, 8, 32];
  writeFileSync(join(wrong, 'plans.json'), JSON.stringify(plans));
  assert.throws(() => loadSegmentationModel(wrong), /do not fit the architecture in the plans: .*size mismatch/);
  assert.throws(() => loadSegmentationModel(join(scratch, 'nothing')), /no such model folder/);
  assert.throws(() => loadSegmentationModel(results, { device: 'tpu' }), /device 'tpu': expected 'cpu', 'cuda' or 'cuda:N'/);
  // A CPU-only libtorch (CI) and a CUDA one (docs/torch.md) both refuse a device that is not there, by name.
  const absent = torch.buildInfo().cudaBuild ? /device 'cuda:99': \d+ CUDA device\(s\) visible/ : /device 'cuda:99': this build of @hcc\/torch links a CPU-only libtorch/;
  assert.throws(() => loadSegmentationModel(results, { device: 'cuda:99' }), (e: Error) => e.name === 'HccError' && absent.test(e.message));
});

test('a CT in which the model finds no liver gives a warning and an empty result, not a crash', () => {
  const model = loadSegmentationModel(results);
  const head = model.stages[0]!.nets[0]!.decoder.seg_layers.at(1) as unknown as { bias: torch.Tensor };
  torch.noGrad(() => head.bias.copy_(torch.tensor([100, 0, 0])));
  const ct = readNiftiSync(fixture('segmentation', 'ct.nii.gz'));
  const res = segmentCase(model, { pv: ct });
  assert.equal(res.labels.data.reduce((a, b) => a + b, 0), 0);
  assert.match(res.warnings.join(), /no liver found/);
  assert.equal(res.measurements.count, 0);
  assert.equal(res.measurements.liverVolumeMl, 0);
});

test('hcc segment: one CT into a one-channel nnU-Net model writes the labels on the CT grid; --dicom-seg needs a DICOM source', async () => {
  const { segmentCommand } = await import('../../src/cli/commands/segment.js');
  const out = join(scratch, 'seg.nii.gz');
  const write = process.stdout.write;
  let printed = '';
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    assert.equal(await segmentCommand.run([fixture('segmentation', 'ct.nii.gz'), '--model', results, '--out', out, '--json']), 0);
  } finally {
    process.stdout.write = write;
  }
  const summary = JSON.parse(printed);
  assert.equal(summary.format, 'nnunet');
  assert.ok(summary.timing.stage1_liver_tumour > 0);
  // An nnU-Net folder has no liver-contact rule: nnU-Net's postprocessing alone.
  assert.deepEqual(summary.removedTumours, { components: 0, volumeMl: 0 });
  const seg = readNiftiSync(out);
  const ct = readNiftiSync(fixture('segmentation', 'ct.nii.gz'));
  assert.deepEqual(seg.shape, ct.shape);
  assert.deepEqual(seg.affine, ct.affine);
  await assert.rejects(segmentCommand.run([fixture('segmentation', 'ct.nii.gz'), '--model', results, '--out', out, '--dicom-seg', join(scratch, 'x.dcm')]), /not a DICOM series/);
});

test('--checkpoint best on a results folder without checkpoint_best.pth names what is missing', () => {
  assert.throws(() => loadSegmentationModel(results, { checkpoint: 'best' }), /no fold_N\/checkpoint_best\.pth/);
  assert.equal(loadSegmentationModel(results, { checkpoint: 'checkpoint_final.pth' }).checkpoint, 'checkpoint_final.pth');
});
