// The PMN commands as a user runs them, on a tiny synthetic cohort from `hcc cohort generate --grid tiny`,
// against what the study API computes for the same cases. Most commands go through the CLI's entry point in this
// process (same argument parsing, errors and exit codes as bin/hcc.js, without starting libtorch again); the
// exit-code checks run bin/hcc.js itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { runCli } from '../../src/cli/main.js';
import { casePaths } from '../../src/imaging/case.js';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { writeNiftiSync } from '../../src/imaging/nifti/write.js';
import { readModelJson, scorePmn } from '../../src/pmn/api.js';
import { cropSpecFor } from '../../src/pmn/crop.js';
import { ensureCrop, ensureTumourCrops } from '../../src/pmn/input.js';
import { loadModel } from '../../src/pmn/model-store.js';
import { predictCases, type PmnPrediction } from '../../src/pmn/predict.js';
import { parseStudyConfig } from '../../src/study/config.js';
import { pmnStage } from '../../src/study/stages/pmn.js';
import { aucDelong, delongCi, splitByOutcome } from '../../src/survival/roc.js';
import { column, numericColumn, readCsv } from '../../src/util/csv.js';
import { sha256 } from '../../src/util/hash.js';
import { repoRoot } from '../helpers.js';

torch.setNumThreads(1);

const work = mkdtempSync(join(tmpdir(), 'pmn-cli-'));
const cohortDir = join(work, 'cohort');
const modelDir = join(work, 'model');
const cacheDir = join(work, 'cache');
after(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** node bin/hcc.js ARGS in a child process. */
function hcc(...args: string[]): Run {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'hcc.js'), ...args], { encoding: 'utf8' });
}

const compiledSources = join(repoRoot, 'dist', 'src');

/**
 * The CLI's entry point in this process, its output captured: what the program's own code writes. The test
 * runner's reports, which reach the same streams meanwhile, go on to them.
 */
async function cli(...args: string[]): Promise<Run> {
  const captured = { stdout: [] as string[], stderr: [] as string[] };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const s of ['stdout', 'stderr'] as const) {
    const original = writes[s].bind(process[s]) as (...a: unknown[]) => boolean;
    process[s].write = ((chunk: unknown, ...rest: unknown[]) =>
      typeof chunk === 'string' && (new Error().stack ?? '').includes(compiledSources) ? captured[s].push(chunk) > 0 : original(chunk, ...rest)) as typeof process.stdout.write;
  }
  try {
    const status = await runCli(args);
    return { status, stdout: captured.stdout.join(''), stderr: captured.stderr.join('') };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}

