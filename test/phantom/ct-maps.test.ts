import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { PHENOTYPE_THRESHOLD as TAU } from '../../src/phantom/patient.js';
import { gaussianBlur3d, normalCdf } from '../../src/phantom/ct/field.js';
import { poissonFromUniform, tumourPhenotype } from '../../src/phantom/ct/phenotype.js';
import { scannerFor } from '../../src/phantom/ct/scanner.js';
import { DEFAULT_SITE, scanGrid, siteProfile } from '../../src/phantom/ct/site.js';
import { thrombosedSegments, type Segment } from '../../src/phantom/ct/vessels.js';

const base = [0, 0, 0, 0, 0, 0, 0, 0];
const withX = (k: number, value: number) => base.map((x, i) => (i === k ? value : x));
const phenotype = (x: number[]) => tumourPhenotype(x, Rng.stream(5, 'phenotype'));
const grid = Array.from({ length: 61 }, (_, i) => -3 + i * 0.1);

test('§6.1 maps: thresholds switch features on exactly at τ_k and values follow the formulas', () => {
  assert.equal(phenotype(withX(0, TAU[0]!)).rimMm, null);
  assert.ok(Math.abs(phenotype(withX(0, TAU[0]! + 1)).rimMm! - 3.5) < 1e-12);
  assert.equal(phenotype(withX(0, 10)).rimMm, 6);
  assert.equal(phenotype(withX(1, TAU[1]!)).necrosisFraction, 0);
  assert.ok(Math.abs(phenotype(withX(1, TAU[1]! + 1)).necrosisFraction - 0.35) < 1e-12);
  assert.equal(phenotype(withX(1, 10)).necrosisFraction, 0.8);
  assert.equal(phenotype(withX(2, TAU[2]!)).marginAmplitude, 0);
  assert.ok(Math.abs(phenotype(withX(2, 1)).marginAmplitude - (0.02 + 0.06 * normalCdf(1))) < 1e-12);
  assert.ok(phenotype(withX(3, TAU[3]! - 0.01)).capsule !== null);
  assert.equal(phenotype(withX(3, TAU[3]! + 0.01)).capsule, null);
  assert.equal(phenotype(withX(4, TAU[4]!)).arteries, 0);
  assert.equal(phenotype(withX(5, TAU[5]!)).coronaMm, null);
  assert.ok(Math.abs(phenotype(withX(5, 1)).coronaMm! - (3 + 2 * normalCdf(1))) < 1e-12);
  assert.equal(phenotype(withX(6, TAU[6]!)).infiltrative, null);
  const inf = phenotype(withX(6, TAU[6]! + 2)).infiltrative!;
  assert.ok(inf.edgeSigmaMm > 3 && inf.edgeSigmaMm <= 5 && inf.satellites >= 1);
  assert.equal(phenotype(withX(6, TAU[6]! + 2)).capsule, null, 'infiltrative tumours have no capsule');
  assert.equal(phenotype(withX(7, TAU[7]!)).targetoid, false);
  const t = phenotype(withX(7, TAU[7]! + 0.1));
  assert.ok(t.targetoid && t.rimMm === 2, 'targetoid forces a rim');
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
});

test('every map is monotone in its x (same noise draws), and no x moves another parameter', () => {
  const seq = (k: number, f: (p: ReturnType<typeof phenotype>) => number) => grid.map((x) => f(phenotype(withX(k, x))));
  const nondecreasing = (a: number[]) => a.every((v, i) => i === 0 || v >= a[i - 1]! - 1e-12);
  assert.ok(nondecreasing(seq(0, (p) => p.rimMm ?? 0)));
  assert.ok(nondecreasing(seq(1, (p) => p.necrosisFraction)));
  assert.ok(nondecreasing(seq(2, (p) => p.marginAmplitude)));
  assert.ok(nondecreasing(seq(3, (p) => (p.capsule ? -p.capsule.coverage : 0))));
  assert.ok(nondecreasing(seq(4, (p) => p.arteries)));
  assert.ok(nondecreasing(seq(5, (p) => p.coronaMm ?? 0)));
  assert.ok(nondecreasing(seq(6, (p) => p.infiltrative?.edgeSigmaMm ?? 0)));
  assert.ok(nondecreasing(seq(6, (p) => p.infiltrative?.satellites ?? 0)));
  assert.ok(nondecreasing(seq(0, (p) => -p.washout)));
  assert.ok(nondecreasing(seq(7, (p) => -p.washout)));
  // Changing x5 (arteries) leaves the washout noise and capsule thickness untouched.
  const a = phenotype(withX(4, -2)), b = phenotype(withX(4, 2));
  assert.equal(a.washout, b.washout);
  assert.deepEqual(a.capsule, b.capsule);
});

