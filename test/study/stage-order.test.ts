import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRareStages, sortStages } from '../../src/study/analyses/stage-order.js';

test('stage labels of every system sort in clinical order', () => {
  assert.deepEqual(sortStages(['D', 'A', '0', 'C', 'B']), ['0', 'A', 'B', 'C', 'D']);
  assert.deepEqual(sortStages(['IV', 'IIIb', 'Ia', 'IIa', 'IIIa', 'Ib', 'IIb']), ['Ia', 'Ib', 'IIa', 'IIb', 'IIIa', 'IIIb', 'IV']);
  assert.deepEqual(sortStages(['IVB', 'IB', 'IIIA', 'IA', 'II']), ['IA', 'IB', 'II', 'IIIA', 'IVB']);
  assert.deepEqual(sortStages(['>12', '<=6', '>6-12']), ['<=6', '>6-12', '>12']);
  assert.deepEqual(sortStages(['10', '2', '1']), ['1', '2', '10']);
});

test('rare levels merge with their neighbour until every group is large enough', () => {
  const m = mergeRareStages(new Map([['0', 2], ['A', 40], ['B', 30], ['C', 50], ['D', 3]]), 10);
  assert.equal(m.get('0'), '0/A');
  assert.equal(m.get('A'), '0/A');
  assert.equal(m.get('D'), 'C/D');
  assert.equal(m.get('B'), 'B');
});
