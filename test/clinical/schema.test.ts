import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLINICAL_COLUMNS, parseField, validateClinical } from '../../src/clinical/schema.js';
import { repoRoot } from '../helpers.js';

test('every CONTRACTS.md column is defined once, with a unit or levels', () => {
  const names = CLINICAL_COLUMNS.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const n of ['id', 'age_years', 'sex', 'hbv', 'afp_ng_ml', 'bilirubin_umol_l', 'albumin_g_l', 'inr', 'ascites', 'encephalopathy', 'ecog',
    'tumour_count', 'tumour_diameter_cm', 'liver_occupancy_fraction', 'pvtt', 'vp_grade', 'ehs', 'nodes', 'treatment', 'os_months', 'os_event', 'proliferative']) {
    assert.ok(names.includes(n as never), n);
  }
});

test('CSV cells parse to typed values; NA and empty are missing; unknown columns are ignored', () => {
  const v = validateClinical({ id: 'p1', age_years: '61', sex: 'M', afp_ng_ml: 'NA', ascites: 'mild', ecog: '1', bclc: 'B', inr: '' }, 'row 1');
  assert.deepEqual(v, { id: 'p1', age_years: 61, sex: 'M', afp_ng_ml: null, ascites: 'mild', ecog: 1, inr: null });
});

test('messages name where, the field, the value and the expected unit or levels', () => {
  assert.throws(() => validateClinical({ id: 'a', bilirubin_umol_l: '1.2e4' }, 'f.csv row 3'), /^HccError: f\.csv row 3: bilirubin_umol_l = 12000 is outside the valid range; expected a number above 0 and at most 1000 µmol\/L/);
  assert.throws(() => validateClinical({ id: 'a', age_years: 'sixty' }, 'r'), /age_years = 'sixty' is not a number; expected 0 to 120 years/);
  assert.throws(() => validateClinical({ id: 'a', sex: 'male' }, 'r'), /sex = 'male' is not one of 'M', 'F'/);
  assert.throws(() => validateClinical({ id: 'a', liver_occupancy_fraction: 35 }, 'r'), /liver_occupancy_fraction = 35 .*0 to 1 fraction 0-1/);
  assert.throws(() => validateClinical({ id: '' }, 'r'), /r: id is missing/);
  assert.throws(() => parseField('hbv', 2, 'r'), /hbv = 2 .*0 to 1 0\/1/);
});

test('cross-field rules: PVTT and Vp grade agree, nodes are extrahepatic spread', () => {
  assert.throws(() => validateClinical({ id: 'a', pvtt: 1, vp_grade: 0 }, 'r'), /pvtt = 1 but vp_grade = 0/);
  assert.throws(() => validateClinical({ id: 'a', pvtt: 0, vp_grade: 2 }, 'r'), /pvtt = 0 but vp_grade = 2/);
  assert.throws(() => validateClinical({ id: 'a', ehs: 0, nodes: 1 }, 'r'), /nodes = 1 but ehs = 0/);
  assert.deepEqual(validateClinical({ id: 'a', pvtt: 1, vp_grade: 'NA' }, 'r'), { id: 'a', pvtt: 1, vp_grade: null });
});

test('docs/clinical.md lists every column with the type, unit and range in the code', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'clinical.md'), 'utf8');
  for (const c of CLINICAL_COLUMNS) {
    const type = c.kind === 'category' ? c.levels.map((l) => '`' + l + '`').join(' / ') : c.kind === 'text' ? 'text' : c.kind;
    const unit = c.kind === 'number' || c.kind === 'integer' ? c.unit || '—' : '—';
    const range = c.kind === 'number' || c.kind === 'integer' ? `${c.minExclusive ? '> ' : ''}${c.min} to ${c.max}` : '—';
    assert.ok(doc.includes(`| \`${c.name}\` | ${type} | ${unit} | ${range} | ${c.description} |`), `docs/clinical.md row for ${c.name}`);
  }
});
