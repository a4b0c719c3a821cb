import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateClinical } from '../../src/clinical/schema.js';
import { runCli } from '../../src/cli/main.js';
import { albi, stageCsv, STAGE_COLUMNS } from '../../src/staging/index.js';
import { cohortColumns, generatePatient, truthColumns, writeCohort } from '../../src/phantom/cohort.js';
import { COHORT_MODEL } from '../../src/phantom/model.js';
import { prognosticIndex } from '../../src/phantom/outcomes.js';
import { readCsv, type CsvTable } from '../../src/util/csv.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'hcc-cohort-'));
const records = (t: CsvTable) => t.rows.map((r) => Object.fromEntries(t.columns.map((c, j) => [c, r[j]])) as Record<string, string | null>);

test('iat cohort.csv and truth.csv: schema-valid rows, stages that recompute from the file, η and common random numbers', async () => {
  const dir = scratch();
  try {
    await writeCohort({ cohort: 'iat', n: 400, seed: 11, out: dir, progress: false });
    assert.deepEqual(readdirSync(dir).sort(), ['cohort.csv', 'cohort.json', 'truth.csv']); // no temporary files left
    const cohort = readCsv(join(dir, 'cohort.csv'));
    const truth = readCsv(join(dir, 'truth.csv'));
    assert.deepEqual(cohort.columns, cohortColumns('iat'));
    assert.deepEqual(truth.columns, ['id', 'P', 'u', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'eta', 't_tace', 't_haic', 'log_hr_haic']);
    assert.ok(!cohort.columns.includes('P') && !cohort.columns.includes('eta'), 'no hidden truth in cohort.csv');
    const rows = records(cohort);
    const truthRows = records(truth);
    const stages = stageCsv(cohort).rows;
    rows.forEach((row, i) => {
      const v = validateClinical(row, `cohort.csv row ${i + 1}`);
      for (const c of STAGE_COLUMNS) assert.equal(String(stages[i]![c]), row[c], `${row.id} ${c}`);
      const t = truthRows[i]!;
      assert.equal(t.id, row.id);
      const eta = prognosticIndex({
        age: v.age_years!,
        P: Number(t.P) as 0 | 1,
        diameterCm: v.tumour_diameter_cm!,
        count: v.tumour_count!,
        pvtt: v.pvtt!,
        ehs: v.ehs!,
        albiScore: albi(v).score,
        afpNgMl: v.afp_ng_ml!,
        ecog: v.ecog!,
      });
      assert.equal(eta, Number(t.eta), `${row.id}: η recomputed from cohort.csv`);
      // One uniform for both arms: the time ratio is the treatment HR alone, exp(−log HR / k).
      const ratio = Number(t.t_haic) / Number(t.t_tace);
      assert.ok(Math.abs(ratio - Math.exp(-Number(t.log_hr_haic) / COHORT_MODEL.weibull.shape)) < 1e-12);
      const tArm = Number(row.treatment === 'HAIC' ? t.t_haic : t.t_tace);
      if (row.os_event === '1') assert.equal(Number(row.os_months), Math.max(0.01, Math.round(tArm * 100) / 100));
      else assert.ok(Number(row.os_months) <= Math.round(tArm * 100) / 100 + 1e-9, `${row.id}: censored before the event`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resection cohort: pathology label column, no outcome columns, no PVTT or EHS', async () => {
  const dir = scratch();
  try {
    await writeCohort({ cohort: 'resection', n: 200, seed: 5, out: dir, progress: false });
    const cohort = readCsv(join(dir, 'cohort.csv'));
    assert.deepEqual(cohort.columns, cohortColumns('resection'));
    assert.ok(cohort.columns.includes('proliferative') && !cohort.columns.includes('treatment') && !cohort.columns.includes('os_months'));
    assert.deepEqual(readCsv(join(dir, 'truth.csv')).columns, truthColumns('resection'));
    for (const row of records(cohort)) {
      assert.equal(row.pvtt, '0');
      assert.equal(row.ehs, '0');
      assert.ok(['2', '3'].includes(row.tumour_count!) || row.tumour_count === '1');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed, same bytes; each patient is the same generated alone or in a cohort; another seed differs', async () => {
  const a = scratch();
  const b = scratch();
  try {
    const s1 = await writeCohort({ cohort: 'iat', n: 300, seed: 99, out: a, progress: false });
    const s2 = await writeCohort({ cohort: 'iat', n: 300, seed: 99, out: b, progress: false });
    for (const f of ['cohort.csv', 'truth.csv', 'cohort.json']) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
    assert.deepEqual(s1.files, s2.files);
    const row = records(readCsv(join(a, 'cohort.csv')))[217]!;
    const alone = generatePatient('iat', 99, 217).record.clinical;
    assert.equal(row.id, alone.id);
    assert.equal(Number(row.os_months), alone.os_months);
    assert.equal(Number(row.afp_ng_ml), alone.afp_ng_ml);
    const s3 = await writeCohort({ cohort: 'iat', n: 300, seed: 100, out: b, progress: false });
    assert.notEqual(s3.files['cohort.csv'], s1.files['cohort.csv']);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('hcc cohort generate: --json summary, files on disk, usage errors exit 2', async () => {
  const dir = scratch();
  const write = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await runCli(['cohort', 'generate', '--cohort', 'resection', '--n', '50', '--seed', '3', '--out', dir, '--no-images', '--json']);
  } finally {
    process.stdout.write = write;
  }
  try {
    assert.equal(code, 0);
    const summary = JSON.parse(stdout);
    assert.equal(summary.n, 50);
    assert.equal(summary.images, false);
    assert.match(summary.files['cohort.csv'], /^[0-9a-f]{64}$/);
    assert.equal(readCsv(join(dir, 'cohort.csv')).rows.length, 50);
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await runCli(['cohort', 'generate', '--cohort', 'both', '--n', '5', '--seed', '1', '--out', dir]), 2);
      assert.equal(await runCli(['cohort', 'generate', '--cohort', 'iat', '--n', '0', '--seed', '1', '--out', dir]), 2);
      assert.equal(await runCli(['cohort', 'generate', '--cohort', 'iat', '--n', '5', '--seed', '1']), 2);
    } finally {
      process.stderr.write = stderr;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
