import type { Rng } from '../../util/rng.js';
import type { Canvas } from './canvas.js';
import { LatticeField, len3, normalCdf, PlaneWaves, randomUnitVector, segmentDistance } from './field.js';
import type { TumourPhenotype } from './phenotype.js';
import { add, type P3, unit } from './shapes.js';
import type { PatientHu } from './tissue.js';
import { Tissue } from './tissue.js';

/**
 * Tumour geometry and attenuation. A tumour is star-shaped around its centre: its surface radius in direction n
 * is R·(1 + ellipticity(n) + a·g(n)), with g a band-limited function on the sphere (low-order, like spherical
 * harmonics of degree ≤ 6) and a the phenotype's margin amplitude. Inside, HU depend on the depth below the
 * surface (rim, capsule), on a necrosis field and on intratumoral arteries; outside, a corona band. Edges are
 * anti-aliased to the voxel size, or blurred by the infiltrative edge SD.
 */
export interface Tumour {
  centre: P3;
  radius: number;
  ellipticity: P3;
  margin: PlaneWaves;
  capsuleMask: PlaneWaves;
  necrosis: PlaneWaves;
  coronaMask: PlaneWaves;
  mosaic: LatticeField;
  arteries: Array<{ a: P3; b: P3; r: number }>;
  satellites: Array<{ centre: P3; radius: number }>;
}

/**
 * Places tumours of the given diameters (cm, largest first) inside the liver: each at the best of many
 * candidate points, scored by depth inside the liver (up to the radius) minus overlap with tumours already
 * placed, and penalised where `clearance` (distance to structures a tumour must not engulf, such as the IVC) is
 * less than the radius. Large tumours may bulge the liver contour; the caller grows the liver around them.
 */
export function placeTumours(
  rng: Rng,
  diametersCm: readonly number[],
  liver: (x: number, y: number, z: number) => number,
  lo: P3,
  hi: P3,
  phenotype: TumourPhenotype,
  clearance: (p: P3) => number,
): Tumour[] {
  const tumours: Tumour[] = [];
  for (const dCm of diametersCm) {
    const radius = (dCm * 10) / 2;
    let best: P3 | null = null;
    let bestScore = -Infinity;
    for (let c = 0; c < 80; c++) {
      const p: P3 = [rng.uniformIn(lo[0], hi[0]), rng.uniformIn(lo[1], hi[1]), rng.uniformIn(lo[2], hi[2])];
      const depth = -liver(p[0], p[1], p[2]);
      if (depth <= 5) continue;
      let score = Math.min(depth, radius + 15) + Math.min(0, clearance(p) - radius);
      for (const t of tumours) {
        const gap = len3(p[0] - t.centre[0], p[1] - t.centre[1], p[2] - t.centre[2]) - t.radius - radius - 5;
        if (gap < 0) score += 2 * gap;
      }
      if (score > bestScore) [best, bestScore] = [p, score];
    }
    if (best === null) continue;
    tumours.push(makeTumour(rng, best, radius, phenotype, liver));
  }
  return tumours;
}

function makeTumour(rng: Rng, centre: P3, radius: number, ph: TumourPhenotype, liver: (x: number, y: number, z: number) => number): Tumour {
  const e = () => rng.uniformIn(-0.1, 0.1);
  const ellipticity: P3 = [e(), e(), e()];
  const margin = new PlaneWaves(rng, 10, 0.3, 0.95);
  const capsuleMask = new PlaneWaves(rng, 6, 0.12, 0.4);
  const necrosis = new PlaneWaves(rng, 8, radius / 40, radius / 12);
  const coronaMask = new PlaneWaves(rng, 5, 0.15, 0.5);
  const reach = radius * 1.25 + 10;
  const mosaic = new LatticeField(add(centre, [-reach, -reach, -reach]), [2 * reach, 2 * reach, 2 * reach], Math.max(4, radius / 12), rng);
  const arteries: Tumour['arteries'] = [];
  for (let k = 0; k < ph.arteries; k++) {
    let n = randomUnitVector(rng);
    const r = rng.uniformIn(0.5, 1.0);
    let depth = 0.95;
    let p = add(centre, n, radius * depth);
    for (let s = 0; s < 6; s++) {
      n = unit(add(n, randomUnitVector(rng), 0.25));
      depth -= rng.uniformIn(0.06, 0.12);
      const q = add(centre, n, radius * depth);
      arteries.push({ a: p, b: q, r });
      p = q;
    }
  }
  const satellites: Tumour['satellites'] = [];
  for (let s = 0; s < (ph.infiltrative?.satellites ?? 0); s++) {
    const n = randomUnitVector(rng);
    const r = rng.uniformIn(2, 5);
    const c = add(centre, n, radius * (1 + ph.marginAmplitude + 0.1) + rng.uniformIn(4, 15) + r);
    if (liver(c[0], c[1], c[2]) < -r) satellites.push({ centre: c, radius: r });
  }
  return { centre, radius, ellipticity, margin, capsuleMask, necrosis, coronaMask, mosaic, arteries, satellites };
}

