import { HccError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import type { Volume } from '../../imaging/volume.js';
import type { PatientRecord, RenderedCase, RenderOptions } from '../patient.js';
import {
  type Anatomy, cavitySdf, drawAnatomy, paintArteries, paintBody, paintBowel, paintIvc, paintOrgans, paintRibs,
  paintSpine, paintThorax, paintVenousInflow,
} from './anatomy.js';
import { Canvas } from './canvas.js';
import { len3, normalCdf, paintTexturedPhases, smoothMin } from './field.js';
import { carveHard, carveSoft, drawLiver, SampledField } from './liver.js';
import { tumourPhenotype, type TumourPhenotype } from './phenotype.js';
import { scannerFor } from './scanner.js';
import { Ellipsoid, type P3 } from './shapes.js';
import { type ScanGrid, scanGrid, siteProfile } from './site.js';
import { drawPatientHu, Tissue } from './tissue.js';
import { placeTumours, renderTumours, type Tumour, tumourHu } from './tumour.js';
import { arteriesAlongPortal, growTree, mesentericBranches, paintTree, type Segment, thrombosedSegments } from './vessels.js';

/**
 * The CT phantom renderer: a patient record in, an arterial and a portal-venous CT and a label map out.
 * Pure function of (record, options): all nuisance randomness comes from streams keyed by the record's seed,
 * cohort and index (one stream per component, so changing one phenotype value moves nothing else).
 */
export function renderPatient(record: PatientRecord, options: RenderOptions): RenderedCase {
  checkRecord(record);
  const stream = (name: string) => Rng.stream(record.seed, record.cohort, record.index, 'ct', name);
  const site = siteProfile(options.site);
  // The liver's implicit function is tabulated on a lattice of about two voxels (smooth enough for its surface).
  const scene = buildScene(record, stream, { tiny: 6, small: 3.5, clinical: 2.5 }[options.grid] ?? 3);
  const grid = scanGrid(options.grid, site, scene.anatomy.a, scene.zCentre, scene.zExtent, stream('grid'));
  const work = scratchVolumes(grid.shape[0] * grid.shape[1] * grid.shape[2]);
  const canvas = new Canvas(grid, work.tissue);
  paintScene(canvas, scene, stream('paint'));

  const hu = drawPatientHu(stream('hu'), site, scene.cirrhosis);
  const scanner = scannerFor(grid, site, stream('scanner'));
  const apheOffset = stream('aphe').normal(0, 15);
  const h = Math.cbrt(grid.spacing[0] * grid.spacing[1] * grid.spacing[2]);

  // One smooth texture field T (anatomy, the same in both phases) scaled per tissue and phase: HU = mean +
  // amplitude·T. Air carries no texture.
  const { art, pv } = work;
  paintTexturedPhases({ out: art, ...hu.arterial }, { out: pv, ...hu.portal }, canvas.tissue, grid.shape, grid.spacing, grid.origin, 4, 1, stream('texture'));
  const values = [tumourHu(scene.phenotype, hu, 'arterial', apheOffset), tumourHu(scene.phenotype, hu, 'portal', apheOffset)];
  renderTumours(canvas, [art, pv], values, scene.liver, scene.tumours, scene.phenotype, h);
  const phases = [scanner.acquire(art, stream('noise-arterial')), scanner.acquire(pv, stream('noise-portal'))];
  const meta = { modality: 'CT', source: `hcc-iat CT phantom, ${record.cohort} ${record.id}`, site: site.name, grid: options.grid };
  return {
    art: volume(grid, phases[0]!, { ...meta, phase: 'arterial' }),
    pv: volume(grid, phases[1]!, { ...meta, phase: 'portal_venous' }),
    label: volume(grid, canvas.label, { ...meta, phase: 'unknown', kind: 'label' }),
  };
}

/**
 * The volumes a render uses and does not return (tissue classes, the two phases before the scanner), kept
 * between calls on the same thread: a worker renders case after case, and fresh volumes would be fresh pages
 * for the kernel to fault in and zero every time (about 10% of a small-grid case). Kept only up to about the
 * small grid's size, so a clinical-grid render leaves nothing behind. Every voxel is rewritten on each use.
 */
const KEEP_VOXELS = 256 * 256 * 100;
let kept: { tissue: Uint8Array; art: Float32Array; pv: Float32Array } | null = null;

function scratchVolumes(n: number): { tissue: Uint8Array; art: Float32Array; pv: Float32Array } {
  if (kept?.art.length === n) {
    kept.tissue.fill(0);
    return kept;
  }
  const volumes = { tissue: new Uint8Array(n), art: new Float32Array(n), pv: new Float32Array(n) };
  kept = n <= KEEP_VOXELS ? volumes : null;
  return volumes;
}

/** The fields the renderer reads, checked so that a bad record fails with its id and field, not deep inside. */
function checkRecord(record: PatientRecord): void {
  const where = `patient ${record.id}`;
  const x = record.truth?.x;
  if (!Array.isArray(x) || x.length !== 8 || !x.every(Number.isFinite)) {
    throw new HccError(`${where}: truth.x must be 8 finite phenotype values (x1..x8), got ${JSON.stringify(x)}`);
  }
  const d = record.tumourDiametersCm;
  if (!Array.isArray(d) || !d.every((v) => Number.isFinite(v) && v > 0 && v <= 30)) {
    throw new HccError(`${where}: tumourDiametersCm must be diameters in cm in (0, 30], got ${JSON.stringify(d)}`);
  }
  if (!Number.isFinite(record.truth.liverDysfunction)) throw new HccError(`${where}: truth.liverDysfunction must be a finite number`);
}

interface Scene {
  anatomy: Anatomy;
  cirrhosis: number;
  liver: SampledField;
  tumours: Tumour[];
  phenotype: TumourPhenotype;
  hilum: P3;
  portal: Segment[];
  hepatic: Segment[];
  thrombus: Set<number>;
  gallbladder: Ellipsoid | null;
  ascitesMm: number;
  zCentre: number;
  zExtent: number;
  zTop: number;
}

/** Everything geometric, in world millimetres: independent of the grid the scene is rendered on. */
function buildScene(record: PatientRecord, stream: (name: string) => Rng, cellMm: number): Scene {
  // Cirrhosis from the latent liver dysfunction of §6.2 (P-independent): most HBV-related HCC is cirrhotic.
  const cirrhosis = normalCdf(0.3 + 0.9 * record.truth.liverDysfunction);
  const anatomy = drawAnatomy(stream('anatomy'), cirrhosis, 5 * Math.max(0, ...record.tumourDiametersCm));
  const shape = drawLiver(stream('liver'), anatomy, cirrhosis);
  const phenotype = tumourPhenotype(record.truth.x, stream('phenotype'));
  const ivc = anatomy.ivc;
  const tumours = placeTumours(stream('tumours'), record.tumourDiametersCm, shape.f, shape.lo, shape.hi, phenotype, (p) => Math.hypot(p[0] - ivc.x, p[1] - ivc.y) - ivc.rx - 4);
  const kidney = anatomy.kidneys[0]!;
  // The liver grows around its tumours (large HCCs bulge its contour and push the kidney and stomach aside), and
  // is then kept off the spine and aorta and inside the abdominal wall.
  const withTumours = (x: number, y: number, z: number): number => {
    let d = carveSoft(anatomy, kidney, shape.lobes(x, y, z), x, y, z);
    for (const t of tumours) {
      const r = t.radius * 1.2 + 5;
      d = smoothMin(d, len3(x - t.centre[0], y - t.centre[1], z - t.centre[2]) - r, 15);
    }
    return carveHard(anatomy, d, x, y, z);
  };
  const lo: P3 = [...shape.lo];
  const hi: P3 = [...shape.hi];
  for (const t of tumours) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, t.centre[a]! - t.radius * 1.3 - 10);
      hi[a] = Math.max(hi[a]!, t.centre[a]! + t.radius * 1.3 + 10);
    }
  }
  const liver = new SampledField(withTumours, lo, hi, cellMm);
  const vesselRng = stream('vessels');
  // Vessels grow in the exact implicit function, so that every grid shows the same trees.
  const hilum = findInside(withTumours, [anatomy.ivc.x + 12, anatomy.ivc.y + 40, shape.rightLobe.centre[2] - 20], 10);
  const portal: Segment[] = [{ a: anatomy.confluence, b: hilum, r: 7, order: 0, parent: -1 }];
  growTree(vesselRng, withTumours, hilum, sub(shape.rightLobe.centre, hilum), 5.8, 32, 1, 0, portal, 7);
  growTree(vesselRng, withTumours, hilum, sub(shape.leftLobe.centre, hilum), 5, 35, 1, 0, portal, 7);
  const top = liver.topAt(anatomy.ivc.x, anatomy.ivc.y + 12);
  const hvRoot: P3 = [anatomy.ivc.x, anatomy.ivc.y + 4, (Number.isFinite(top) ? top : shape.hi[2]) - 22];
  const hepatic: Segment[] = [];
  for (const dir of [[1, -0.2, -0.5], [0.3, 1, -0.5], [-1, 0.7, -0.3]] as P3[]) growTree(vesselRng, withTumours, hvRoot, dir, 5.5, 32, 1, -1, hepatic, 6);
  const pvtt = record.clinical.pvtt === 1;
  const thrombus = pvtt && tumours.length > 0 ? thrombosedSegments({ segments: portal, cls: Tissue.portalVein }, Math.max(1, record.clinical.vp_grade), tumours[0]!.centre) : new Set<number>();
  const organRng = stream('organs');
  const r = shape.rightLobe;
  const gbCentre: P3 = [r.centre[0] - 0.45 * r.radii[0], r.centre[1] + 0.45 * r.radii[1], r.centre[2] - 0.5 * r.radii[2]];
  // No gallbladder after cholecystectomy, or where a tumour has taken its place.
  const gbFree = tumours.every((t) => Math.hypot(...sub(t.centre, gbCentre)) > t.radius * 1.3 + 35);
  const gallbladder = organRng.bernoulli(0.85) && gbFree ? new Ellipsoid(gbCentre, [13, 15, 30], 10, 25) : null;
  const ascitesMm = { none: 0, mild: 6, moderate_severe: 16 }[record.clinical.ascites] ?? 0;
  const zTop = hi[2];
  const zBottom = lo[2];
  return {
    anatomy, cirrhosis, liver, tumours, phenotype, hilum, portal, hepatic, thrombus, gallbladder, ascitesMm,
    zCentre: (zTop + zBottom) / 2, zExtent: zTop - zBottom + 50, zTop,
  };
}

