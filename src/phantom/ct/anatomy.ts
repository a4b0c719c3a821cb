import type { Rng } from '../../util/rng.js';
import type { Canvas } from './canvas.js';
import { ellipsoidSdf, len2, len3, PlaneWaves } from './field.js';
import { Ellipsoid, type P3, spline } from './shapes.js';
import { Tissue } from './tissue.js';

/**
 * Everything of the upper abdomen except the liver and its vessels: body wall (subcutaneous fat, muscle),
 * spine, ribs and costal cartilage, lung bases and heart above the diaphragm, kidneys, spleen, stomach,
 * pancreas, bowel, aorta with its branches, IVC, and the splenic-mesenteric venous inflow of the portal vein.
 * Positions are in the patient frame (x right, y anterior, z superior; mm) with z = 0 near the liver hilum.
 * Sizes vary between patients; their ranges follow adult abdominal CT anatomy.
 */
export interface Anatomy {
  /** Body half-width and anterior/posterior half-depths (skin). */
  a: number;
  bAnt: number;
  bPost: number;
  fatLat: number;
  fatAnt: number;
  fatPost: number;
  muscle: number;
  /** y of the vertebral-body centre. */
  yv: number;
  /** z phase of the vertebral levels. */
  spineZ0: number;
  aorta: { x: number; y: number; r: number };
  ivc: { x: number; y: number; rx: number; ry: number };
  kidneys: Ellipsoid[];
  spleen: Ellipsoid;
  stomach: Ellipsoid;
  /** Gas above this fraction of the stomach's AP radius (supine: gas rises anteriorly); fluid or food below. */
  stomachGasLevel: number;
  stomachContent: number;
  /** Portal-venous confluence behind the pancreatic neck. */
  confluence: P3;
  pancreas: P3[];
  bowel: Array<{ path: P3[]; r: number; content: 'gas' | 'fluid' | 'stool' | 'collapsed' }>;
  plaques: P3[];
}

/**
 * Draws one patient's anatomy. `largestTumourMm` (radius) distends the abdomen as a huge HCC does, so that a
 * tumour of 10-22 cm still fits under the abdominal wall; the width stays within 185 mm so the body fits the
 * small grid's 384 mm field of view.
 */
