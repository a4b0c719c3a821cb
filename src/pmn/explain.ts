import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import { encodePng } from '../imaging/png.js';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { inputBatch, type PmnCase } from './batches.js';
import { TOKEN_STRIDE } from './config.js';
import { loadCrop } from './crop-store.js';
import type { TumourCrop } from './crop.js';
import { centreOffset } from './input.js';
import type { LoadedPmn } from './model-store.js';
import { inputViews, meanOverViews } from './predict.js';
import type { PushedPrototype } from './push.js';

type Box = [number, number, number, number, number, number];

const SCALE = 4;

/**
 * An axial slice of the arterial phase (window L50/W400), enlarged SCALE times, with an optional heat overlay
 * (0..1 per crop voxel of the slice, drawn red) and a yellow box outline.
 */
export function cropSlicePng(crop: TumourCrop, z: number, heat: Float32Array | null, box: Box | null): Buffer {
  const [nx, ny] = crop.size;
  const w = nx * SCALE;
  const h = ny * SCALE;
  const rgb = new Uint8Array(w * h * 3);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const x = Math.floor(px / SCALE);
      // Anterior (high y in RAS) at the top, patient right on the image left as radiologists view it.
      const y = ny - 1 - Math.floor(py / SCALE);
      const p = x + nx * (y + ny * z);
      const g = Math.max(0, Math.min(255, ((crop.art[p]! - (50 - 200)) / 400) * 255));
      const a = heat ? 0.6 * heat[x + nx * y]! : 0;
      let c = [g * (1 - a) + 255 * a, g * (1 - a), g * (1 - a)];
      if (box && z >= box[2] && z < box[5]) {
        const edgeX = (x === box[0] || x === box[3] - 1) && y >= box[1] && y < box[4];
        const edgeY = (y === box[1] || y === box[4] - 1) && x >= box[0] && x < box[3];
        if (edgeX || edgeY) c = [255, 220, 0];
      }
      rgb.set(c.map(Math.round), 3 * (px + w * py));
    }
  }
  return encodePng(rgb, w, h, 3);
}

/** The training patch each prototype was pushed to, one PNG per prototype under <dir>/prototypes/. */
export function writePrototypePatches(dir: string, pushed: PushedPrototype[], cases: PmnCase[]): string[] {
  const out = join(dir, 'prototypes');
  mkdirSync(out, { recursive: true });
  return pushed.map((pp) => {
    const c = cases.find((x) => x.id === pp.caseId)!;
    const crop = loadCrop(c.crop);
    const path = join(out, `prototype_${pp.prototype}.png`);
    writeFileAtomicSync(path, cropSlicePng(crop, Math.floor((pp.box[2] + pp.box[5]) / 2), null, pp.box));
    return path;
  });
}

export interface PrototypeEvidence {
  prototype: number;
  /** 0 non-proliferative, 1 proliferative. */
  class: number;
  similarity: number;
  /** (W[1,j] − W[0,j])·s_j: the prototype's share of the proliferative log-odds. */
  contribution: number;
  /** w_cox[j]·s_j: its share of the Cox risk. */
  riskContribution: number;
  /** Where in this case it matched best (token box in the case's crop voxels). */
  matchBox: Box;
  /** The training case and patch it was pushed to, and that patch's PNG in the model folder. */
  pushedFrom: PushedPrototype | null;
  trainingPatch: string | null;
  /** PNG of this case with the prototype's similarity map. */
  similarityMap: string;
}

/**
 * One learned prototype as a gallery shows it: where it was pushed from, and how it weighs in every prediction
 * (a case's contribution from it is these weights times its similarity, PrototypeEvidence).
 */
export interface PrototypeCard {
  prototype: number;
  class: number;
  /** W[1,j] − W[0,j]: proliferative log-odds per unit of similarity. */
  logitWeight: number;
  /** w_cox[j]: Cox risk per unit of similarity. */
  riskWeight: number;
  pushedFrom: PushedPrototype | null;
  trainingPatch: string | null;
}

/** Every prototype of a model, in index order, for the study report's gallery. */
export function prototypeGallery(model: LoadedPmn): PrototypeCard[] {
  const { w, v } = torch.tidy(() => ({
    w: model.net.last_layer.weight.tolist() as number[][],
    v: (model.net.cox_head.weight.tolist() as number[][])[0]!,
  }));
  return model.net.prototypeClass.map((cls, j) => ({
    prototype: j,
    class: cls,
    logitWeight: w[1]![j]! - w[0]![j]!,
    riskWeight: v[j]!,
    pushedFrom: model.meta.prototypes.find((p) => p.prototype === j) ?? null,
    trainingPatch: trainingPatchPng(model.dir, j),
  }));
}