test('washout depth has the §6.1 means: −0.06 − 0.03·x1 − 0.02·x8 with SD 0.02', () => {
  const n = 4000;
  let sum = 0, sq = 0;
  for (let i = 0; i < n; i++) {
    const w = tumourPhenotype([1, 0, 0, 0, 0, 0, 0, 1], Rng.stream(i, 'w')).washout;
    sum += w;
    sq += w * w;
  }
  const mean = sum / n;
  assert.ok(Math.abs(mean - -0.11) < 0.002, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(sq / n - mean * mean) - 0.02) < 0.002);
});

test('Poisson by inversion matches the distribution and is monotone in λ', () => {
  const rng = Rng.stream(1);
  let sum = 0;
  for (let i = 0; i < 20000; i++) sum += poissonFromUniform(2.5, rng.uniform());
  assert.ok(Math.abs(sum / 20000 - 2.5) < 0.05);
  assert.ok(poissonFromUniform(1, 0.7) <= poissonFromUniform(3, 0.7));
});

test('grids: clinical 512² at 0.6-0.9 mm with the site slice thicknesses, small 1.5×1.5×2.5 mm over 384 mm', () => {
  const rng = Rng.stream(2);
  for (const half of [120, 170, 230]) {
    const g = scanGrid('clinical', DEFAULT_SITE, half, 0, 200, rng);
    assert.deepEqual(g.shape.slice(0, 2), [512, 512]);
    assert.ok(g.spacing[0] >= 0.6 && g.spacing[0] <= 0.9 && g.spacing[0] === g.spacing[1]);
    assert.ok(DEFAULT_SITE.sliceThicknessMm.includes(g.spacing[2]));
    assert.ok(g.shape[2] * g.spacing[2] >= 200);
    // The field of view covers the body when it can.
    if (half < 200) assert.ok(256 * g.spacing[0] > half);
  }
  const s = scanGrid('small', DEFAULT_SITE, 160, 10, 200, rng);
  assert.deepEqual([s.shape, s.spacing], [[256, 256, 88], [1.5, 1.5, 2.5]]);
  // Voxel centres are symmetric about the body axis and centred on the requested z.
  assert.equal(s.origin[0] + (s.shape[0] - 1) * s.spacing[0], -s.origin[0]);
  assert.ok(Math.abs(s.origin[2] + ((s.shape[2] - 1) * s.spacing[2]) / 2 - 10) < 1e-9);
  assert.deepEqual(s.affine, [1.5, 0, 0, s.origin[0], 0, 1.5, 0, s.origin[1], 0, 0, 2.5, s.origin[2], 0, 0, 0, 1]);
  assert.throws(() => scanGrid('huge' as 'tiny', DEFAULT_SITE, 160, 0, 200, rng), /--grid: expected clinical, small or tiny, got 'huge'/);
});

test('sites: a name gives a reproducible profile that differs from the default; bad names are refused', () => {
  assert.equal(siteProfile(null), DEFAULT_SITE);
  const a = siteProfile('hospital-B');
  assert.deepEqual(a, siteProfile('hospital-B'));
  assert.notDeepEqual(a, siteProfile('hospital-C'));
  assert.ok(a.noiseSdHu[0] >= 7 && a.noiseSdHu[1] <= 18 && a.arterialDelayS >= 28 && a.arterialDelayS <= 45);
  assert.throws(() => siteProfile('a b/c'), /--site: expected a name/);
});

