import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bilirubinMgDlToUmolL, albuminGDlToGL, bilirubinUmolLToMgDl } from '../../src/clinical/units.js';
import {
  albi,
  albiGrade,
  bclc2022,
  childPugh,
  clip,
  cnlc,
  hap,
  jis,
  mhap2,
  okuda,
  sixTwelve,
  stageCsv,
  stageTable,
  tnm8,
} from '../../src/staging/index.js';
import { parseCsv } from '../../src/util/csv.js';

/** A compensated patient with one small tumour; each test changes what its rule looks at. */
const base = {
  id: 'p',
  bilirubin_umol_l: 12,
  albumin_g_l: 42,
  inr: 1.05,
  ascites: 'none',
  encephalopathy: 'none',
  ecog: 0,
  tumour_count: 1,
  tumour_diameter_cm: 1.5,
  liver_occupancy_fraction: 0.01,
  afp_ng_ml: 20,
  pvtt: 0,
  vp_grade: 0,
  ehs: 0,
  nodes: 0,
} as const;
const p = (changes: Record<string, unknown>) => ({ ...base, ...changes });

test('unit conversions land boundaries exactly in either unit', () => {
  assert.equal(bilirubinMgDlToUmolL(3), 51.3);
  assert.equal(bilirubinUmolLToMgDl(34.2), 2);
  assert.equal(albuminGDlToGL(2.8), 28);
});

test('Child-Pugh: each item at both sides of its boundaries (§5: 2-3 mg/dL, 2.8-3.5 g/dL, 1.7-2.3 INR score 2)', () => {
  const pts = (c: Record<string, unknown>) => childPugh(p(c)).points;
  assert.equal(pts({ bilirubin_umol_l: 34.1 }).bilirubin, 1);
  assert.equal(pts({ bilirubin_umol_l: 34.2 }).bilirubin, 2); // 2.0 mg/dL
  assert.equal(pts({ bilirubin_umol_l: bilirubinMgDlToUmolL(3) }).bilirubin, 2);
  assert.equal(pts({ bilirubin_umol_l: 51.4 }).bilirubin, 3);
  assert.equal(pts({ albumin_g_l: 35.1 }).albumin, 1);
  assert.equal(pts({ albumin_g_l: 35 }).albumin, 2); // 3.5 g/dL
  assert.equal(pts({ albumin_g_l: 28 }).albumin, 2); // 2.8 g/dL
  assert.equal(pts({ albumin_g_l: 27.9 }).albumin, 3);
  assert.equal(pts({ inr: 1.69 }).inr, 1);
  assert.equal(pts({ inr: 1.7 }).inr, 2);
  assert.equal(pts({ inr: 2.3 }).inr, 2);
  assert.equal(pts({ inr: 2.31 }).inr, 3);
  assert.equal(pts({ ascites: 'mild' }).ascites, 2);
  assert.equal(pts({ ascites: 'moderate_severe' }).ascites, 3);
  assert.equal(pts({ encephalopathy: 'grade1_2' }).encephalopathy, 2);
  assert.equal(pts({ encephalopathy: 'grade3_4' }).encephalopathy, 3);
  assert.deepEqual([childPugh(base).score, childPugh(base).class], [5, 'A']);
  assert.equal(childPugh(p({ ascites: 'mild' })).class, 'A'); // 6
  assert.equal(childPugh(p({ ascites: 'mild', inr: 1.8 })).class, 'B'); // 7
  assert.equal(childPugh(p({ ascites: 'moderate_severe', inr: 1.8, albumin_g_l: 30 })).class, 'B'); // 9
  assert.equal(childPugh(p({ ascites: 'moderate_severe', inr: 1.8, albumin_g_l: 30, bilirubin_umol_l: 40 })).class, 'C'); // 10
  const worst = childPugh(p({ ascites: 'moderate_severe', inr: 3, albumin_g_l: 20, bilirubin_umol_l: 80, encephalopathy: 'grade3_4' }));
  assert.deepEqual([worst.score, worst.class], [15, 'C']);
});

