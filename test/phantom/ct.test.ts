import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Volume } from '../../src/imaging/volume.js';
import { examplePatient, type ExampleOverrides } from '../../src/phantom/ct/example.js';
import { renderPatient } from '../../src/phantom/ct/render.js';
import type { RenderedCase } from '../../src/phantom/patient.js';

// Everything here renders on the tiny grid (64×64×24 at 6×6×8 mm), a few hundred ms per case.
const cache = new Map<string, RenderedCase>();
function render(o: ExampleOverrides): RenderedCase {
  const key = JSON.stringify(o);
  if (!cache.has(key)) cache.set(key, renderPatient(examplePatient(o), { grid: 'tiny', site: null }));
  return cache.get(key)!;
}

/** Voxels of `label` whose six neighbours all carry the same label: away from partial-volume edges. */
function interior(label: Volume, value: number): number[] {
  const [nx, ny, nz] = label.shape;
  const L = label.data;
  const out: number[] = [];
  for (let k = 1; k < nz - 1; k++) for (let j = 1; j < ny - 1; j++) for (let i = 1; i < nx - 1; i++) {
    const v = i + nx * (j + ny * k);
    if (L[v] !== value) continue;
    if (L[v - 1] === value && L[v + 1] === value && L[v - nx] === value && L[v + nx] === value && L[v - nx * ny] === value && L[v + nx * ny] === value) out.push(v);
  }
  return out;
}

function median(vol: Volume, voxels: number[]): number {
  const a = voxels.map((v) => Number(vol.data[v])).sort((p, q) => p - q);
  return a[a.length >> 1]!;
}

const typical = { seed: 3, x: [0, -1, -1, -1, 0, 0, -1, -1] };

test('volumes share one RAS+ grid and the label map holds only 0, 1, 2', () => {
  const c = render(typical);
  for (const v of [c.art, c.pv, c.label]) {
    assert.deepEqual(v.shape, [64, 64, 24]);
    assert.deepEqual(v.spacing, [6, 6, 8]);
    assert.deepEqual(v.affine, c.art.affine);
  }
  assert.ok(c.art.data instanceof Int16Array && c.label.data instanceof Uint8Array);
  assert.equal(c.art.meta.phase, 'arterial');
  assert.equal(c.pv.meta.phase, 'portal_venous');
  const counts = [0, 0, 0, 0];
  for (const l of c.label.data) counts[Math.min(3, l)]!++;
  assert.equal(counts[3], 0);
  // A 6 cm tumour is about 113 cm³ (≈ 390 voxels of 0.288 cm³), less where it flattens under the liver capsule
  // (a voxel plus 2 mm: 8.6 mm on this grid); the liver about 1-2 L.
  assert.ok(counts[2]! > 150 && counts[2]! < 600, `tumour voxels ${counts[2]}`);
  assert.ok(counts[1]! * 0.288 > 900 && counts[1]! * 0.288 < 3000, `liver ${counts[1]! * 0.288} cm³`);
});

test('liver HU lie in the §3 ranges in both phases and enhance from arterial to portal-venous', () => {
  for (const seed of [3, 4, 5]) {
    const c = render({ ...typical, seed });
    const liver = interior(c.label, 1);
    const art = median(c.art, liver);
    const pv = median(c.pv, liver);
    // §3: normal 85 ± 8 / 120 ± 10, cirrhotic 80 / 105, ±2.5 SD; interior voxels still hold small vessels.
    assert.ok(art > 55 && art < 115, `seed ${seed}: liver arterial ${art}`);
    assert.ok(pv > 75 && pv < 150, `seed ${seed}: liver portal-venous ${pv}`);
    assert.ok(pv - art > 10, `seed ${seed}: portal-venous enhancement ${pv - art}`);
  }
});

test('a typical HCC hyperenhances in the arterial phase and washes out in the portal-venous phase', () => {
  for (const seed of [3, 4, 5]) {
    const c = render({ ...typical, seed });
    const liver = interior(c.label, 1);
    const tumour = interior(c.label, 2);
    assert.ok(tumour.length > 20);
    assert.ok(median(c.art, tumour) > median(c.art, liver) + 10, `seed ${seed}: APHE`);
    assert.ok(median(c.pv, tumour) < median(c.pv, liver), `seed ${seed}: washout`);
  }
});

test('the aorta is much brighter in the arterial phase than in the portal-venous phase', () => {
  const c = render(typical);
  // The voxel with the largest arterial-minus-portal difference is in the aorta (bone does not change).
  let best = 0, bestDiff = -Infinity;
  for (let v = 0; v < c.art.data.length; v++) {
    const d = c.art.data[v]! - c.pv.data[v]!;
    if (d > bestDiff) [best, bestDiff] = [v, d];
  }
  assert.equal(c.label.data[best], 0);
  assert.ok(c.art.data[best]! > 200 && c.art.data[best]! < 420, `aorta arterial ${c.art.data[best]}`);
  assert.ok(c.pv.data[best]! > 100 && c.pv.data[best]! < 230, `aorta portal-venous ${c.pv.data[best]}`);
  assert.ok(bestDiff > 80);
});

