import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { chunks, inputBatch, type PmnCase } from './batches.js';
import { TOKEN_STRIDE } from './config.js';
import { loadCrop } from './crop-store.js';
import { centreOffset, type Normalisation } from './input.js';
import { classWeights, coxBreslowLoss, lastLayerL1, weightedCrossEntropy } from './losses.js';
import type { PrototypeMambaNet } from './model.js';

/** Un-augmented token features and token masks of a set of cases (kept on the JS side, [n][L*P] and [n][L]). */
export interface CachedFeatures {
  features: Float32Array[];
  masks: Float32Array[];
}

export async function computeFeatures(net: PrototypeMambaNet, cases: PmnCase[], norm: Normalisation, batchSize: number): Promise<CachedFeatures> {
  const out: CachedFeatures = { features: [], masks: [] };
  for (const batch of chunks(cases, batchSize)) {
    torch.tidy(() => torch.noGrad(() => {
      const x = inputBatch(batch, norm, net.config, null);
      const f = net.features(x).contiguous();
      const m = net.tokenMask(x).contiguous();
      for (let i = 0; i < batch.length; i++) {
        out.features.push(f.select(0, i).toArray() as Float32Array);
        out.masks.push(m.select(0, i).toArray() as Float32Array);
      }
    }));
    await torch.yieldToEventLoop();
  }
  return out;
}

/** Where a prototype was pushed: the training case, the token, its box in crop voxels, and the distance. */
export interface PushedPrototype {
  prototype: number;
  class: number;
  caseId: string;
  token: number;
  /** Token grid coordinates [x, y, z]. */
  tokenXyz: [number, number, number];
  /** The token's footprint in the case's stored crop, voxels [x0, y0, z0, x1, y1, z1] (exclusive ends). */
  box: [number, number, number, number, number, number];
  distance: number;
}

/**
 * The prototype push (ProtoPNet §2.3, pmn-design.md §5.5): each prototype becomes the feature vector of the
 * nearest token among the in-mask tokens of training cases of its own class. Uniqueness: assignments are
 * made greedily by distance so that no two prototypes take the same (case, token), and a case is reused only
 * when a class has fewer cases than prototypes.
 */
export function pushPrototypes(net: PrototypeMambaNet, cases: PmnCase[], cache: CachedFeatures): PushedPrototype[] {
  const P = net.config.dModel;
  const L = net.grid[0] * net.grid[1] * net.grid[2];
  const protos = net.prototypeVectors.detach().contiguous().toArray() as Float32Array;
  const K = net.prototypeClass.length;
  // Best token per (prototype, case), over own-class cases and in-mask tokens.
  type Candidate = { j: number; i: number; t: number; d: number };
  const candidates: Candidate[] = [];
  const distance = (i: number, t: number, j: number) => {
    const f = cache.features[i]!;
    let s = 0;
    for (let p = 0; p < P; p++) s += (f[t * P + p]! - protos[j * P + p]!) ** 2;
    return s;
  };
  for (let j = 0; j < K; j++) {
    cases.forEach((c, i) => {
      if (c.label !== net.prototypeClass[j]) return;
      for (let t = 0; t < L; t++) if (cache.masks[i]![t]) candidates.push({ j, i, t, d: distance(i, t, j) });
    });
  }
  candidates.sort((a, b) => a.d - b.d || a.j - b.j || a.i - b.i || a.t - b.t);
  const assigned = new Map<number, Candidate>();
  const usedTokens = new Set<string>();
  for (const allowSameCase of [false, true]) {
    const usedCases = new Set([...assigned.values()].map((c) => c.i));
    for (const c of candidates) {
      if (assigned.has(c.j) || usedTokens.has(`${c.i}:${c.t}`) || (!allowSameCase && usedCases.has(c.i))) continue;
      assigned.set(c.j, c);
      usedTokens.add(`${c.i}:${c.t}`);
      usedCases.add(c.i);
    }
  }
  const [gx, gy] = net.grid;
  const result: PushedPrototype[] = [];
  const next = Float32Array.from(protos);
  for (let j = 0; j < K; j++) {
    const c = assigned.get(j);
    if (!c) continue; // no training case of this class: the prototype keeps its learnt value
    next.set(cache.features[c.i]!.subarray(c.t * P, (c.t + 1) * P), j * P);
    const tx = c.t % gx;
    const ty = Math.floor(c.t / gx) % gy;
    const tz = Math.floor(c.t / (gx * gy));
    const [sx, sy, sz] = TOKEN_STRIDE;
    // Boxes are in the stored crop's voxels: the input is its central part.
    const [ox, oy, oz] = centreOffset(net.config, loadCrop(cases[c.i]!.crop).size);
    result.push({
      prototype: j,
      class: net.prototypeClass[j]!,
      caseId: cases[c.i]!.id,
      token: c.t,
      tokenXyz: [tx, ty, tz],
      box: [ox + tx * sx, oy + ty * sy, oz + tz * sz, ox + (tx + 1) * sx, oy + (ty + 1) * sy, oz + (tz + 1) * sz],
      distance: c.d,
    });
  }
  torch.noGrad(() => net.prototypeVectors.copy_(torch.tidy(() => torch.fromArray(next, [K, P]))));
  return result;
}

/** Log-similarity vectors [n, K] of cached features under the current prototypes. */
export function similarities(net: PrototypeMambaNet, cache: CachedFeatures): Tensor {
  const L = net.grid[0] * net.grid[1] * net.grid[2];
  const n = cache.features.length;
  const f = torch.fromArray(concat(cache.features), [n, L, net.config.dModel]);
  const m = torch.fromArray(concat(cache.masks), [n, L]);
  return torch.noGrad(() => net.head(f, m).similarity);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The last-layer stage after a push: W_cls and w_cox refitted on cached similarity vectors of the whole
 * training set (full batch, Adam), CE_w + λ·Cox + l1·(off-class |W| + |w_cox|). Convex in the weights.
 */
export async function fitLastLayer(
  net: PrototypeMambaNet,
  resection: { sim: Tensor; labels: number[] },
  iat: { sim: Tensor; time: number[]; event: number[] } | null,
  options: { steps: number; lr: number; cox: number; l1: number },
): Promise<void> {
  const w = net.last_layer.weight.detach().clone().requiresGrad_();
  const v = net.cox_head.weight.detach().clone().requiresGrad_();
  const opt = new torch.optim.Adam([w, v], { lr: options.lr });
  const weights = classWeights(resection.labels);
  for (let step = 0; step < options.steps; step++) {
    torch.tidy(() => {
      opt.zeroGrad();
      let loss = weightedCrossEntropy(resection.sim.matmul(w.t()), resection.labels, weights).add(lastLayerL1(w, v, net.prototypeClass).mul(options.l1));
      if (iat) loss = loss.add(coxBreslowLoss(iat.sim.matmul(v.t()).squeeze(-1), iat.time, iat.event).mul(options.cox));
      loss.backward();
      opt.step();
    });
    if (step % 50 === 49) await torch.yieldToEventLoop();
  }
  torch.noGrad(() => {
    net.last_layer.weight.copy_(w);
    net.cox_head.weight.copy_(v);
  });
  opt.dispose();
  w.dispose();
  v.dispose();
}