/** Per-patient tumour attenuation of one phase, from the §3 table and the phenotype. */
export interface TumourHu {
  viable: number;
  rim: number;
  core: number;
  necrosis: number;
  capsule: number;
  artery: number;
  corona: number;
  mosaicSd: number;
}

export function tumourHu(ph: TumourPhenotype, hu: PatientHu, phase: 'arterial' | 'portal', apheOffset: number): TumourHu {
  const tPv = hu.liverPv + ph.washout * hu.aortaPv;
  const rimType = ph.rimMm !== null;
  if (phase === 'arterial') {
    const viable = 115 + apheOffset;
    return {
      viable: rimType ? 110 + apheOffset : viable,
      rim: 110 + apheOffset,
      // Proliferative hypovascular core (§3: 60 HU); lower still in the targetoid pattern.
      core: ph.targetoid ? 50 : rimType ? 60 : viable,
      necrosis: 25,
      capsule: 55,
      artery: 0.8 * hu.aortaArt,
      corona: 25,
      mosaicSd: 9,
    };
  }
  return {
    viable: tPv,
    rim: ph.targetoid ? tPv - 10 : tPv,
    core: ph.targetoid ? tPv + 5 : rimType ? tPv - 10 : tPv,
    necrosis: 27,
    capsule: hu.liverPv + 15,
    artery: tPv,
    corona: 0,
    mosaicSd: 6,
  };
}

/**
 * Renders all tumours into the HU volumes of both phases at once (the geometry is computed once per voxel), and
 * label 2 into the canvas label map. A tumour stays at least one voxel plus 2 mm inside the
 * liver's surface (`liver`, negative inside): where it meets the abdominal wall it flattens under the liver
 * capsule instead of touching the wall. `h` is the anti-aliasing width (mm).
 */
