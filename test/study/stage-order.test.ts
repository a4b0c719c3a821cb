import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRareStages, sortStages } from '../../src/study/analyses/stage-order.js';
import { fitStageModel } from '../../src/study/analyses/stage-model.js';
import { CohortFrame } from '../../src/study/frame.js';

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

test('a staging system with every training case in one group is left out with its reason, not fitted', () => {
  const n = 30;
  const records = Array.from({ length: n }, (_, i) => ({ id: `P${i}`, bclc: 'B', cnlc: i < 3 ? 'IIa' : 'IIb', albi_grade: i % 2 ? '1' : '2' }));
  const train = CohortFrame.fromRecords(records, 'test');
  const time = Float64Array.from({ length: n }, (_, i) => 5 + i);
  const event = Float64Array.from({ length: n }, (_, i) => i % 3 ? 1 : 0);
  const single = fitStageModel(train, 'bclc', time, event);
  assert.ok('reason' in single);
  assert.match(single.reason, /every training case is in one bclc group \(B\)/);
  // Three IIa cases are merged into IIb (fewer than 5 per level): one group left, so it is skipped too.
  const merged = fitStageModel(train, 'cnlc', time, event);
  assert.ok('reason' in merged && /merged/.test(merged.reason), JSON.stringify(merged));
  const fitted = fitStageModel(train, 'albi_grade', time, event);
  assert.ok(!('reason' in fitted));
  assert.deepEqual(fitted.groups, ['1', '2']);
});