export function drawAnatomy(rng: Rng, cirrhosis: number, largestTumourMm: number): Anatomy {
  const distension = 1 + (0.5 * Math.max(0, largestTumourMm - 50)) / 60;
  const a0 = rng.uniformIn(140, 180);
  const a = Math.min(a0 * distension, Math.max(a0, 185));
  const bAnt = rng.uniformIn(100, 130) * distension;
  const bPost = rng.uniformIn(95, 115) * Math.sqrt(distension);
  const fatLat = rng.uniformIn(8, 32);
  const fatAnt = fatLat * rng.uniformIn(0.8, 1.4);
  const fatPost = fatLat * rng.uniformIn(0.5, 0.9);
  const muscle = rng.uniformIn(6, 12);
  const yv = -bPost + fatPost + 52;
  const aorta = { x: -12 + rng.uniformIn(-4, 4), y: yv + 30, r: rng.uniformIn(10, 13.5) };
  const ivc = { x: 24 + rng.uniformIn(-3, 3), y: yv + 30, rx: rng.uniformIn(11, 14), ry: rng.uniformIn(7, 10) };
  const zKid = rng.uniformIn(-85, -65);
  const kidneys = [
    new Ellipsoid([62 + rng.uniformIn(-4, 4), yv + 6, zKid], [27, 24, 52], 25, 0, 15),
    new Ellipsoid([-60 + rng.uniformIn(-4, 4), yv + 8, zKid + rng.uniformIn(10, 25)], [27, 24, 52], -25, 0, 15),
  ];
  const spleenScale = 1 + 0.35 * cirrhosis + rng.uniformIn(-0.1, 0.1);
  const wallX = a - fatLat - muscle;
  const spleen = new Ellipsoid(
    [-(wallX - 24 * spleenScale), yv + 12, rng.uniformIn(15, 35)],
    [22 * spleenScale, 50 * spleenScale, 48 * spleenScale],
    -40 + rng.uniformIn(-10, 10),
  );
  const stomach = new Ellipsoid([-45 + rng.uniformIn(-8, 8), yv + 85, rng.uniformIn(15, 35)], [rng.uniformIn(25, 40), rng.uniformIn(20, 32), 50], -30 + rng.uniformIn(-10, 10), 0, -20);
    const stomachGasLevel = rng.uniformIn(0, 1.1);
  const stomachContent = rng.bernoulli(0.5) ? Tissue.bowelFluid : Tissue.stool;
  const confluence: P3 = [6, yv + 52, -30];
  const pancreas: P3[] = [
    [spleen.centre[0] + 22, yv + 35, spleen.centre[2] - 28],
    [-30, yv + 62, -22],
    [4, yv + 64, -30],
    [30, yv + 54, -44],
  ];
  const bowel: Anatomy['bowel'] = [];
  // The transverse colon hangs below the liver and stomach from the hepatic to the splenic flexure.
  const zHf = rng.uniformIn(-95, -70);
  bowel.push({
    path: spline([[80, yv + 50, zHf], [30, bAnt - fatAnt - 45, zHf - 15], [-40, bAnt - fatAnt - 45, zHf - 5], [-75, yv + 55, zHf + 45]], 6),
    r: rng.uniformIn(14, 22),
    content: rng.bernoulli(0.5) ? 'gas' : 'stool',
  });
  // Small-bowel and colon loops fill the fat of the mid and lower abdomen (organs painted later take precedence).
  const loops = 9 + rng.int(5);
  for (let l = 0; l < loops; l++) {
    const control: P3[] = [[rng.uniformIn(-a + 50, a - 50), rng.uniformIn(yv + 30, bAnt - 35), rng.uniformIn(-190, -10)]];
    for (let s = 0; s < 4; s++) {
      const p = control[control.length - 1]!;
      control.push([p[0] + rng.uniformIn(-45, 45), p[1] + rng.uniformIn(-25, 25), p[2] + rng.uniformIn(-30, 30)]);
    }
    const u = rng.uniform();
    bowel.push({ path: spline(control, 5), r: rng.uniformIn(9, 15), content: u < 0.5 ? 'fluid' : u < 0.75 ? 'collapsed' : 'gas' });
  }
  const plaques: P3[] = [];
  const nPlaques = Math.floor(rng.uniformIn(0, 6));
  for (let p = 0; p < nPlaques; p++) {
    const t = rng.uniformIn(0, 2 * Math.PI);
    plaques.push([aorta.x + aorta.r * Math.cos(t), aorta.y + aorta.r * Math.sin(t), rng.uniformIn(-150, 60)]);
  }
  return { a, bAnt, bPost, fatLat, fatAnt, fatPost, muscle, yv, spineZ0: rng.uniformIn(0, 32), aorta, ivc, kidneys, spleen, stomach, stomachGasLevel, stomachContent, confluence, pancreas, bowel, plaques };
}

/** Approximate signed distance (mm) to the body outline inset by (lat, ant, post) mm, in the axial plane. */
export function bodySdf(an: Anatomy, x: number, y: number, insetLat: number, insetAnt: number, insetPost: number): number {
  const b = y > 0 ? an.bAnt - insetAnt : an.bPost - insetPost;
  // The back is flatter than the belly: posteriorly the mean of the 2-norm and the 4-norm, a squarer outline.
  if (y > 0) return ellipsoidSdf(x, y, 0, an.a - insetLat, b, 1e6);
  const u = (x / (an.a - insetLat)) ** 2, w = (y / b) ** 2;
  const q = 0.5 * (Math.sqrt(u + w) + Math.sqrt(Math.sqrt(u * u + w * w)));
  return (q - 1) * Math.min(an.a - insetLat, b);
}

