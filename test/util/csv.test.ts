import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCsv, numericColumn, parseCsv } from '../../src/util/csv.js';

test('quotes, BOM, CRLF and missing values read as R does', () => {
  const t = parseCsv('\ufeffid,name,x\r\n1,"a, ""b""",2.5\r\n2,NA,\r\n3,"NA",.\r\n', 'test.csv');
  assert.deepEqual(t.columns, ['id', 'name', 'x']);
  assert.deepEqual(t.rows, [['1', 'a, "b"', '2.5'], ['2', null, null], ['3', 'NA', null]]);
  assert.deepEqual(Array.from(numericColumn(t, 'x')), [2.5, NaN, NaN]);
});

test('errors name the file, the column and the row', () => {
  assert.throws(() => parseCsv('a,b\n1\n', 'f.csv'), /f\.csv: data row 1 has 1 fields, the header has 2/);
  const t = parseCsv('a\nzz\n', 'g.csv');
  assert.throws(() => numericColumn(t, 'a'), /g\.csv: column 'a', data row 1: 'zz' is not a number/);
  assert.throws(() => numericColumn(t, 'b'), /no column 'b'/);
});

test('format then parse is a round trip, doubles included', () => {
  const rows = [{ id: 'p1', v: 0.1 + 0.2, s: 'x,"y"' }, { id: 'p2', v: null, s: 'NA' }];
  const t = parseCsv(formatCsv(['id', 'v', 's'], rows));
  assert.equal(Number(t.rows[0]![1]), 0.1 + 0.2);
  assert.deepEqual(t.rows[1], ['p2', null, 'NA']);
  assert.equal(t.rows[0]![2], 'x,"y"');
});
