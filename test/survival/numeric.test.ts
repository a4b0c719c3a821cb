import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cholesky, cholInverse, fromRows, symInverse, symSolve, toRows } from '../../src/survival/linalg.js';
import { pAdjust, pchisq, pchisqUpper, pnorm, pnormUpper, pt, ptUpper, qnorm } from '../../src/survival/distributions.js';

function close(actual: number, expected: number, rel: number, what: string): void {
  const ok = actual === expected || Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-300);
  assert.ok(ok, `${what}: got ${actual}, R gives ${expected}`);
}

// Reference values printed by R 4.2.2 (pnorm, qnorm, pchisq, pt, p.adjust, solve).
test('normal cdf and quantile equal R to full precision, tails included', () => {
  const x = [-10, -5.3, -3, -1.96, -0.5, 0, 0.3, 0.67, 1, 2.5, 6, 9];
  const lo = [7.61985302416053e-24, 5.79013403996459e-8, 0.00134989803163009, 0.0249978951482204, 0.308537538725987, 0.5,
    0.617911422188953, 0.74857110490469, 0.841344746068543, 0.993790334674224, 0.999999999013412, 1];
  const up = [1, 0.99999994209866, 0.99865010196837, 0.97500210485178, 0.691462461274013, 0.5, 0.382088577811047,
    0.25142889509531, 0.158655253931457, 0.00620966532577613, 9.86587645037698e-10, 1.12858840595384e-19];
  x.forEach((xi, i) => {
    close(pnorm(xi), lo[i]!, 1e-13, `pnorm(${xi})`);
    close(pnormUpper(xi), up[i]!, 1e-13, `pnorm(${xi}, lower=FALSE)`);
  });
  const p = [1e-300, 1e-20, 1e-8, 0.001, 0.025, 0.2, 0.5, 0.6, 0.975, 0.999999, 0.999999999999];
  const q = [-37.0470962993612, -9.26234008979841, -5.61200124417479, -3.09023230616781, -1.95996398454005,
    -0.841621233572914, 0, 0.2533471031358, 1.95996398454005, 4.75342430881709, 7.03448691004784];
  p.forEach((pi, i) => close(qnorm(pi), q[i]!, 1e-13, `qnorm(${pi})`));
});

test('chi-square and t tails equal R, including p-values far below 1e-6', () => {
  const x = [0.001, 0.5, 3.84, 10, 45, 200, 800];
  const df = [1, 2, 3, 5, 10, 1, 7];
  const up = [0.97477287936996, 0.778800783071405, 0.27926761711861, 0.0752352461465122, 2.17472725766718e-6,
    2.08848758376254e-45, 1.85565411938161e-168];
  const lo = [0.0252271206300396, 0.221199216928595, 0.72073238288139, 0.924764753853488, 0.999997825272742, 1, 1];
  x.forEach((xi, i) => {
    close(pchisqUpper(xi, df[i]!), up[i]!, 1e-12, `pchisq(${xi}, ${df[i]}, lower=FALSE)`);
    close(pchisq(xi, df[i]!), lo[i]!, 1e-12, `pchisq(${xi}, ${df[i]})`);
  });
  const t = [-3, -1, 0.5, 2, 8, 40];
  const tdf = [1, 3, 5, 10, 30, 100];
  const pl = [0.102416382349567, 0.195501109477885, 0.680850564179535, 0.96330598261463, 0.999999996867089, 1];
  const pu = [0.897583617650433, 0.804498890522115, 0.319149435820465, 0.0366940173853702, 3.13291123785039e-9, 1.23105380107004e-63];
  t.forEach((ti, i) => {
    close(pt(ti, tdf[i]!), pl[i]!, 1e-12, `pt(${ti}, ${tdf[i]})`);
    close(ptUpper(ti, tdf[i]!), pu[i]!, 1e-11, `pt(${ti}, ${tdf[i]}, lower=FALSE)`);
  });
});

test('p.adjust holm, BH and bonferroni as R (NA kept)', () => {
  const p = [0.01, 0.04, 0.03, 0.2, NaN, 0.04];
  const same = (a: number[], b: number[]) => a.forEach((v, i) => (Number.isNaN(b[i]!) ? assert.ok(Number.isNaN(v)) : close(v, b[i]!, 1e-14, `p[${i}]`)));
  same(pAdjust(p, 'holm'), [0.05, 0.12, 0.12, 0.2, NaN, 0.12]);
  same(pAdjust(p, 'BH'), [0.05, 0.05, 0.05, 0.2, NaN, 0.05]);
  same(pAdjust(p, 'bonferroni'), [0.05, 0.2, 0.15, 1, NaN, 0.2]);
});

test('symmetric inverse and solve equal R solve()', () => {
  const a = fromRows([[4, 2, 0.6, 1], [2, 5, 1.2, 0.5], [0.6, 1.2, 3, 0.1], [1, 0.5, 0.1, 2]]);
  const inv = toRows(symInverse(a));
  const ref = [[0.34895077207338, -0.121288108750165, -0.0164972944437112, -0.143328494126963],
    [-0.121288108750165, 0.268707931899169, -0.0831463639963046, -0.00237561039989442],
    [-0.0164972944437112, -0.0831463639963046, 0.369539395539132, 0.0105582684439752],
    [-0.143328494126963, -0.00237561039989442, 0.0105582684439752, 0.571730236241256]];
  ref.forEach((row, i) => row.forEach((v, j) => close(inv[i]![j]!, v, 1e-13, `inv[${i},${j}]`)));
  const x = symSolve(a, [1, 2, 3, 4]);
  [-0.516431305265936, 0.157186221459681, 0.968061237956975, 2.1705160353702].forEach((v, i) => close(x[i]!, v, 1e-13, `x[${i}]`));
});

test('a collinear column gets a zero pivot and a zero row in the generalised inverse', () => {
  // Column 3 = column 1 + column 2 in the Gram matrix X'X of X = [[1,0,1],[0,1,1],[1,1,2],[2,1,3]].
  const X = [[1, 0, 1], [0, 1, 1], [1, 1, 2], [2, 1, 3]];
  const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => X.reduce((s, r) => s + r[i]! * r[j]!, 0)));
  const ch = cholesky(fromRows(g));
  assert.equal(ch.rank, 2);
  assert.deepEqual(ch.singular, [false, false, true]);
  const inv = toRows(cholInverse(ch));
  assert.deepEqual(inv[2], [0, 0, 0]);
  // The non-singular block is the inverse of the 2x2 block.
  const det = g[0]![0]! * g[1]![1]! - g[0]![1]! ** 2;
  close(inv[0]![0]!, g[1]![1]! / det, 1e-14, 'inv[0,0]');
  close(inv[0]![1]!, -g[0]![1]! / det, 1e-14, 'inv[0,1]');
});