/** Signed distance to the abdominal cavity (inside the muscle wall). */
export function cavitySdf(an: Anatomy, x: number, y: number): number {
  return bodySdf(an, x, y, an.fatLat + an.muscle, an.fatAnt + an.muscle, an.fatPost + an.muscle + 10);
}

/** Body wall, paraspinal muscles and the scanner table: one axial template repeated on every slice. */
export function paintBody(c: Canvas, an: Anatomy): void {
  const plane = new Uint8Array(c.nx * c.ny);
  for (let j = 0; j < c.ny; j++) {
    const y = c.y(j);
    for (let i = 0; i < c.nx; i++) {
      const x = c.x(i);
      let t: number = Tissue.air;
      if (bodySdf(an, x, y, 0, 0, 0) < 0) {
        t = Tissue.fat;
        if (bodySdf(an, x, y, an.fatLat, an.fatAnt, an.fatPost) < 0) t = Tissue.muscle;
        if (cavitySdf(an, x, y) < 0) {
          t = Tissue.fat;
          c.cavity[i + c.nx * j] = 1;
        }
        // Erector spinae and the rectus muscles.
        for (const side of [-1, 1]) {
          if (((x - side * 30) / 28) ** 2 + ((y - (an.yv - 42)) / 22) ** 2 < 1) t = Tissue.muscle;
          if (((x - side * 45) / 40) ** 2 + ((y - (an.bAnt - an.fatAnt - 6)) / 10) ** 2 < 1 && t === Tissue.fat && y > 0) t = Tissue.muscle;
        }
      } else {
        const yt = -an.bPost - 14 + 0.0004 * x * x;
        if (Math.abs(y - yt) < 2.5 && Math.abs(x) < an.a + 30) t = Tissue.table;
      }
      plane[i + c.nx * j] = t;
    }
  }
  for (let k = 0; k < c.nz; k++) c.tissue.set(plane, k * c.nx * c.ny);
}

/** Vertebrae (body, pedicles, arch, spinous and transverse processes), discs and the spinal canal. */
export function paintSpine(c: Canvas, an: Anatomy): void {
  const yv = an.yv;
  // A voxel's class depends on its (x, y) and on the kind of level its z falls in (disc, vertebral body, body
  // with transverse processes): one axial template per kind, then each slice copies its kind's template.
  const [i0, i1] = c.range(0, -60, 60);
  const [j0, j1] = c.range(1, yv - 75, yv + 22);
  if (i0 > i1 || j0 > j1) return;
  const width = i1 - i0 + 1;
  const templates = [0, 1, 2].map((kind) => {
    const t = new Int8Array(width * (j1 - j0 + 1));
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) t[i - i0 + width * (j - j0)] = spineTissue(c.xs[i]!, c.y(j), yv, kind === 0, kind === 2);
    }
    return t;
  });
  for (let k = 0; k < c.nz; k++) {
    const level = (((c.z(k) - an.spineZ0) % 32) + 32) % 32;
    const t = templates[level < 6 ? 0 : level > 14 ? 2 : 1]!;
    for (let j = j0, n = 0; j <= j1; j++) {
      for (let i = i0, v = i0 + c.nx * (j + c.ny * k); i <= i1; i++, v++, n++) if (t[n]! >= 0) c.tissue[v] = t[n]!;
    }
  }
}