function sub(a: readonly number[], b: readonly number[]): P3 {
  return [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
}

/** Offsets of a 4 mm search lattice within 40 mm, nearest first. */
const SEARCH_OFFSETS: P3[] = (() => {
  const out: P3[] = [];
  for (let dz = -40; dz <= 40; dz += 4) for (let dy = -40; dy <= 40; dy += 4) for (let dx = -40; dx <= 40; dx += 4) out.push([dx, dy, dz]);
  // Ties are broken by the generation order, so the search is deterministic.
  return out.map((o, i) => ({ o, i, d: o[0] ** 2 + o[1] ** 2 + o[2] ** 2 })).sort((a, b) => a.d - b.d || a.i - b.i).map((e) => e.o);
})();

/** The point nearest `p` (on a 4 mm search lattice) at least `depth` mm inside the shape `f`, else `p`. */
function findInside(f: (x: number, y: number, z: number) => number, p: P3, depth: number): P3 {
  for (const o of SEARCH_OFFSETS) {
    const q: P3 = [p[0] + o[0], p[1] + o[1], p[2] + o[2]];
    if (f(q[0], q[1], q[2]) < -depth) return q;
  }
  return p;
}

/** Paints the tissue and label maps in anatomical order: later structures overwrite earlier ones. */
function paintScene(c: Canvas, s: Scene, rng: Rng): void {
  const an = s.anatomy;
  paintBody(c, an);
  paintSpine(c, an);
  paintRibs(c, an, s.zTop);
  paintThorax(c, an, domeHeight(s), s.zTop);
  paintBowel(c, an, rng);
  paintOrgans(c, an);
  paintArteries(c, an, s.hilum);
  paintVenousInflow(c, an);
  const inCavity = (x: number, y: number, z: number) => Math.max(cavitySdf(an, x, y), z - (s.zTop - 130), -z - 220);
  const mesentery = mesentericBranches(rng, inCavity, an.aorta.x + 4, an.aorta.y + 40, an.confluence[0] + 8, s.zTop - 130);
  for (const [segments, cls] of [[mesentery.arteries, Tissue.artery], [mesentery.veins, Tissue.portalVein]] as const) {
    for (const seg of segments) c.paintTube(seg.a, seg.b, seg.r, cls, Tissue.fat, true);
  }
  const L = s.liver;
  c.forSpans(L.lo, L.hi, (y, z) => L.insideSpan(y, z), (v0, i0, i1, y, z) => {
    for (let i = i0, v = v0; i <= i1; i++, v++) {
      if (L.at(c.xs[i]!, y, z) < 0) {
        c.tissue[v] = Tissue.liver;
        c.label[v] = 1;
      }
    }
  });
  if (s.gallbladder) {
    const g = s.gallbladder;
    const box = g.box(2);
    c.forSpans(box.lo, box.hi, (y, z) => g.rowSpan(y, z), (v0, i0, i1, y, z) => {
      for (let i = i0, v = v0; i <= i1; i++, v++) {
        const d = g.sdf(c.xs[i]!, y, z);
        if (d < 0 && c.inCavity(v) && c.tissue[v] !== Tissue.boneCortical && c.tissue[v] !== Tissue.boneTrabecular) {
          c.tissue[v] = d > -2 ? Tissue.bowelWall : Tissue.bile;
          c.label[v] = 0;
        }
      }
    });
  }
  if (s.ascitesMm > 0) {
    const t = s.ascitesMm;
    c.forRows([L.lo[0] - t, L.lo[1] - t, L.lo[2] - t], [L.hi[0] + t, L.hi[1] + t, L.hi[2]], (v0, i0, i1, y, z) => {
      for (let i = i0, v = v0; i <= i1; i++, v++) {
        if (c.tissue[v] !== Tissue.fat || !c.inCavity(v)) continue;
        const d = L.at(c.xs[i]!, y, z);
        if (d > 0 && d < t) c.tissue[v] = Tissue.ascites;
      }
    });
  }
  paintTree(c, { segments: s.portal, cls: Tissue.portalVein }, s.thrombus);
  paintTree(c, { segments: arteriesAlongPortal(s.portal), cls: Tissue.artery });
  paintTree(c, { segments: s.hepatic, cls: Tissue.hepaticVein });
  paintIvc(c, an, s.zTop + 40);
}

/**
 * Height of the diaphragm above each (x, y): the top of the liver, spleen and stomach plus 4 mm, never below a
 * baseline dome that falls off posterolaterally (the costophrenic recesses). Tabulated on a 4 mm axial lattice.
 */
function domeHeight(s: Scene): (x: number, y: number) => number {
  const an = s.anatomy;
  const cell = 4;
  const x0 = -an.a, y0 = -an.bPost;
  const nx = Math.ceil((2 * an.a) / cell) + 1, ny = Math.ceil((an.bAnt + an.bPost) / cell) + 1;
  const table = new Float32Array(nx * ny);
  const ellTop = (e: Ellipsoid, x: number, y: number) => {
    const r = Math.max(...e.radii);
    if (Math.abs(x - e.centre[0]) > r || Math.abs(y - e.centre[1]) > r) return -Infinity;
    for (let z = e.centre[2] + r; z > e.centre[2] - r; z -= 2) if (e.sdf(x, y, z) < 0) return z;
    return -Infinity;
  };
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const x = x0 + i * cell, y = y0 + j * cell;
    // The central tendon stays high under the heart; the recesses drop posterolaterally beside the spine.
    const post = Math.min(1, Math.max(0, (an.yv + 80 - y) / 60));
    const lat = Math.min(1, Math.max(0, (Math.abs(x) - 30) / 40));
    const base = s.zTop - 15 - 60 * post * lat;
    const organ = Math.max(s.liver.topAt(x, y), ellTop(an.spleen, x, y), ellTop(an.stomach, x, y));
    table[i + nx * j] = Math.max(base, organ + 4);
  }
  // Two passes of a 3×3 box filter soften the step at the organ edges into a dome.
  for (let pass = 0; pass < 2; pass++) {
    const src = table.slice();
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      let sum = 0, n = 0;
      for (let b = -1; b <= 1; b++) for (let a = -1; a <= 1; a++) {
        const ii = i + a, jj = j + b;
        if (ii >= 0 && ii < nx && jj >= 0 && jj < ny) {
          sum += src[ii + nx * jj]!;
          n++;
        }
      }
      table[i + nx * j] = Math.max(src[i + nx * j]! - 2, sum / n);
    }
  }
  return (x, y) => {
    const fi = Math.min(nx - 1.001, Math.max(0, (x - x0) / cell)), fj = Math.min(ny - 1.001, Math.max(0, (y - y0) / cell));
    const i = Math.floor(fi), j = Math.floor(fj), u = fi - i, w = fj - j;
    const n = i + nx * j;
    return (table[n]! * (1 - u) + table[n + 1]! * u) * (1 - w) + (table[n + nx]! * (1 - u) + table[n + nx + 1]! * u) * w;
  };
}

function volume<T extends Int16Array | Uint8Array>(grid: ScanGrid, data: T, meta: Volume['meta']): Volume<T> {
  return { data, shape: [...grid.shape], spacing: [...grid.spacing], affine: [...grid.affine], meta };
}