test('every tumour lies inside the liver: its voxels border liver or tumour, not background', () => {
  for (const o of [typical, { seed: 7, tumourDiametersCm: [12, 4, 3, 2] }, { seed: 8, tumourDiametersCm: [18] }]) {
    const c = render(o);
    const [nx, ny] = c.label.shape;
    const L = c.label.data;
    let border = 0, outside = 0;
    for (let v = 0; v < L.length; v++) {
      if (L[v] !== 2) continue;
      for (const d of [1, -1, nx, -nx, nx * ny, -nx * ny]) {
        const w = v + d;
        if (w < 0 || w >= L.length || L[w] === 2) continue;
        border++;
        if (L[w] === 0) outside++;
      }
    }
    assert.ok(border > 0);
    // Bare contacts (IVC, a bulging tumour against the abdominal wall) are allowed but rare.
    assert.ok(outside / border < 0.1, `seed ${o.seed}: ${outside}/${border} tumour faces touch background`);
  }
});

test('reruns are bit-identical and a different seed gives a different patient', () => {
  const a = renderPatient(examplePatient(typical), { grid: 'tiny', site: null });
  renderPatient(examplePatient({ seed: 99 }), { grid: 'tiny', site: null });
  const b = renderPatient(examplePatient(typical), { grid: 'tiny', site: null });
  assert.deepEqual(Buffer.from(a.art.data.buffer), Buffer.from(b.art.data.buffer));
  assert.deepEqual(Buffer.from(a.pv.data.buffer), Buffer.from(b.pv.data.buffer));
  assert.deepEqual(Buffer.from(a.label.data.buffer), Buffer.from(b.label.data.buffer));
  const c = render({ ...typical, seed: 4 });
  assert.notDeepEqual(Buffer.from(a.art.data.buffer), Buffer.from(c.art.data.buffer));
});

test('more necrosis (x2) lowers the tumour HU and leaves the rest of the patient unchanged', () => {
  const low = render({ ...typical, x: [0, -1, 0, 0, 0, 0, 0, 0] });
  const high = render({ ...typical, x: [0, 2.5, 0, 0, 0, 0, 0, 0] });
  assert.deepEqual(low.label.data, high.label.data);
  const tumour = interior(low.label, 2);
  for (const phase of ['art', 'pv'] as const) {
    assert.ok(median(high[phase], tumour) < median(low[phase], tumour) - 20, `${phase}: ${median(low[phase], tumour)} -> ${median(high[phase], tumour)}`);
  }
  const liver = interior(low.label, 1);
  assert.equal(median(high.art, liver), median(low.art, liver));
});

test('deeper washout (x1, x8) lowers the portal-venous tumour-to-liver contrast', () => {
  const contrast = (x1: number) => {
    const c = render({ ...typical, x: [x1, -1, -1, -1, -1, -1, -1, -1] });
    const tumour = interior(c.label, 2);
    return median(c.pv, tumour) - median(c.pv, interior(c.label, 1));
  };
  // x1 = 1.0 stays below τ1 (no rim), so only the washout term −0.03·x1 changes: −0.06·A_PV ≈ −10 HU.
  assert.ok(contrast(1.0) < contrast(-1.0) - 4);
});

test('PVTT: a tumour thrombus darkens the opacified portal vein in both phases and changes nothing else', () => {
  const free = render({ ...typical, seed: 6 });
  for (const vpGrade of [3, 4]) {
    const pvtt = render({ ...typical, seed: 6, pvtt: true, vpGrade });
    assert.deepEqual(pvtt.label.data, free.label.data);
    for (const phase of ['art', 'pv'] as const) {
      let changed = 0, sum = 0;
      for (let v = 0; v < free.pv.data.length; v++) {
        const d = pvtt[phase].data[v]! - free[phase].data[v]!;
        if (Math.abs(d) > 20) {
          changed++;
          sum += d;
        }
      }
      // Portal vein 145 / 175 HU against enhancing thrombus 90 / 80 HU (§3), blurred over 6 mm voxels.
      assert.ok(changed >= 3, `Vp${vpGrade} ${phase}: ${changed} voxels changed`);
      assert.ok(sum / changed < -20, `Vp${vpGrade} ${phase}: mean change ${sum / changed}`);
    }
  }
});

test('a malformed record fails with its id and the field, not deep inside the renderer', () => {
  const bad = examplePatient({ seed: 1 });
  bad.truth.x = [0, 0, 0];
  assert.throws(() => renderPatient(bad, { grid: 'tiny', site: null }), /patient example-1-0: truth\.x must be 8 finite/);
  const big = examplePatient({ seed: 1, tumourDiametersCm: [6, Number.NaN] });
  assert.throws(() => renderPatient(big, { grid: 'tiny', site: null }), /tumourDiametersCm must be diameters in cm/);
  assert.throws(() => renderPatient(examplePatient(), { grid: 'tiny', site: 'bad name!' }), /--site: expected a name/);
});