/** The spine's tissue class at (x, y), or −1 for none: at a disc level, or at a level with transverse processes. */
function spineTissue(x: number, y: number, yv: number, disc: boolean, transverse: boolean): number {
  const bone = (q: number, thin: number) => (q > 1 - thin ? Tissue.boneCortical : Tissue.boneTrabecular);
  const qb = len2(x / 21, (y - yv) / 17);
  if (qb < 1) return disc ? Tissue.disc : bone(qb, 0.1);
  const rc = len2(x, y - (yv - 28));
  if (rc < 9) return Tissue.csf;
  // The arch, facets and spinous process are present at disc levels too; only the body gives way to the disc.
  if (rc < 15 && y < yv - 17) return bone(rc / 15, 0.15);
  const qp = len2((Math.abs(x) - 12) / 5, (y - (yv - 18)) / 7);
  if (qp < 1 && !disc) return bone(qp, 0.2);
  const qs = len2(x / 5, (y - (yv - 50)) / 15);
  if (qs < 1) return bone(qs, 0.25);
  if (transverse) {
    const qt = len2((Math.abs(x) - 28) / 16, (y - (yv - 27)) / 5);
    if (qt < 1) return bone(qt, 0.25);
  }
  return -1;
}

/**
 * Ribs: each leaves the spine at a transverse process, follows the body wall laterally and descends about
 * 110 mm as it runs forward; the upper ones continue as costal cartilage towards the midline (the lower ones less
 * far, along the costal margin), the lowest two float.
 */
export function paintRibs(c: Canvas, an: Anatomy, zTop: number): void {
  const A = an.a - an.fatLat - an.muscle * 0.5;
  const Bp = an.bPost - an.fatPost - an.muscle * 0.5 - 8;
  const Ba = an.bAnt - an.fatAnt - an.muscle * 0.5;
  const ribs = 11;
  for (let r = 0; r < ribs; r++) {
    const z0 = zTop + 90 - r * 26;
    const floating = r >= ribs - 2;
    // The lower ribs' cartilages join the costal margin, which rises towards the xiphoid: shorter arcs.
    const thetaEnd = floating ? 1.9 : 2.95 - 0.2 * Math.max(0, r - 4);
    for (const side of [-1, 1]) {
      const pts: P3[] = [];
      const steps = 22;
      for (let s = 0; s <= steps; s++) {
        const th = 0.3 + ((thetaEnd - 0.3) * s) / steps;
        const ell = th < Math.PI / 2 ? Bp : Ba;
        pts.push([side * A * Math.sin(th), -ell * Math.cos(th), z0 - 110 * (th / Math.PI)]);
      }
      for (let s = 0; s < steps; s++) {
        const th = 0.3 + ((thetaEnd - 0.3) * s) / steps;
        const cartilage = !floating && th > 2.2;
        if (cartilage) {
          c.paintTube(pts[s]!, pts[s + 1]!, 4.5, Tissue.cartilage);
        } else {
          c.paintTube(pts[s]!, pts[s + 1]!, 4.5, Tissue.boneCortical);
          c.paintTube(pts[s]!, pts[s + 1]!, 3, Tissue.boneTrabecular);
        }
      }
    }
  }
}

/**
 * Lung bases and the diaphragm above the abdominal organs. `domeZ(x, y)` is the height of the diaphragm (the top
 * of liver, spleen and stomach plus its thickness), computed by the caller from the organ shapes.
 */