test('impossible or missing values are errors naming the system, field, value and unit', () => {
  assert.throws(() => childPugh(p({ albumin_g_l: 350 })), /Child-Pugh: albumin_g_l = 350 is outside the valid range; expected 5 to 70 g\/L/);
  assert.throws(() => albi(p({ bilirubin_umol_l: 0 })), /ALBI: bilirubin_umol_l = 0 .*above 0 and at most 1000 µmol\/L/);
  assert.throws(() => bclc2022(p({ ecog: 7 })), /ecog = 7 .*0 to 4 ECOG PS/);
  assert.throws(() => cnlc(p({ tumour_count: 1.5 })), /tumour_count = 1.5 is not a whole number/);
  assert.throws(() => childPugh(p({ ascites: 'yes' })), /ascites = 'yes' is not one of 'none', 'mild', 'moderate_severe'/);
  assert.throws(() => childPugh(p({ inr: null })), /Child-Pugh needs inr, which is missing/);
  assert.throws(() => hap(p({ afp_ng_ml: 'high' })), /afp_ng_ml = 'high' is not a number; expected 0 to 100000000 ng\/mL/);
});

test('ALBI: Johnson formula and grade boundaries (exactly −2.60 is grade 1, exactly −1.39 grade 2)', () => {
  const r = albi(p({ bilirubin_umol_l: 17.1, albumin_g_l: 40 }));
  assert.ok(Math.abs(r.score - (0.66 * Math.log10(17.1) - 3.4)) < 1e-15);
  assert.equal(r.grade, 2); // −2.586
  assert.equal(albiGrade(-2.6), 1);
  assert.equal(albiGrade(-2.6 + 1e-12), 1); // floating noise is not a grade change
  assert.equal(albiGrade(-2.5999), 2);
  assert.equal(albiGrade(-1.39), 2);
  assert.equal(albiGrade(-1.3899), 3);
  // Albumin that puts the score a hair either side of −2.60 at bilirubin 10 µmol/L (0.66 − 0.085·alb).
  assert.equal(albi(p({ bilirubin_umol_l: 10, albumin_g_l: 38.36 })).grade, 1);
  assert.equal(albi(p({ bilirubin_umol_l: 10, albumin_g_l: 38.34 })).grade, 2);
});

test('BCLC 2022: order D, C, 0, A, B and the size/number boundaries', () => {
  assert.equal(bclc2022(p({ tumour_diameter_cm: 2 })), '0');
  assert.equal(bclc2022(p({ tumour_diameter_cm: 2.1 })), 'A');
  assert.equal(bclc2022(p({ tumour_diameter_cm: 12 })), 'A'); // single of any size
  assert.equal(bclc2022(p({ tumour_count: 2, tumour_diameter_cm: 2 })), 'A'); // multinodular is never 0
  assert.equal(bclc2022(p({ tumour_count: 3, tumour_diameter_cm: 3 })), 'A');
  assert.equal(bclc2022(p({ tumour_count: 3, tumour_diameter_cm: 3.1 })), 'B');
  assert.equal(bclc2022(p({ tumour_count: 4, tumour_diameter_cm: 1 })), 'B');
  assert.equal(bclc2022(p({ pvtt: 1, vp_grade: 1 })), 'C');
  assert.equal(bclc2022(p({ ehs: 1, nodes: 1 })), 'C');
  assert.equal(bclc2022(p({ ecog: 2 })), 'C');
  assert.equal(bclc2022(p({ ecog: 3 })), 'D');
  const childC = { ascites: 'moderate_severe', inr: 1.8, albumin_g_l: 30, bilirubin_umol_l: 40 };
  assert.equal(bclc2022(p({ ...childC, pvtt: 1, vp_grade: 4 })), 'D'); // D is checked before C
  assert.equal(bclc2022(p({ ascites: 'mild', inr: 1.8 })), '0'); // Child-Pugh B is not end-stage
});

test('CNLC 2022: two tumours with the largest exactly 3 cm is Ib (§6.9), and every other branch', () => {
  assert.equal(cnlc(p({ tumour_count: 2, tumour_diameter_cm: 3 })), 'Ib');
  assert.equal(cnlc(p({ tumour_count: 3, tumour_diameter_cm: 3.1 })), 'IIa');
  assert.equal(cnlc(p({ tumour_diameter_cm: 5 })), 'Ia');
  assert.equal(cnlc(p({ tumour_diameter_cm: 5.1 })), 'Ib');
  assert.equal(cnlc(p({ tumour_count: 4, tumour_diameter_cm: 1 })), 'IIb');
  assert.equal(cnlc(p({ pvtt: 1, vp_grade: 2 })), 'IIIa');
  assert.equal(cnlc(p({ pvtt: 1, vp_grade: 2, ehs: 1 })), 'IIIb');
  assert.equal(cnlc(p({ ecog: 2 })), 'Ia');
  assert.equal(cnlc(p({ ecog: 3 })), 'IV');
  assert.equal(cnlc(p({ ascites: 'moderate_severe', inr: 1.8, albumin_g_l: 30, bilirubin_umol_l: 40 })), 'IV');
});

