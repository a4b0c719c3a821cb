import type { Rng } from '../../util/rng.js';
import type { Canvas } from './canvas.js';
import { randomUnitVector } from './field.js';
import { add, norm, type P3, unit } from './shapes.js';
import { Tissue } from './tissue.js';

/**
 * Intrahepatic vessel trees. The portal vein enters at the hilum and divides into right and left branches; the
 * three hepatic veins drain into the IVC below the diaphragm. Each tree grows by repeated bifurcation
 * (branching angle 25-50°, child radii from Murray's law, r³ split between the children), and a
 * branch is kept only where it stays inside the liver, so the trees fill whatever shape the liver has.
 */
export interface Segment {
  a: P3;
  b: P3;
  r: number;
  /** 0 = trunk, 1 = first-order (lobar) branch, 2 = second order, ... */
  order: number;
  parent: number;
}

export interface VesselTree {
  segments: Segment[];
  cls: number;
}

/** Grows a tree from `root` along `dir`; `inside(p)` is the liver's implicit function (negative inside). */
export function growTree(
  rng: Rng,
  inside: (x: number, y: number, z: number) => number,
  root: P3,
  dir: P3,
  r0: number,
  len0: number,
  order0: number,
  parent: number,
  segments: Segment[],
  maxOrder: number,
): void {
  const stack: Array<{ p: P3; d: P3; r: number; len: number; order: number; parent: number }> = [{ p: root, d: unit(dir), r: r0, len: len0, order: order0, parent }];
  while (stack.length > 0) {
    const s = stack.pop()!;
    let end: P3 | null = null;
    let d = s.d;
    let len = s.len;
    for (let attempt = 0; attempt < 8 && end === null; attempt++) {
      const e = add(s.p, d, len);
      if (inside(e[0], e[1], e[2]) < -(s.r + 2)) end = e;
      else {
        d = unit(add(s.d, randomUnitVector(rng), 0.6));
        len *= 0.8;
      }
    }
    if (end === null) continue;
    const index = segments.length;
    segments.push({ a: s.p, b: end, r: s.r, order: s.order, parent: s.parent });
    if (s.order >= maxOrder || s.r < 1.4) continue;
    const axis = perpendicular(d, rng);
    const spread = (rng.uniformIn(25, 50) * Math.PI) / 180;
    const asym = rng.uniformIn(0.35, 0.65);
    for (const [angle, share] of [[spread * asym, 1 - asym], [-spread * (1 - asym), asym]] as const) {
      stack.push({
        p: end,
        d: rotate(d, axis, angle),
        r: s.r * Math.pow(0.5 + 0.5 * share, 1 / 3) * rng.uniformIn(0.86, 0.94),
        len: s.len * rng.uniformIn(0.78, 0.92),
        order: s.order + 1,
        parent: index,
      });
    }
  }
}

function perpendicular(d: P3, rng: Rng): P3 {
  const r = randomUnitVector(rng);
  const dot = r[0] * d[0] + r[1] * d[1] + r[2] * d[2];
  const p = add(r, d, -dot);
  return norm(p) < 1e-6 ? perpendicular(d, rng) : unit(p);
}

/** Rodrigues rotation of v about the unit axis k. */
function rotate(v: P3, k: P3, angle: number): P3 {
  const c = Math.cos(angle), s = Math.sin(angle);
  const cross: P3 = [k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]];
  const dot = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  return unit([0, 1, 2].map((i) => v[i]! * c + cross[i]! * s + k[i]! * dot * (1 - c)) as P3);
}

/** Paints a tree; segments of order ≥ 1 only where the voxel is liver, so no branch leaves the organ. */
export function paintTree(c: Canvas, tree: VesselTree, thrombosed: ReadonlySet<number> = new Set()): void {
  tree.segments.forEach((s, i) => {
    if (thrombosed.has(i)) c.paintTube(s.a, s.b, s.r * 1.2, Tissue.pvtt, s.order === 0 ? undefined : Tissue.liver);
    else c.paintTube(s.a, s.b, s.r, tree.cls, s.order === 0 ? undefined : Tissue.liver);
  });
}

/**
 * The portal-vein segments a tumour thrombus fills for a Vp grade (Japanese classification): Vp1-2 a second-order
 * branch, Vp3 a first-order branch, Vp4 the main trunk too; always on the side of the tumour and extending two
 * orders downstream, as thrombus grows from the tumour towards the hilum.
 */
export function thrombosedSegments(tree: VesselTree, vpGrade: number, tumourCentre: P3): Set<number> {
  const segs = tree.segments;
  const out = new Set<number>();
  if (vpGrade <= 0) return out;
  const targetOrder = vpGrade >= 3 ? 1 : 2;
  let best = -1;
  let bestDist = Infinity;
  segs.forEach((s, i) => {
    if (s.order !== targetOrder) return;
    const m: P3 = [(s.a[0] + s.b[0]) / 2, (s.a[1] + s.b[1]) / 2, (s.a[2] + s.b[2]) / 2];
    const dist = norm(add(m, tumourCentre, -1));
    if (dist < bestDist) [best, bestDist] = [i, dist];
  });
  if (best < 0) return out;
  const children = new Map<number, number[]>();
  segs.forEach((s, i) => children.set(s.parent, [...(children.get(s.parent) ?? []), i]));
  const fill = (i: number, depth: number) => {
    out.add(i);
    if (depth < 2) for (const ch of children.get(i) ?? []) fill(ch, depth + 1);
  };
  fill(best, 0);
  if (vpGrade >= 4) segs.forEach((s, i) => s.order === 0 && out.add(i));
  return out;
}

/**
 * Intrahepatic hepatic-artery branches: thin tubes running beside the portal branches of order 1-3 (the
 * portal triads), which light up in the arterial phase.
 */
export function arteriesAlongPortal(portal: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of portal) {
    if (s.order < 1 || s.order > 3) continue;
    const d = unit(add(s.b, s.a, -1));
    let side: P3 = [d[1], -d[0], 0];
    if (norm(side) < 0.2) side = [0, d[2], -d[1]];
    side = unit(side);
    const offset = s.r + 2.5;
    out.push({ a: add(s.a, side, offset), b: add(s.b, side, offset), r: Math.max(1, 0.3 * s.r), order: s.order, parent: -1 });
  }
  return out;
}

/**
 * Mesenteric arteries and veins: branches fanning from the superior mesenteric artery and vein into the fat of
 * the mesentery (the bright dots and lines in abdominal fat on contrast CT). `inside` bounds them to the cavity.
 */
export function mesentericBranches(
  rng: Rng,
  inside: (x: number, y: number, z: number) => number,
  smaX: number,
  smaY: number,
  smvX: number,
  zTop: number,
): { arteries: Segment[]; veins: Segment[] } {
  const arteries: Segment[] = [];
  const veins: Segment[] = [];
  for (let b = 0; b < 8; b++) {
    const z = zTop - rng.uniformIn(0, 110);
    const angle = rng.uniformIn(-0.6, 0.6) * Math.PI + (b % 2 === 0 ? 0 : Math.PI);
    const dir: P3 = [Math.cos(angle), 0.6 + 0.4 * Math.abs(Math.sin(angle)), -0.3];
    growTree(rng, inside, [smaX, smaY, z], dir, 1.8, 30, 1, -1, arteries, 3);
    growTree(rng, inside, [smvX, smaY + 4, z - 4], dir, 2.2, 30, 1, -1, veins, 3);
  }
  return { arteries, veins };
}