export function paintThorax(c: Canvas, an: Anatomy, domeZ: (x: number, y: number) => number, zTop: number): void {
  // The dome height of every (i, j) column, once; then each voxel is a comparison.
  const plane = c.nx * c.ny;
  const domeMm = new Float64Array(plane);
  for (let j = 0; j < c.ny; j++) for (let i = 0; i < c.nx; i++) domeMm[i + c.nx * j] = domeZ(c.x(i), c.y(j));
  const dome = Float32Array.from(domeMm);
  // Each cavity column joins from the first slice above its dome on: counting-sort the columns by that slice,
  // so that slice k visits exactly the columns whose dome lies below it (a prefix of the order).
  const [k0] = c.range(2, zTop - 140, 1e4);
  const start = Math.max(0, k0), nz = c.nz;
  const firstSlice = new Int32Array(plane).fill(-1);
  const joining = new Int32Array(nz + 2);
  const oz = c.grid.origin[2], sz = c.grid.spacing[2];
  for (let p = 0; p < plane; p++) {
    if (c.cavity[p] !== 1) continue;
    let k = Math.min(nz, Math.max(start, Math.floor((dome[p]! - oz) / sz)));
    while (k > start && c.z(k - 1) > dome[p]!) k--;
    while (k < nz && !(c.z(k) > dome[p]!)) k++;
    firstSlice[p] = k;
    joining[k + 1]!++;
  }
  for (let k = 0; k <= nz; k++) joining[k + 1]! += joining[k]!;
  const order = new Int32Array(joining[nz + 1]!);
  const fillAt = joining.slice();
  for (let p = 0; p < plane; p++) if (firstSlice[p]! >= 0) order[fillAt[firstSlice[p]!]!++] = p;
  for (let k = start; k < nz; k++) {
    const z = c.z(k);
    for (let n = 0, end = joining[k + 1]!; n < end; n++) {
      const p = order[n]!, v = p + k * plane;
      if (c.tissue[v] === Tissue.fat) c.tissue[v] = z > dome[p]! + 5 ? Tissue.lung : Tissue.muscle;
    }
  }
  // The heart sits on the central tendon, wrapped in pericardial fat.
  const h = new Ellipsoid([-20, 20, zTop + 40], [62, 50, 55], -30);
  const box = h.box(8);
  c.forRows(box.lo, box.hi, (v0, i0, i1, y, z) => {
    for (let i = i0, v = v0, p = v0 % plane; i <= i1; i++, v++, p++) {
      if (z < domeMm[p]! + 5) continue;
      const s = h.sdf(c.xs[i]!, y, z);
      if (s < -12) c.tissue[v] = Tissue.heartBlood;
      else if (s < 0) c.tissue[v] = Tissue.myocardium;
      else if (s < 7) c.tissue[v] = Tissue.fat;
    }
  });
}

/** Bowel loops: an enhancing wall around gas, fluid, stool (gas bubbles in faeces) or nothing (collapsed). */
export function paintBowel(c: Canvas, an: Anatomy, rng: Rng): void {
  const stool = new PlaneWaves(rng, 8, 1 / 14, 1 / 6);
  for (const loop of an.bowel) {
    for (let s = 0; s < loop.path.length - 1; s++) c.paintTube(loop.path[s]!, loop.path[s + 1]!, loop.r, Tissue.bowelWall, Tissue.fat, true);
    if (loop.content === 'collapsed') continue;
    for (let s = 0; s < loop.path.length - 1; s++) {
      const a = loop.path[s]!, b = loop.path[s + 1]!;
      const r = loop.r - 2.5;
      const lo = [0, 1, 2].map((d) => Math.min(a[d]!, b[d]!) - r);
      const hi = [0, 1, 2].map((d) => Math.max(a[d]!, b[d]!) + r);
      const mx = 0.5 * (a[0]! + b[0]!), my = 0.5 * (a[1]! + b[1]!), mz = 0.5 * (a[2]! + b[2]!);
      const reach = r + 0.5 * len3(b[0]! - a[0]!, b[1]! - a[1]!, b[2]! - a[2]!);
      c.forRows(lo, hi, (v0, i0, i1, y, z) => {
        for (let i = i0, v = v0; i <= i1; i++, v++) {
          if (c.tissue[v] !== Tissue.bowelWall) continue;
          const x = c.xs[i]!;
          if (len3(x - mx, y - my, z - mz) > reach) continue;
          if (!insideTube(x, y, z, a, b, r)) continue;
          if (loop.content === 'gas') c.tissue[v] = y > my - 0.3 * r ? Tissue.gas : Tissue.bowelFluid;
          else if (loop.content === 'fluid') c.tissue[v] = Tissue.bowelFluid;
          else c.tissue[v] = stool.at(x, y, z) > 0.7 ? Tissue.gas : Tissue.stool;
        }
      });
    }
  }
}