test('TNM 8: solitary 2.0 cm is T1a (§6.9); vascular invasion by Vp grade; N1 and M1', () => {
  assert.deepEqual(tnm8(p({ tumour_diameter_cm: 2 })), { t: 'T1a', n: 'N0', m: 'M0', stage: 'IA' });
  assert.equal(tnm8(p({ tumour_diameter_cm: 1.5, pvtt: 1, vp_grade: 1 })).t, 'T1a');
  assert.equal(tnm8(p({ tumour_diameter_cm: 2.1 })).stage, 'IB');
  assert.equal(tnm8(p({ tumour_diameter_cm: 2.1, pvtt: 1, vp_grade: 2 })).stage, 'II');
  assert.equal(tnm8(p({ tumour_count: 2, tumour_diameter_cm: 5 })).t, 'T2');
  assert.equal(tnm8(p({ tumour_count: 2, tumour_diameter_cm: 5.1 })).stage, 'IIIA');
  assert.equal(tnm8(p({ pvtt: 1, vp_grade: 3 })).stage, 'IIIB');
  assert.equal(tnm8(p({ pvtt: 1, vp_grade: null })).t, 'T4'); // unknown Vp grade: macrovascular (§6.7)
  assert.equal(tnm8(p({ ehs: 1, nodes: 1 })).stage, 'IVA');
  assert.deepEqual(tnm8(p({ ehs: 1, nodes: 0, pvtt: 1, vp_grade: 4 })), { t: 'T4', n: 'N0', m: 'M1', stage: 'IVB' });
});

test('Okuda: each criterion at its boundary (> 50%, ascites, albumin < 3 g/dL, bilirubin > 3 mg/dL)', () => {
  assert.deepEqual(okuda(p({ liver_occupancy_fraction: 0.5, albumin_g_l: 30, bilirubin_umol_l: 51.3 })), { points: 0, stage: 'I' });
  assert.equal(okuda(p({ liver_occupancy_fraction: 0.51 })).points, 1);
  assert.equal(okuda(p({ albumin_g_l: 29.9 })).points, 1);
  assert.equal(okuda(p({ bilirubin_umol_l: 51.4 })).points, 1);
  assert.deepEqual(okuda(p({ ascites: 'mild', albumin_g_l: 29.9 })), { points: 2, stage: 'II' });
  assert.deepEqual(okuda(p({ ascites: 'mild', albumin_g_l: 29.9, bilirubin_umol_l: 60 })), { points: 3, stage: 'III' });
});

test('CLIP: morphology, AFP ≥ 400 and portal thrombosis, 0 to 6', () => {
  assert.equal(clip(p({ liver_occupancy_fraction: 0.5, afp_ng_ml: 399.9 })), 0);
  assert.equal(clip(p({ afp_ng_ml: 400 })), 1);
  assert.equal(clip(p({ tumour_count: 2 })), 1);
  assert.equal(clip(p({ liver_occupancy_fraction: 0.6 })), 2);
  assert.equal(clip(p({ ascites: 'mild', inr: 1.8 })), 1); // Child-Pugh B
  const worst = { ascites: 'moderate_severe', inr: 1.8, albumin_g_l: 30, bilirubin_umol_l: 40, liver_occupancy_fraction: 0.7, afp_ng_ml: 5000, pvtt: 1, vp_grade: 4 };
  assert.equal(clip(p(worst)), 6);
});

test('JIS: LCSGJ T factors (single, ≤ 2 cm, no vascular invasion) and Child-Pugh points', () => {
  assert.deepEqual(jis(p({ tumour_diameter_cm: 2 })), { score: 0, lcsgj: 'I' });
  assert.deepEqual(jis(p({ tumour_diameter_cm: 2.1 })), { score: 1, lcsgj: 'II' });
  assert.deepEqual(jis(p({ tumour_count: 2, tumour_diameter_cm: 2.1 })), { score: 2, lcsgj: 'III' });
  assert.deepEqual(jis(p({ tumour_count: 2, tumour_diameter_cm: 2.1, pvtt: 1, vp_grade: 1 })), { score: 3, lcsgj: 'IVA' });
  assert.deepEqual(jis(p({ ehs: 1, nodes: 1 })), { score: 3, lcsgj: 'IVA' });
  const childC = { ascites: 'moderate_severe', inr: 1.8, albumin_g_l: 30, bilirubin_umol_l: 40 };
  assert.deepEqual(jis(p({ ...childC, ehs: 1 })), { score: 5, lcsgj: 'IVB' });
});

