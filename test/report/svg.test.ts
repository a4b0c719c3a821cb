import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearScale, logScale, formatTick } from '../../src/report/svg/scale.js';
import { xyChart } from '../../src/report/svg/xy-chart.js';
import { forestPlot, formatP } from '../../src/report/svg/forest.js';
import { renderReport, tableHtml } from '../../src/report/html.js';

test('linear scale maps the domain onto the range and gives nice ticks', () => {
  const s = linearScale([0, 1], [100, 300]);
  assert.equal(s(0.25), 150);
  assert.deepEqual(s.ticks(5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearScale([0, 36], [0, 1]).ticks(6), [0, 5, 10, 15, 20, 25, 30, 35]);
  assert.deepEqual(logScale([0.4, 6], [0, 1]).ticks(), [0.5, 1, 2, 5]);
  assert.equal(formatTick(0.30000000000000004), '0.3');
});

test('a KM chart draws one step path per series and the numbers at risk', () => {
  const svg = xyChart({
    xLabel: 'Months', yLabel: 'Overall survival', yDomain: [0, 1], xDomain: [0, 24],
    series: [
      { label: 'TACE', kind: 'step', points: [[0, 1], [6, 0.8], [12, 0.5]] },
      { label: 'HAIC <&>', kind: 'step', points: [[0, 1], [10, 0.9]] },
    ],
    atRisk: { at: [0, 12, 24], rows: [{ label: 'TACE', values: [50, 31, 9] }, { label: 'HAIC', values: [40, 37, 20] }] },
  });
  assert.equal(svg.match(/<path d="M/g)!.length, 2);
  // Step path: horizontal to t=6 then down to 0.8, never a diagonal segment.
  assert.match(svg, /H\d+(\.\d+)?V\d+/);
  assert.match(svg, />37</);
  assert.match(svg, /HAIC &lt;&amp;&gt;/);
});

test('forest plot annotates HR, CI and p as the paper prints them', () => {
  const svg = forestPlot([{ label: 'HAIC vs TACE', estimate: 0.52, lower: 0.38, upper: 0.71, p: 0.00002 }]);
  assert.match(svg, /0\.52 \(0\.38-0\.71\), P &lt; 0\.001/);
  assert.equal(formatP(0.0456), 'P = 0.046');
});

test('report HTML is self-contained and escapes table text', () => {
  const html = renderReport({ title: 'T', banner: 'Research use only', sections: [{ id: 's1', title: 'One', blocks: [{ kind: 'table', caption: 'c', table: { columns: ['a'], rows: [['<x>'], [0.123456], [null]] } }] }] });
  assert.doesNotMatch(html, /<script|https?:\/\//);
  assert.match(html, /&lt;x&gt;/);
  assert.match(tableHtml({ columns: ['v'], rows: [[0.123456]] }), /<td class="num">0\.123<\/td>/);
  assert.equal(html.match(/Research use only/g)!.length, 2);
});