function insideTube(x: number, y: number, z: number, a: readonly number[], b: readonly number[], r: number): boolean {
  const ux = b[0]! - a[0]!, uy = b[1]! - a[1]!, uz = b[2]! - a[2]!;
  const len2 = ux * ux + uy * uy + uz * uz;
  let t = ((x - a[0]!) * ux + (y - a[1]!) * uy + (z - a[2]!) * uz) / len2;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return len3(x - a[0]! - t * ux, y - a[1]! - t * uy, z - a[2]! - t * uz) < r;
}

/** Stomach (wall, gas anteriorly above a fluid level), pancreas, kidneys and spleen. */
export function paintOrgans(c: Canvas, an: Anatomy): void {
  const st = an.stomach;
  let box = st.box(2);
  const gasLevel = st.centre[1] + an.stomachGasLevel * st.radii[1];
  c.forSpans(box.lo, box.hi, (y, z) => st.rowSpan(y, z), (v0, i0, i1, y, z) => {
    for (let i = i0, v = v0; i <= i1; i++, v++) {
      const s = st.sdf(c.xs[i]!, y, z);
      if (s >= 0) continue;
      c.tissue[v] = s > -4 ? Tissue.bowelWall : y > gasLevel ? Tissue.gas : an.stomachContent;
    }
  });
  const pan = spline(an.pancreas, 4);
  for (let s = 0; s < pan.length - 1; s++) {
    const r = 8 + (7 * s) / (pan.length - 1);
    c.paintTube(pan[s]!, pan[s + 1]!, r, Tissue.pancreas);
  }
  for (const k of an.kidneys) {
    box = k.box(1);
    const medialSign = -Math.sign(k.centre[0]);
    c.forSpans(box.lo, box.hi, (y, z) => k.rowSpan(y, z), (v0, i0, i1, y, z) => {
      for (let i = i0, v = v0; i <= i1; i++, v++) {
        const x = c.xs[i]!;
        const s = k.sdf(x, y, z);
        if (s >= 0) continue;
        // Renal sinus: the fat-filled hilum on the medial side.
        if (s < -3 && medialSign * k.coord(0, x, y, z) > 8 && Math.abs(k.coord(2, x, y, z)) < 22) c.tissue[v] = Tissue.fat;
        else c.tissue[v] = s > -7 ? Tissue.kidneyCortex : Tissue.kidneyMedulla;
      }
    });
  }
  const sp = an.spleen;
  box = sp.box(1);
  // The visceral (medial) surface is concave against the stomach and kidney: carve a ball centred medially.
  const toMid = Math.hypot(sp.centre[0], sp.centre[1] - an.yv - 40);
  const hollow: P3 = [sp.centre[0] * (1 - 55 / toMid), sp.centre[1] - ((sp.centre[1] - an.yv - 40) * 55) / toMid, sp.centre[2]];
  c.forSpans(box.lo, box.hi, (y, z) => sp.rowSpan(y, z), (v0, i0, i1, y, z) => {
    for (let i = i0, v = v0; i <= i1; i++, v++) {
      const x = c.xs[i]!;
      if (sp.sdf(x, y, z) >= 0 || len3(x - hollow[0], y - hollow[1], z - hollow[2]) < 42) continue;
      if (an.stomach.sdf(x, y, z, 6) > 0 && an.kidneys[1]!.sdf(x, y, z, 4) > 0) c.tissue[v] = Tissue.spleen;
    }
  });
}