export function renderTumours(
  c: Canvas,
  images: readonly Float32Array[],
  values: readonly TumourHu[],
  liver: { at(x: number, y: number, z: number): number },
  tumours: readonly Tumour[],
  ph: TumourPhenotype,
  h: number,
): void {
  const sigmaEdge = ph.infiltrative?.edgeSigmaMm ?? 0;
  const coronaMm = ph.coronaMm ?? 0;
  const reach = Math.max(h, 2.5 * sigmaEdge, coronaMm + h);
  const rn = Math.cbrt(ph.necrosisFraction);
  const capsuleCut = ph.capsule ? inverseNormalCdf(ph.capsule.coverage) : -Infinity;
  const capsuleMargin = 2 + h;
  const phases = images.length;
  for (const t of tumours) {
    const [cx, cy, cz] = t.centre;
    const R = t.radius;
    const rMax = R * (1.15 + 3 * ph.marginAmplitude) + reach;
    const [e0, e1, e2] = t.ellipticity;
    const eMean = (e0 + e1 + e2) / 3;
    // An artery darkens nothing beyond r + h/2 (its factor is exactly 1): each row and voxel tests only the
    // arteries whose box, widened by that much, it meets.
    const arteries = t.arteries.map((art) => {
      const m = art.r + h / 2 + 1e-3;
      return { ...art, lo: [0, 1, 2].map((a) => Math.min(art.a[a]!, art.b[a]!) - m), hi: [0, 1, 2].map((a) => Math.max(art.a[a]!, art.b[a]!) + m) };
    });
    c.forRows([cx - rMax, cy - rMax, cz - rMax], [cx + rMax, cy + rMax, cz + rMax], (v0, i0, i1, y, z) => {
      const dy = y - cy, dz = z - cz;
      const rowArteries = arteries.filter((art) => y >= art.lo[1]! && y <= art.hi[1]! && z >= art.lo[2]! && z <= art.hi[2]!);
      for (let i = i0, v = v0; i <= i1; i++, v++) {
        if (c.label[v] === 0) continue;
        const x = c.xs[i]!;
        const dx = x - cx;
        const rho = Math.sqrt(dx * dx + dy * dy + dz * dz);
        if (rho > rMax) continue;
        // Deep outside the liver nothing is rendered: skip the margin function there.
        const dLiver = liver.at(x, y, z) + capsuleMargin;
        if (dLiver > reach) continue;
        const inv = rho > 1e-9 ? 1 / rho : 0;
        const nx = dx * inv, ny = dy * inv, nz = dz * inv;
        const rs = R * (1 + e0 * nx * nx + e1 * ny * ny + e2 * nz * nz - eMean + ph.marginAmplitude * t.margin.at(nx, ny, nz));
        const d = Math.max(rho - rs, dLiver);
        if (d > reach) continue;
        const alpha = sigmaEdge > 0 ? normalCdf(-d / sigmaEdge) : clamp01(0.5 - d / h);
        if (d < 0) c.label[v] = 2;
        if (d > 0 && coronaMm > 0 && c.tissue[v] === Tissue.liver) {
          const band = clamp01((coronaMm - d) / h + 0.5) * (0.6 + 0.4 * Math.tanh(t.coronaMask.at(nx, ny, nz))) * (1 - alpha);
          for (let p = 0; p < phases; p++) images[p]![v] = images[p]![v]! + values[p]!.corona * band;
        }
        if (alpha <= 0) continue;
        // Blend weights shared by both phases: rim, necrosis, capsule, arteries (combined), then texture.
        const depth = -d;
        const wRim = ph.rimMm !== null ? clamp01((ph.rimMm - depth) / h + 0.5) : 0;
        // Each weight's cheap factor first: where it is 0, the field behind it need not be evaluated.
        let wNec = 0;
        const belowRim = rn > 0 ? clamp01((depth - (ph.rimMm ?? 2)) / h) : 0;
        if (belowRim > 0) {
          const q = rho / rs + 0.1 * t.necrosis.at(x, y, z);
          wNec = clamp01(((rn - q) * R) / h + 0.5) * belowRim;
        }
        const inCapsule = ph.capsule ? clamp01((ph.capsule.thicknessMm - depth) / h + 0.5) * clamp01(depth / h + 0.5) : 0;
        const wCap = inCapsule > 0 && t.capsuleMask.at(nx, ny, nz) < capsuleCut ? inCapsule : 0;
        let keep = 1;
        for (const art of rowArteries) {
          if (x < art.lo[0]! || x > art.hi[0]!) continue;
          const dist = segmentDistance(x, y, z, art.a[0], art.a[1], art.a[2], art.b[0], art.b[1], art.b[2]);
          keep *= 1 - clamp01((art.r - dist) / h + 0.5);
        }
        const mosaic = t.mosaic.at(x, y, z);
        for (let p = 0; p < phases; p++) {
          const val = values[p]!;
          let T = ph.rimMm !== null ? val.core + (val.rim - val.core) * wRim : val.viable;
          T += (val.necrosis - T) * wNec;
          T += (val.capsule - T) * wCap;
          T = val.artery + (T - val.artery) * keep;
          T += val.mosaicSd * mosaic;
          const img = images[p]!;
          img[v] = img[v]! + (T - img[v]!) * alpha;
        }
      }
    });
    for (const s of t.satellites) {
      const r = s.radius + h;
      c.forRows(add(s.centre, [-r, -r, -r]), add(s.centre, [r, r, r]), (v0, i0, i1, y, z) => {
        for (let i = i0, v = v0; i <= i1; i++, v++) {
          if (c.label[v] === 0) continue;
          const x = c.xs[i]!;
          const d = Math.max(len3(x - s.centre[0], y - s.centre[1], z - s.centre[2]) - s.radius, liver.at(x, y, z) + capsuleMargin);
          if (d < 0) c.label[v] = 2;
          const alpha = clamp01(0.5 - d / h);
          if (alpha > 0) for (let p = 0; p < phases; p++) images[p]![v] = images[p]![v]! + (values[p]!.viable - images[p]![v]!) * alpha;
        }
      });
    }
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Φ⁻¹ by bisection on normalCdf: called once per patient, so simplicity wins over speed. */
function inverseNormalCdf(p: number): number {
  let lo = -8, hi = 8;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