function trainingPatchPng(modelDir: string, j: number): string | null {
  const png = join(modelDir, 'prototypes', `prototype_${j}.png`);
  return existsSync(png) ? png : null;
}

export interface Explanation {
  id: string;
  probability: number;
  /** logit₁ − logit₀ = Σ contributions (no bias). */
  logit: number;
  risk: number;
  riskScore: number;
  /** All prototypes, by decreasing |contribution|. */
  prototypes: PrototypeEvidence[];
}

/**
 * Explains one case: each prototype's similarity and contribution, where it matched, its similarity map over
 * the tumour (PNG), and the training patch behind it. Writes explanation.json and the PNGs into `out`.
 */
export function explainCase(model: LoadedPmn, c: PmnCase, out: string, options: { tta?: boolean } = {}): Explanation {
  const { net, meta } = model;
  mkdirSync(out, { recursive: true });
  const crop = loadCrop(c.crop);
  const [gx, gy, gz] = net.grid;
  const [sx, sy, sz] = TOKEN_STRIDE;
  const [ox, oy, oz] = centreOffset(net.config, crop.size);
  const K = net.prototypeClass.length;
  const cards = prototypeGallery(model);
  const r = torch.tidy(() => torch.noGrad(() => {
    // With test-time augmentation the similarities, logits and risk are the means over the views (so the
    // contributions still sum to the logit); where each prototype matched is shown on the central view.
    const outputs = inputViews(net.config, options.tta).map((v) => net.forward(inputBatch([c], meta.normalisation, net.config, v)));
    const o = outputs[0]!;
    return {
      logits: meanOverViews(outputs, (x) => x.logits).select(0, 0).tolist() as number[],
      risk: meanOverViews(outputs, (x) => x.risk).item(),
      sim: meanOverViews(outputs, (x) => x.similarity).select(0, 0).tolist() as number[],
      argmin: (o.argmin.select(0, 0).tolist() as number[]).map(Number),
      dist: o.distances.select(0, 0).contiguous().toArray() as Float32Array,
    };
  }));
  const tokenBox = (t: number): Box => {
    const tx = t % gx;
    const ty = Math.floor(t / gx) % gy;
    const tz = Math.floor(t / (gx * gy));
    return [ox + tx * sx, oy + ty * sy, oz + tz * sz, ox + (tx + 1) * sx, oy + (ty + 1) * sy, oz + (tz + 1) * sz];
  };
  const prototypes: PrototypeEvidence[] = [];
  for (let j = 0; j < K; j++) {
    const box = tokenBox(r.argmin[j]!);
    const zTok = Math.floor(r.argmin[j]! / (gx * gy));
    // Token similarities on the slice through the best match, spread over each token's footprint.
    // Shown relative to the best match (1) and the worst token of the slice (0), so weak maps stay visible.
    const heat = new Float32Array(crop.size[0] * crop.size[1]);
    const sims: number[] = [];
    for (let ty = 0; ty < gy; ty++) for (let tx = 0; tx < gx; tx++) {
      const d = r.dist[(tx + gx * (ty + gy * zTok)) * K + j]!;
      sims.push(Math.log((d + 1) / (d + 1e-4)));
    }
    const lo = Math.min(...sims);
    const span = Math.max(...sims) - lo || 1;
    for (let ty = 0; ty < gy; ty++) for (let tx = 0; tx < gx; tx++) {
      const s = (sims[tx + gx * ty]! - lo) / span;
      for (let y = oy + ty * sy; y < oy + (ty + 1) * sy; y++) for (let x = ox + tx * sx; x < ox + (tx + 1) * sx; x++) heat[x + crop.size[0] * y] = s;
    }
    const png = join(out, `similarity_${j}.png`);
    writeFileAtomicSync(png, cropSlicePng(crop, Math.floor((box[2] + box[5]) / 2), heat, box));
    const card = cards[j]!;
    prototypes.push({
      prototype: j,
      class: card.class,
      similarity: r.sim[j]!,
      contribution: card.logitWeight * r.sim[j]!,
      riskContribution: card.riskWeight * r.sim[j]!,
      matchBox: box,
      pushedFrom: card.pushedFrom,
      trainingPatch: card.trainingPatch,
      similarityMap: png,
    });
  }
  prototypes.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.prototype - b.prototype);
  const logit = r.logits[1]! - r.logits[0]!;
  const explanation: Explanation = {
    id: c.id,
    probability: 1 / (1 + Math.exp(-logit)),
    logit,
    risk: r.risk,
    riskScore: (r.risk - meta.riskScale.mean) / meta.riskScale.sd,
    prototypes,
  };
  writeJsonAtomicSync(join(out, 'explanation.json'), explanation);
  return explanation;
}