/** Aorta (with calcified plaques), coeliac trunk, hepatic, splenic, superior mesenteric and renal arteries. */
export function paintArteries(c: Canvas, an: Anatomy, hilum: P3): void {
  const ao = an.aorta;
  c.forRows([ao.x - ao.r, ao.y - ao.r, -1e4], [ao.x + ao.r, ao.y + ao.r, 1e4], (v0, i0, i1, y) => {
    for (let i = i0, v = v0; i <= i1; i++, v++) if (len2(c.xs[i]! - ao.x, y - ao.y) < ao.r) c.tissue[v] = Tissue.artery;
  });
  for (const p of an.plaques) c.paintTube(p, [p[0], p[1], p[2] + 6], 1.6, Tissue.boneCortical);
  const zc = -5;
  const coeliac: P3 = [ao.x + 2, ao.y + ao.r + 18, zc + 3];
  c.paintTube([ao.x, ao.y, zc], coeliac, 3.2, Tissue.artery);
  const hepatic = spline([coeliac, [ao.x + 25, ao.y + 40, zc], [hilum[0] - 8, hilum[1] + 6, hilum[2] - 4], hilum], 4);
  for (let s = 0; s < hepatic.length - 1; s++) c.paintTube(hepatic[s]!, hepatic[s + 1]!, 2.4, Tissue.artery);
  const sp = an.spleen.centre;
  const splenic = spline([coeliac, [ao.x - 25, ao.y + 25, zc + 8], [(ao.x + sp[0]) / 2, ao.y + 12, zc + 2], [sp[0] + 20, sp[1] + 5, sp[2] - 10]], 5);
  for (let s = 0; s < splenic.length - 1; s++) c.paintTube(splenic[s]!, splenic[s + 1]!, 2.6, Tissue.artery);
  const sma = spline([[ao.x, ao.y + ao.r - 2, zc - 15], [ao.x + 2, ao.y + 30, zc - 35], [ao.x + 6, ao.y + 42, zc - 140]], 4);
  for (let s = 0; s < sma.length - 1; s++) c.paintTube(sma[s]!, sma[s + 1]!, 3.4, Tissue.artery);
  for (const k of an.kidneys) {
    const zk = k.centre[2] + 10;
    c.paintTube([ao.x, ao.y, zk], [k.centre[0] * 0.7, k.centre[1] + 5, zk], 2.8, Tissue.artery);
  }
}

/** Renal veins to the IVC, the splenic vein behind the pancreas and the superior mesenteric vein. */
export function paintVenousInflow(c: Canvas, an: Anatomy): void {
  const sp = an.spleen.centre;
  const cf = an.confluence;
  const splenic = spline([[sp[0] + 22, sp[1] + 2, sp[2] - 18], [an.aorta.x - 25, an.yv + 50, -20], [cf[0] - 15, cf[1] - 2, cf[2] + 2], cf], 5);
  for (let s = 0; s < splenic.length - 1; s++) c.paintTube(splenic[s]!, splenic[s + 1]!, 4.5, Tissue.portalVein);
  const smv = spline([cf, [cf[0] + 4, cf[1] + 6, cf[2] - 40], [cf[0] + 6, cf[1] + 10, cf[2] - 150]], 4);
  for (let s = 0; s < smv.length - 1; s++) c.paintTube(smv[s]!, smv[s + 1]!, 5.5, Tissue.portalVein);
  for (const k of an.kidneys) {
    const zk = k.centre[2] + 2;
    c.paintTube([an.ivc.x, an.ivc.y, zk], [k.centre[0] * 0.75, k.centre[1] + 8, zk], 4.5, Tissue.ivc);
  }
}

/** The IVC: an elliptical tube painted after the liver, which wraps around its intrahepatic part. */
export function paintIvc(c: Canvas, an: Anatomy, zTop: number): void {
  const iv = an.ivc;
  c.forRows([iv.x - iv.rx, iv.y - iv.ry, -1e4], [iv.x + iv.rx, iv.y + iv.ry, zTop], (v0, i0, i1, y) => {
    for (let i = i0, v = v0; i <= i1; i++, v++) {
      if (((c.xs[i]! - iv.x) / iv.rx) ** 2 + ((y - iv.y) / iv.ry) ** 2 < 1) {
        c.tissue[v] = Tissue.ivc;
        c.label[v] = 0;
      }
    }
  });
}