function ok(r: Run): string {
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

const noStack = /at .*\.js:\d+/;
let ids: string[] = [];
let labels: number[] = [];
let multi = '';

function source(id: string) {
  const f = casePaths(join(cohortDir, 'images', id));
  return { id, art: f.art, pv: f.pv, mask: f.label };
}

async function predictCrops(id: string, crops: string[]): Promise<PmnPrediction[]> {
  const model = loadModel(modelDir);
  try {
    const out: PmnPrediction[] = [];
    for (const crop of crops) out.push(...(await predictCases(model, [{ id, crop }])));
    return out;
  } finally {
    model.net.dispose();
  }
}

function auc(scores: number[], y: number[]) {
  const { cases, controls } = splitByOutcome(scores, y);
  const d = aucDelong(cases, controls, '<');
  return { auc: d.auc, ci: delongCi(d.auc, d.variance) };
}

/** The crops the trained model reads (its input plus a jitter margin, at its spacing). */
const modelCrop = () => cropSpecFor(readModelJson(modelDir).config);

const trainArgs = () => ['train', 'pmn', '--resection', cohortDir, '--out', modelDir, '--splits', join(work, 'splits.json'), '--epochs', '1', '--seed', '2', '--config', join(work, 'tiny.json'), '--json'];

before(async () => {
  // Seed 2: 4 of 10 cases proliferative, three with two or three tumours.
  ok(await cli('cohort', 'generate', '--cohort', 'resection', '--n', '10', '--seed', '2', '--grid', 'tiny', '--workers', '1', '--out', cohortDir, '--json'));
  const table = readCsv(join(cohortDir, 'cohort.csv'));
  ids = column(table, 'id') as string[];
  labels = Array.from(numericColumn(table, 'proliferative'));
  // A third of each class held out (two cases of each here).
  const test = ids.filter((id, i) => ids.filter((_, j) => j < i && labels[j] === labels[i]).length % 3 === 0);
  writeFileSync(join(work, 'splits.json'), JSON.stringify({ cohorts: { resection: { train: ids.filter((id) => !test.includes(id)), test } } }));
  writeFileSync(join(work, 'tiny.json'), JSON.stringify({
    model: { inputSize: [32, 32, 16], stemChannels: [4, 8], dModel: 16, depth: 2, dState: 4, prototypesPerClass: 2 },
    training: { batchSize: 8, lastLayerSteps: 20 },
  }));
  const summary = JSON.parse(ok(await cli(...trainArgs())));
  assert.deepEqual(summary.split.resection, { train: ids.length - test.length, test: test.length });
  // A case with at least two tumours of 1 cm or more in its label map, for the `--tumours all` checks.
  for (const id of ids) {
    if ((await ensureTumourCrops(source(id), cacheDir, modelCrop())).length >= 2) {
      multi = id;
      break;
    }
  }
  assert.ok(multi, 'the tiny cohort has a case with two or more tumours of at least 1 cm');
});

test('hcc train pmn writes the model folder of CONTRACTS.md', async () => {
  const meta = readModelJson(modelDir);
  assert.equal(meta.kind, 'pmn');
  assert.equal(meta.version, 1);
  assert.deepEqual(meta.channels, ['arterial', 'portal_venous', 'tumour_mask']);
  assert.deepEqual(meta.config.inputSize, [32, 32, 16]);
  assert.ok(meta.normalisation.art.sd > 0 && meta.normalisation.pv.sd > 0);
  const prov = meta.provenance as { synthetic: boolean; resectionCsvSha256: string; split: { resection: { train: string[]; test: string[] } } };
  assert.equal(prov.synthetic, true);
  assert.equal(prov.resectionCsvSha256, sha256(readFileSync(join(cohortDir, 'cohort.csv'))));
  assert.deepEqual([...prov.split.resection.train, ...prov.split.resection.test].sort(), [...ids].sort());
  assert.ok(meta.metrics.resection_train_auc !== undefined && meta.metrics.epochs === 1);
  // Each prototype was pushed onto a training case of its class.
  assert.equal(meta.prototypes.length, 4);
  for (const p of meta.prototypes) assert.ok(prov.split.resection.train.includes(p.caseId) && labels[ids.indexOf(p.caseId)] === p.class);
  // The weights are a PyTorch zip with PyTorch key names.
  const pth = readFileSync(join(modelDir, 'model.pth'));
  assert.equal(pth.subarray(0, 2).toString(), 'PK');
  const state = torch.load(join(modelDir, 'model.pth')) as unknown as Record<string, torch.Tensor>;
  assert.ok(['stem.0.weight', 'prototype_vectors', 'last_layer.weight', 'cox_head.weight'].every((k) => k in state), Object.keys(state).join(', '));
  torch.dispose(state as never);
  for (const f of ['checkpoint.pth', join('prototypes', 'prototype_0.png')]) assert.ok(existsSync(join(modelDir, f)), f);
});

test('hcc classify --json: the probability scorePmn gives for the case, contributions that sum to the logit', async () => {
  const id = ids[0]!;
  const ex = JSON.parse(ok(await cli('classify', join(cohortDir, 'images', id), '--model', modelDir, '--out', join(work, 'classify'), '--json')));
  const [api] = await scorePmn({ model: modelDir, cohort: { csv: join(cohortDir, 'cohort.csv'), dir: cohortDir }, ids: [id], cacheDir });
  assert.equal(ex.id, id);
  assert.ok(ex.probability > 0 && ex.probability < 1);
  assert.ok(Math.abs(ex.probability - api!.probability) < 1e-6, `${ex.probability} vs ${api!.probability}`);
  assert.ok(Math.abs(ex.logit - api!.logit) < 1e-6, `${ex.logit} vs ${api!.logit}`);
  assert.ok(Math.abs(ex.riskScore - api!.riskScore) < 1e-6, `${ex.riskScore} vs ${api!.riskScore}`);
  const sum = (ex.prototypes as Array<{ contribution: number }>).reduce((a, p) => a + p.contribution, 0);
  assert.ok(Math.abs(sum - ex.logit) < 1e-5, `contributions ${sum} vs logit ${ex.logit}`);
  assert.equal(ex.prototypes.length, 4);
  assert.ok(existsSync(join(work, 'classify', 'explanation.json')) && existsSync(ex.prototypes[0].similarityMap));

  // --tta: scorePmn's test-time-augmented probability, still explained by contributions summing to the logit.
  const tta = JSON.parse(ok(await cli('classify', join(cohortDir, 'images', id), '--model', modelDir, '--tta', '--out', join(work, 'classify-tta'), '--json')));
  const [apiTta] = await scorePmn({ model: modelDir, cohort: { csv: join(cohortDir, 'cohort.csv'), dir: cohortDir }, ids: [id], cacheDir, tta: true });
  assert.ok(Math.abs(tta.logit - apiTta!.logit) < 1e-6, `${tta.logit} vs ${apiTta!.logit}`);
  assert.ok(Math.abs(tta.logit - ex.logit) > 1e-6, 'the views change the log-odds');
  const sumTta = (tta.prototypes as Array<{ contribution: number }>).reduce((a, p) => a + p.contribution, 0);
  assert.ok(Math.abs(sumTta - tta.logit) < 1e-5, `contributions ${sumTta} vs logit ${tta.logit}`);
});

test('hcc evaluate pmn --json: the AUC and DeLong CI recomputed from the scores of the test split', async () => {
  const test = (readModelJson(modelDir).provenance as { split: { resection: { test: string[] } } }).split.resection.test;
  const y = test.map((id) => labels[ids.indexOf(id)]!);
  assert.ok(y.includes(0) && y.includes(1), 'the test split has both classes');
  for (const [tumours, tta] of [['largest', false], ['all', false], ['largest', true]] as const) {
    const r = JSON.parse(ok(await cli('evaluate', 'pmn', '--model', modelDir, '--cohort', cohortDir, '--tumours', tumours, ...(tta ? ['--tta'] : []), '--json')));
    assert.equal(r.cases, 'test split');
    assert.equal(r.n, test.length);
    assert.equal(r.tumours, tumours);
    assert.equal(r.tta, tta);
    const scores = await scorePmn({ model: modelDir, cohort: { csv: join(cohortDir, 'cohort.csv'), dir: cohortDir }, ids: test, cacheDir, tumours, tta });
    const expected = auc(scores.map((s) => s.probability), y);
    assert.ok(Math.abs(r.pmn.auc - expected.auc) < 1e-12, `${tumours}: ${r.pmn.auc} vs ${expected.auc}`);
    assert.ok(Math.abs(r.pmn.ci[0] - expected.ci[0]) < 1e-9 && Math.abs(r.pmn.ci[1] - expected.ci[1]) < 1e-9);
    assert.ok(r.pmn.ci[0] <= r.pmn.auc && r.pmn.auc <= r.pmn.ci[1]);
    assert.ok(r.oracle && r.oracle.auc >= 0 && r.oracle.auc <= 1, 'oracle ceiling from truth.csv');
  }
});

test("--tumours all: the mean log-odds and risk over each tumour's own crop; 'largest' is the single-crop value", async () => {
  const crops = await ensureTumourCrops(source(multi), cacheDir, modelCrop());
  const per = await predictCrops(multi, crops);
  const meanLogit = per.reduce((a, p) => a + p.logit, 0) / per.length;
  const meanRisk = per.reduce((a, p) => a + p.riskScore, 0) / per.length;
  const cohort = { csv: join(cohortDir, 'cohort.csv'), dir: cohortDir };

  const ex = JSON.parse(ok(await cli('classify', join(cohortDir, 'images', multi), '--model', modelDir, '--tumours', 'all', '--out', join(work, 'all'), '--json')));
  assert.equal(ex.tumours.length, crops.length);
  ex.tumours.forEach((t: { tumour: number; logit: number; riskScore: number; volumeMl: number; prototypes: Array<{ contribution: number }> }, r: number) => {
    assert.equal(t.tumour, r + 1);
    assert.ok(Math.abs(t.logit - per[r]!.logit) < 1e-6, `tumour ${r + 1}: ${t.logit} vs ${per[r]!.logit}`);
    assert.ok(Math.abs(t.riskScore - per[r]!.riskScore) < 1e-6);
    const sum = t.prototypes.reduce((a, p) => a + p.contribution, 0);
    assert.ok(Math.abs(sum - t.logit) < 1e-5, `tumour ${r + 1}: contributions ${sum} vs logit ${t.logit}`);
    assert.ok(existsSync(join(work, 'all', `tumour_${r + 1}`, 'explanation.json')));
  });
  assert.ok(ex.tumours[0].volumeMl >= ex.tumours[1].volumeMl, 'largest first');
  assert.ok(Math.abs(ex.logit - meanLogit) < 1e-6 && Math.abs(ex.riskScore - meanRisk) < 1e-6);
  assert.ok(Math.abs(ex.probability - 1 / (1 + Math.exp(-meanLogit))) < 1e-6);
  const [all] = await scorePmn({ model: modelDir, cohort, ids: [multi], cacheDir, tumours: 'all' });
  assert.ok(Math.abs(all!.logit - meanLogit) < 1e-6 && Math.abs(all!.riskScore - meanRisk) < 1e-6);
  assert.ok(Math.abs(all!.probability - ex.probability) < 1e-6);

  // 'largest' (the default) reads the one crop of the largest tumour with the other tumours in its mask.
  const [single] = await predictCrops(multi, [await ensureCrop(source(multi), cacheDir, modelCrop())]);
  const [largest] = await scorePmn({ model: modelDir, cohort, ids: [multi], cacheDir });
  assert.deepEqual(largest, single);
  const one = JSON.parse(ok(await cli('classify', join(cohortDir, 'images', multi), '--model', modelDir, '--out', join(work, 'largest'), '--json')));
  assert.ok(Math.abs(one.probability - single!.probability) < 1e-6 && Math.abs(one.riskScore - single!.riskScore) < 1e-6);
  assert.notEqual(one.logit, ex.logit);
});

test("study pmn.tumours: parsed strictly (default 'largest'), and the PMN stage scores with it", async () => {
  const cohorts = { resection: { csv: join(cohortDir, 'cohort.csv'), images: join(cohortDir, 'images') }, iat: { csv: join(cohortDir, 'cohort.csv') } };
  const raw = (pmn: object) => ({ name: 'cli', cohorts, pmn: { model: modelDir, ...pmn } });
  assert.equal(parseStudyConfig(raw({}), join(work, 'study.json')).pmn.tumours, 'largest');
  assert.throws(() => parseStudyConfig(raw({ tumours: 'every' }), 'c.json'), /c\.json\.pmn\.tumours: expected one of largest, all, got "every"/);
  const splits = join(work, 'study-splits.json');
  const empty = { train: [], test: [], folds: [] };
  const { resection } = JSON.parse(readFileSync(join(work, 'splits.json'), 'utf8')).cohorts;
  writeFileSync(splits, JSON.stringify({ cohorts: { resection: { ...resection, folds: [] }, iat: empty } }));
  const cropsDir = join(work, 'no-crops');
  mkdirSync(cropsDir);
  const imaging = { resection: { croppedCsv: join(cohortDir, 'cohort.csv'), cropsDir } };
  const entries = { resection: { images: join(cohortDir, 'images') }, iat: { images: null } };
  for (const tumours of ['largest', 'all'] as const) {
    const config = parseStudyConfig(raw({ tumours }), join(work, 'study.json'));
    const stage = pmnStage(config, entries as never, imaging as never, {}, splits, 'h');
    const dir = join(work, `stage-${tumours}`);
    mkdirSync(dir);
    const result = await stage.run(dir);
    const csv = readCsv(result.scores.resection);
    const expected = await scorePmn({ model: modelDir, cohort: { csv: join(cohortDir, 'cohort.csv'), dir: cohortDir }, cacheDir, tumours });
    assert.deepEqual(column(csv, 'id'), expected.map((p) => p.id));
    assert.deepEqual(Array.from(numericColumn(csv, 'probability')), expected.map((p) => p.probability), tumours);
  }
});

test('exit codes: a missing --model is a usage error (2); a mask without tumour or a one-class training split is a clear error naming the file (1); --tumours is checked', async () => {
  const prefix = join(cohortDir, 'images', ids[0]!);
  for (const r of [hcc('classify', prefix), await cli('evaluate', 'pmn', '--cohort', cohortDir)]) {
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--model( and --cohort)? (is|are) required/);
    assert.doesNotMatch(r.stderr, noStack);
  }
  // A training split without a proliferative case cannot train the classifier.
  const negatives = join(work, 'negatives.json');
  writeFileSync(negatives, JSON.stringify({ cohorts: { resection: { train: ids.filter((_, i) => labels[i] === 0), test: ids.filter((_, i) => labels[i] === 1) } } }));
  const oneClass = await cli('train', 'pmn', '--resection', cohortDir, '--out', join(work, 'one-class'), '--splits', negatives, '--epochs', '1');
  assert.equal(oneClass.status, 1, oneClass.stderr);
  assert.ok(oneClass.stderr.includes(`${negatives}: the training split has no case with proliferative = 1`), oneClass.stderr);
  const bad = await cli('classify', prefix, '--model', modelDir, '--tumours', 'some');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--tumours must be largest or all, got 'some'/);

  // The same case with its tumour relabelled as liver.
  const empty = join(work, 'empty');
  const files = casePaths(prefix);
  const label = readNiftiSync(files.label);
  const mask = join(work, 'no-tumour_label.nii.gz');
  writeNiftiSync(mask, { ...label, data: Uint8Array.from(label.data as ArrayLike<number>, (v) => (v === 2 ? 1 : v)) });
  for (const tumours of ['largest', 'all']) {
    const args = ['classify', '--art', files.art, '--pv', files.pv, '--mask', mask, '--model', modelDir, '--tumours', tumours, '--out', empty];
    const r = tumours === 'largest' ? hcc(...args) : await cli(...args);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(mask), r.stderr);
    assert.match(r.stderr, /no tumour/);
    assert.doesNotMatch(r.stderr, noStack);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
});

test('hcc train pmn --resume of a finished training keeps the weights bit for bit', async () => {
  const before = readFileSync(join(modelDir, 'model.pth'));
  const checkpoint = readFileSync(join(modelDir, 'checkpoint.pth'));
  ok(await cli(...trainArgs(), '--resume'));
  assert.ok(readFileSync(join(modelDir, 'model.pth')).equals(before), 'model.pth changed');
  assert.ok(readFileSync(join(modelDir, 'checkpoint.pth')).equals(checkpoint), 'checkpoint.pth changed');
});
