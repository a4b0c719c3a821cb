import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageCsv } from '../../src/staging/index.js';
import { readCsv } from '../../src/util/csv.js';
import { fixture } from '../helpers.js';

/**
 * Row by row against the numpy reference generator's own staging expressions (make_stage_reference.py): 1000
 * generated iat patients and one row on each Child-Pugh boundary. The reference's BCLC has no 0 or D stage:
 * its A is our 0 or A, its C our C or D.
 */
test('Child-Pugh score, ALBI score and BCLC match the numpy reference on every row', () => {
  const ours = stageCsv(readCsv(fixture('phantom', 'stage_inputs.csv'))).rows;
  const ref = readCsv(fixture('phantom', 'stage_reference.csv'));
  assert.equal(ours.length, ref.rows.length);
  const collapse: Record<string, string> = { '0': 'A', A: 'A', B: 'B', C: 'C', D: 'C' };
  ref.rows.forEach(([id, cp, albiScore, bclc], i) => {
    const o = ours[i]!;
    assert.equal(o.id, id);
    assert.equal(o.child_pugh_score, Number(cp), `${id} Child-Pugh`);
    assert.ok(Math.abs((o.albi_score as number) - Number(albiScore)) < 1e-12, `${id} ALBI ${o.albi_score} vs ${albiScore}`);
    assert.equal(collapse[o.bclc as string], bclc, `${id} BCLC ${o.bclc}`);
  });
});