test('HAP and mHAP-II: strict inequalities at 36 g/L, 400 ng/mL, 17 µmol/L, 7 cm; classes A-D', () => {
  const edge = { albumin_g_l: 36, afp_ng_ml: 400, bilirubin_umol_l: 17, tumour_diameter_cm: 7 };
  assert.deepEqual(hap(p(edge)), { points: 0, class: 'A' });
  assert.deepEqual(hap(p({ ...edge, albumin_g_l: 35.9 })), { points: 1, class: 'B' });
  assert.deepEqual(hap(p({ ...edge, afp_ng_ml: 400.1, bilirubin_umol_l: 17.1 })), { points: 2, class: 'C' });
  assert.deepEqual(hap(p({ albumin_g_l: 35.9, afp_ng_ml: 400.1, bilirubin_umol_l: 17.1, tumour_diameter_cm: 7.1 })), { points: 4, class: 'D' });
  assert.deepEqual(mhap2(p({ ...edge, tumour_count: 2 })), { points: 1, class: 'B' });
  assert.deepEqual(mhap2(p({ ...edge, tumour_count: 1 })), { points: 0, class: 'A' });
});

test('six-and-twelve: exactly 6 is the lowest class and exactly 12 the middle one (§6.9)', () => {
  assert.deepEqual(sixTwelve(p({ tumour_diameter_cm: 5, tumour_count: 1 })), { score: 6, class: '<=6' });
  assert.equal(sixTwelve(p({ tumour_diameter_cm: 4.1, tumour_count: 2 })).class, '>6-12');
  assert.equal(sixTwelve(p({ tumour_diameter_cm: 10, tumour_count: 2 })).class, '>6-12');
  assert.equal(sixTwelve(p({ tumour_diameter_cm: 9.9, tumour_count: 2.0 })).class, '>6-12');
  assert.equal(sixTwelve(p({ tumour_diameter_cm: 10.1, tumour_count: 2 })).class, '>12');
});

test('stageTable stages CSV rows, leaves systems with missing inputs NA and names the row of a bad value', () => {
  const csv = [
    'id,bilirubin_umol_l,albumin_g_l,inr,ascites,encephalopathy,ecog,tumour_count,tumour_diameter_cm,liver_occupancy_fraction,afp_ng_ml,pvtt,vp_grade,ehs,nodes',
    'a,12,42,1.05,none,none,0,1,2,0.01,20,0,0,0,0',
    'b,12,42,NA,none,none,0,2,3,0.02,800,1,3,1,1',
  ].join('\n');
  const t = stageCsv(parseCsv(csv, 'x.csv'));
  assert.deepEqual(t.rows[0], {
    id: 'a',
    child_pugh_score: 5,
    child_pugh_class: 'A',
    albi_score: 0.66 * Math.log10(12) - 0.085 * 42,
    albi_grade: 1,
    bclc: '0',
    cnlc: 'Ia',
    tnm8: 'IA',
    okuda: 'I',
    clip: 0,
    jis: 0,
    hap: 'A',
    mhap2: 'A',
    six_twelve: '<=6',
  });
  const b = t.rows[1]!;
  assert.deepEqual([b.child_pugh_class, b.bclc, b.cnlc, b.clip, b.jis], [null, null, null, null, null]);
  assert.deepEqual([b.albi_grade, b.tnm8, b.okuda, b.hap, b.mhap2, b.six_twelve], [1, 'IVA', 'I', 'B', 'C', '<=6']);
  assert.throws(() => stageTable([{ id: 'z', albumin_g_l: '4.2' }], 'y.csv'), /y\.csv row 1: albumin_g_l = 4\.2 is outside the valid range; expected 5 to 70 g\/L/);
  assert.throws(() => stageTable([{ id: 'z', pvtt: 0, vp_grade: 3 }], 'y.csv'), /y\.csv row 1: pvtt = 0 but vp_grade = 3/);
});