test('separable blur preserves the mean and matches the Gaussian variance', () => {
  const shape: [number, number, number] = [33, 33, 33];
  const img = new Float32Array(33 ** 3);
  img[16 + 33 * (16 + 33 * 16)] = 1;
  gaussianBlur3d(img, shape, [1.5, 1, 2]);
  let sum = 0, vx = 0, vz = 0;
  for (let k = 0; k < 33; k++) for (let j = 0; j < 33; j++) for (let i = 0; i < 33; i++) {
    const w = img[i + 33 * (j + 33 * k)]!;
    sum += w;
    vx += w * (i - 16) ** 2;
    vz += w * (k - 16) ** 2;
  }
  assert.ok(Math.abs(sum - 1) < 1e-5);
  // The kernel is cut at 3σ, which trims the variance by about 3%.
  assert.ok(Math.abs(vx - 2.25) < 0.07 && Math.abs(vz - 4) < 0.13, `${vx} ${vz}`);
});

test('tumour thrombus fills a second-order branch for Vp1-2, a lobar branch for Vp3 and the trunk too for Vp4', () => {
  // trunk 0 → lobar 1 (near the tumour), 2 (far) → second order 3, 4 under 1; 5 under 2.
  const seg = (order: number, parent: number, x: number): Segment => ({ a: [x, 0, 0], b: [x + 1, 0, 0], r: 3, order, parent });
  const tree = { cls: 10, segments: [seg(0, -1, 0), seg(1, 0, 50), seg(1, 0, -50), seg(2, 1, 60), seg(2, 1, 40), seg(2, 2, -60)] };
  assert.deepEqual([...thrombosedSegments(tree, 0, [60, 0, 0])], []);
  assert.deepEqual([...thrombosedSegments(tree, 2, [60, 0, 0])].sort(), [3]);
  assert.deepEqual([...thrombosedSegments(tree, 3, [60, 0, 0])].sort(), [1, 3, 4]);
  assert.deepEqual([...thrombosedSegments(tree, 4, [-60, 0, 0])].sort(), [0, 2, 5]);
});

test('scanner: noise has the drawn SD and is correlated by the kernel; edges get partial volume', () => {
  const grid = scanGrid('small', DEFAULT_SITE, 160, 0, 200, Rng.stream(3));
  const small = { ...grid, shape: [64, 64, 24] as [number, number, number] };
  const n = 64 * 64 * 24;
  const scanner = scannerFor(small, DEFAULT_SITE, Rng.stream(4));
  assert.ok(scanner.noiseSdHu >= 8 && scanner.noiseSdHu <= 16);
  const flat = scanner.acquire(new Float32Array(n).fill(100), Rng.stream(5));
  let sum = 0, sq = 0, lag = 0, m = 0;
  for (let v = 0; v < n; v++) {
    sum += flat[v]!;
    sq += flat[v]! ** 2;
  }
  const mean = sum / n;
  const sd = Math.sqrt(sq / n - mean * mean);
  for (let v = 0; v < n - 1; v++) if ((v + 1) % 64 !== 0) {
    lag += (flat[v]! - mean) * (flat[v + 1]! - mean);
    m++;
  }
  assert.ok(Math.abs(mean - 100) < 0.3, `mean ${mean}`);
  // Rounding to integers adds 1/12 HU² of variance.
  assert.ok(Math.abs(sd - Math.sqrt(scanner.noiseSdHu ** 2 + 1 / 12)) < 0.03 * scanner.noiseSdHu, `sd ${sd} vs ${scanner.noiseSdHu}`);
  const rho = lag / m / (sd * sd);
  assert.ok(rho > 0.05 && rho < 0.8, `lag-1 correlation ${rho}`);
  // A step from 0 to 1000 HU along x: the voxels beside the edge take intermediate values (noise is ≪ 1000).
  const step = new Float32Array(n);
  for (let v = 0; v < n; v++) step[v] = v % 64 >= 32 ? 1000 : 0;
  const img = scanner.acquire(step, Rng.stream(6));
  const row = Array.from({ length: 64 }, (_, i) => img[i + 64 * (32 + 64 * 12)]!);
  assert.ok(row[31]! > 50 && row[31]! < 500 && row[32]! > 500 && row[32]! < 950, `edge ${row.slice(29, 35).join(' ')}`);
  assert.ok(Math.abs(row[10]!) < 60 && Math.abs(row[50]! - 1000) < 60);
  assert.equal(Math.min(...scanner.acquire(new Float32Array(n).fill(-3000), Rng.stream(7))), -1024);
});
