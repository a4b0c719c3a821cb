import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { runTask } from '../../src/survival/tasks/index.js';
import { fixture } from '../helpers.js';

test('hcc stats stage lists every system per row through the task table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-stage-'));
  const csv = join(dir, 'p.csv');
  writeFileSync(csv, 'id,bilirubin_umol_l,albumin_g_l,inr,ascites,encephalopathy,ecog,tumour_count,tumour_diameter_cm,liver_occupancy_fraction,afp_ng_ml,pvtt,vp_grade,ehs,nodes\na,12,42,1.05,none,none,0,1,2,0.01,20,0,0,0,0\n');
  const doc = await runTask('stage', csv, {});
  const r = doc.result as Record<string, unknown[]>;
  assert.deepEqual([r['id']![0], r['child_pugh_class']![0], r['bclc']![0], r['tnm8']![0]], ['a', 'A', '0', 'IA']);
});

test('hcc stats writes the oracle layout with --json --out, and exits 2 on an unknown option', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hcc-stats-'));
  const out = join(dir, 'km.json');
  const code = await runCli(['stats', 'km', fixture('survival', 'lung.csv'), '--group=sex', '--conf-type=log', '--json', `--out=${out}`]);
  assert.equal(code, 0);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(doc), ['task', 'input', 'options', 'na', 'result', 'meta']);
  assert.deepEqual(doc.result.conf_log.summary.median, [270, 426]);
  assert.deepEqual(doc.options, { group: 'sex', conf_type: 'log' });
  const origErr = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    assert.equal(await runCli(['stats', 'km', fixture('survival', 'lung.csv'), '--grop=sex']), 2);
  } finally {
    process.stderr.write = origErr;
  }
  assert.match(err, /unknown option --grop/);
});
