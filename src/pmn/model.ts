import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { HccError } from '../util/errors.js';
import { tokenGrid, TOKEN_STRIDE, type PmnConfig } from './config.js';

const { nn, F } = torch;

/**
 * Token orders for the bidirectional scans (pmn-design.md §5.2): the patch grid [z, y, x] flattened with x, y
 * or z fastest. `perm[i]` is the raster (x-fastest) index of the i-th token in that order; `inv` undoes it.
 * `axes` lists the grid axes (0 = z, 1 = y, 2 = x) from slowest to fastest, which is how the model applies the
 * order: as a permutation of the grid's axes, not as an index gather.
 */
export interface ScanOrder {
  grid: [number, number, number];
  axes: [number, number, number];
  perm: number[];
  inv: number[];
}

const ORDER_AXES: Array<[number, number, number]> = [[0, 1, 2], [0, 2, 1], [1, 2, 0]];

export function scanOrder(grid: [number, number, number], order: number): ScanOrder {
  const [nx, ny, nz] = grid;
  const perm: number[] = [];
  const at = (x: number, y: number, z: number) => x + nx * (y + ny * z);
  if (order === 0) for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) perm.push(at(x, y, z));
  else if (order === 1) for (let z = 0; z < nz; z++) for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) perm.push(at(x, y, z));
  else for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) for (let z = 0; z < nz; z++) perm.push(at(x, y, z));
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return { grid, axes: ORDER_AXES[order]!, perm, inv };
}

/**
 * Raster tokens [B, L, C] in the scan order: x.indexSelect(1, perm), done as a permutation of the grid axes. Its
 * backward is another permute; an index gather's is index_add_, which libtorch 1.13 runs one token at a time.
 */
export function toScanOrder(x: Tensor, order: ScanOrder): Tensor {
  const [nx, ny, nz] = order.grid;
  const [b, l, c] = x.shape as [number, number, number];
  if (order.axes[0] === 0 && order.axes[1] === 1) return x;
  return x.reshape([b, nz, ny, nx, c]).permute([0, ...order.axes.map((a) => a + 1), 4]).reshape([b, l, c]);
}

/** Tokens [B, L, C] in the scan order back in raster order: y.indexSelect(1, inv). */
export function fromScanOrder(y: Tensor, order: ScanOrder): Tensor {
  const [nx, ny, nz] = order.grid;
  const [b, l, c] = y.shape as [number, number, number];
  if (order.axes[0] === 0 && order.axes[1] === 1) return y;
  const size = [nz, ny, nx];
  const back = [0, 0, 0];
  order.axes.forEach((a, i) => (back[a] = i));
  return y.reshape([b, ...order.axes.map((a) => size[a]!), c]).permute([0, ...back.map((i) => i + 1), 4]).reshape([b, l, c]);
}

/** Mamba's S4D-real A, unit D and inverse-softplus dt bias (mamba_simple.py). */
function mambaDirection(mixer: BiMamba, suffix: '' | '_b', dInner: number, dState: number, dtRank: number): void {
  mixer.registerModule(`conv1d${suffix}`, new nn.Conv1d(dInner, dInner, 4, { groups: dInner, padding: 3 }));
  mixer.registerModule(`x_proj${suffix}`, new nn.Linear(dInner, dtRank + 2 * dState, { bias: false }));
  const dtProj = mixer.registerModule(`dt_proj${suffix}`, new nn.Linear(dtRank, dInner));
  torch.noGrad(() => {
    const std = dtRank ** -0.5;
    dtProj.weight.uniform_(-std, std);
    // dt = exp(U[log 1e-3, log 1e-1]) clamped at 1e-4, stored as its inverse softplus.
    const dt = torch.tidy(() => torch.rand([dInner]).mul(Math.log(1e-1) - Math.log(1e-3)).add(Math.log(1e-3)).exp().clampMin(1e-4));
    dtProj.bias!.copy_(torch.tidy(() => dt.add(dt.neg().expm1().neg().log())));
    dt.dispose();
  });
  const aLog = torch.tidy(() => torch.arange(1, dState + 1, 1, { dtype: 'float32' }).log().unsqueeze(0).repeat([dInner, 1]).contiguous());
  mixer.registerParameter(suffix === '' ? 'A_log' : 'A_b_log', aLog);
  mixer.registerParameter(suffix === '' ? 'D' : 'D_b', torch.ones([dInner]));
}

/**
 * Vim-v2 bidirectional Mamba mixer: in_proj and out_proj shared, each direction its own causal conv, x_proj,
 * dt_proj, A_log and D. The causal depthwise conv + SiLU is the binding's causalConv1d op (grouped Conv1d is slow
 * on CPU, §6, and shifted multiply-adds cost 35 ms of CPU per direction at batch 8, mostly in their backward),
 * with Conv1d's parameter layout so the state dict matches mamba_ssm's.
 */
export class BiMamba extends nn.Module<[Tensor, ScanOrder]> {
  readonly dInner: number;
  readonly dtRank: number;
  /** The scan op; replaceable so a block can be checked against selectiveScanReference or timed. */
  scan: typeof torch.selectiveScan = torch.selectiveScan;
  constructor(readonly dModel: number, readonly dState: number, expand: number, readonly dConv: number, nLayer: number) {
    super();
    this.dInner = expand * dModel;
    this.dtRank = Math.ceil(dModel / 16);
    this.registerModule('in_proj', new nn.Linear(dModel, 2 * this.dInner, { bias: false }));
    mambaDirection(this, '', this.dInner, dState, this.dtRank);
    mambaDirection(this, '_b', this.dInner, dState, this.dtRank);
    const out = this.registerModule('out_proj', new nn.Linear(this.dInner, dModel, { bias: false }));
    torch.noGrad(() => out.weight.div_(Math.sqrt(nLayer)));
  }

  private child<M>(name: string): M {
    for (const [n, m] of this.namedChildren()) if (n === name) return m as M;
    throw new Error(`BiMamba: no child ${name}`);
  }

  private direction(x: Tensor, z: Tensor, suffix: '' | '_b'): Tensor {
    const conv = this.child<torch.nn.Conv1d>(`conv1d${suffix}`);
    const xc = torch.causalConv1d(x, conv.weight, conv.bias, { activation: 'silu' });
    const xDbl = this.child<torch.nn.Linear>(`x_proj${suffix}`).forward(xc);
    const [dt, B, C] = xDbl.splitWithSizes([this.dtRank, this.dState, this.dState], -1);
    const dtProj = this.child<torch.nn.Linear>(`dt_proj${suffix}`);
    const delta = F.linear(dt!, dtProj.weight);
    const A = this.param(suffix === '' ? 'A_log' : 'A_b_log')!.exp().neg();
    return this.scan(xc, delta, A, B!.contiguous(), C!.contiguous(), {
      D: this.param(suffix === '' ? 'D' : 'D_b'),
      z,
      deltaBias: dtProj.bias,
    });
  }

  /**
   * x: [B, L, d_model] in raster order. Both directions run in the block's scan order (the reverse one on the
   * flipped sequence); out_proj acts per token, so it is applied before the tokens go back to raster order.
   */
  forward(x: Tensor, order: ScanOrder): Tensor {
    const xz = this.child<torch.nn.Linear>('in_proj').forward(toScanOrder(x, order));
    const [xi, z] = xz.chunk(2, -1);
    const [xiR, zR] = xz.flip([1]).chunk(2, -1);
    const yF = this.direction(xi!, z!, '');
    const yR = this.direction(xiR!, zR!, '_b').flip([1]);
    return fromScanOrder(this.child<torch.nn.Linear>('out_proj').forward(yF.add(yR).mul(0.5)), order);
  }
}

/** Pre-norm residual block: x + BiMamba(LN(x)). */
export class MambaBlock extends nn.Module<[Tensor, ScanOrder]> {
  readonly norm: torch.nn.LayerNorm;
  readonly mixer: BiMamba;
  constructor(config: PmnConfig) {
    super();
    this.norm = this.registerModule('norm', new nn.LayerNorm(config.dModel));
    this.mixer = this.registerModule('mixer', new BiMamba(config.dModel, config.dState, config.expand, config.dConv, config.depth));
  }
  forward(x: Tensor, order: ScanOrder): Tensor {
    return x.add(this.mixer.forward(this.norm.forward(x), order));
  }
}

export interface PmnOutput {
  /** [B, 2] class logits (column 1: proliferative). */
  logits: Tensor;
  /** [B] Cox risk (log hazard ratio, higher = worse). */
  risk: Tensor;
  /** [B, K] log-similarities. */
  similarity: Tensor;
  /** [B, K] masked min distances (the mean of the k nearest with similarityTopK k) and [B, K] the nearest token. */
  minDistance: Tensor;
  argmin: Tensor;
  /** [B, L, P] bounded token features and [B, L] the token mask (1 = allowed for matching). */
  features: Tensor;
  tokenMask: Tensor;
  /** [B, L, K] masked squared distances. */
  distances: Tensor;
}

/**
 * PMN-S (pmn-design.md §0): conv stem, patch embedding, BiMamba blocks with scan orders cycling x-, y-, z-fastest,
 * a sigmoid add-on, a prototype layer matched only inside the dilated tumour token mask, and two bias-free heads
 * on the log-similarities: the class logits and the Cox risk.
 */
export class PrototypeMambaNet extends nn.Module<[Tensor], PmnOutput & { tokens: Tensor }> {
  readonly stem: torch.nn.Sequential;
  readonly patch_embed: torch.nn.Conv3d;
  readonly layers: torch.nn.ModuleList<MambaBlock>;
  readonly norm_f: torch.nn.LayerNorm;
  readonly add_on: torch.nn.Sequential;
  readonly last_layer: torch.nn.Linear;
  readonly cox_head: torch.nn.Linear;
  readonly grid: [number, number, number];
  readonly orders: ScanOrder[];
  /** The class of prototype j: j < K/2 non-proliferative, the rest proliferative. */
  readonly prototypeClass: number[];
  /** Squared-distance ceiling: features live in (0,1)^P. */
  readonly maxDist: number;

  constructor(readonly config: PmnConfig) {
    super();
    const [c1, c2] = config.stemChannels;
    const d = config.dModel;
    for (let a = 0; a < 3; a++) {
      if (config.inputSize[a]! % TOKEN_STRIDE[a]! !== 0) throw new Error(`PMN config: inputSize ${config.inputSize.join('x')} must be a multiple of ${TOKEN_STRIDE.join('x')}`);
    }
    this.stem = this.registerModule('stem', new nn.Sequential(
      new nn.Conv3d(config.inChannels, c1, 3, { stride: [1, 2, 2], padding: 1 }), new nn.GroupNorm(Math.max(1, c1 / 4), c1), new nn.GELU(),
      new nn.Conv3d(c1, c2, 3, { stride: 2, padding: 1 }), new nn.GroupNorm(Math.max(1, c2 / 4), c2), new nn.GELU(),
    ));
    this.patch_embed = this.registerModule('patch_embed', new nn.Conv3d(c2, d, 2, { stride: 2 }));
    this.layers = this.registerModule('layers', new nn.ModuleList(Array.from({ length: config.depth }, () => new MambaBlock(config))));
    this.norm_f = this.registerModule('norm_f', new nn.LayerNorm(d));
    this.add_on = this.registerModule('add_on', new nn.Sequential(new nn.Linear(d, d), new nn.ReLU(), new nn.Linear(d, d)));
    const k = 2 * config.prototypesPerClass;
    this.registerParameter('prototype_vectors', torch.rand([k, d]));
    this.last_layer = this.registerModule('last_layer', new nn.Linear(k, 2, { bias: false }));
    this.cox_head = this.registerModule('cox_head', new nn.Linear(k, 1, { bias: false }));
    this.prototypeClass = Array.from({ length: k }, (_, j) => (j < config.prototypesPerClass ? 0 : 1));
    torch.noGrad(() => {
      const w = torch.tensor([0, 1].map((c) => this.prototypeClass.map((pc) => (pc === c ? 1 : -0.5))));
      this.last_layer.weight.copy_(w);
      w.dispose();
      this.cox_head.weight.zero_();
    });
    this.maxDist = d;
    this.grid = tokenGrid(config);
    this.orders = [0, 1, 2].map((o) => scanOrder(this.grid, o));
  }

  get prototypeVectors(): Tensor {
    return this.param('prototype_vectors')!;
  }

  /** Bounded token features [B, L, P] from the input [B, C, Z, Y, X]. */
  features(input: Tensor): Tensor {
    return this.boundedFeatures(this.tokens(input));
  }

  /** The backbone's normalised tokens [B, L, d_model] (before the add-on), from the input [B, C, Z, Y, X]. */
  tokens(input: Tensor): Tensor {
    const expected = [this.config.inChannels, this.config.inputSize[2], this.config.inputSize[1], this.config.inputSize[0]];
    if (input.ndim !== 5 || input.shape.slice(1).some((s, i) => s !== expected[i])) {
      throw new HccError(`PMN: input shape [${input.shape.join(', ')}] does not match the model's [B, ${expected.join(', ')}] (channels, z, y, x)`);
    }
    let x = this.patch_embed.forward(this.stem.forward(input)).flatten(2).transpose(1, 2);
    for (let i = 0; i < this.layers.length; i++) {
      const o = this.orders[i % 3]!;
      x = this.layers.at(i).forward(x, o);
    }
    return this.norm_f.forward(x);
  }

  private boundedFeatures(tokens: Tensor): Tensor {
    return this.add_on.forward(tokens).sigmoid();
  }

  /** The tumour mask channel pooled to tokens and dilated by one token; all tokens where it is empty. */
  tokenMask(input: Tensor): Tensor {
    const mask = input.narrow(1, 2, 1);
    const [sx, sy, sz] = TOKEN_STRIDE;
    let m = F.maxPool3d(mask, [sz, sy, sx], [sz, sy, sx]);
    m = F.maxPool3d(m, 3, 1, 1).flatten(1).gt(0.5).float();
    const empty = m.sum([1], true).eq(0);
    return torch.where(empty, torch.onesLike(m), m);
  }

  forward(input: Tensor): PmnOutput & { tokens: Tensor } {
    const tokens = this.tokens(input);
    return { ...this.head(this.boundedFeatures(tokens), this.tokenMask(input)), tokens };
  }

  /** Prototype layer and heads on given features (also used on cached features in the push). */
  head(features: Tensor, tokenMask: Tensor): PmnOutput {
    const p = this.prototypeVectors;
    const f2 = features.square().sum([-1], true);
    const p2 = p.square().sum([-1]).reshape([1, 1, -1]);
    const raw = f2.sub(features.matmul(p.t()).mul(2)).add(p2).clampMin(0);
    const m = tokenMask.unsqueeze(-1);
    const distances = raw.mul(m).add(m.rsub(1).mul(this.maxDist));
    const [nearest, argmin] = distances.minDim(1);
    // The top-k option averages the k smallest distances; argmin stays the nearest token (push, similarity maps).
    const k = Math.min(this.config.similarityTopK, distances.shape[1]!);
    const minDistance = k > 1 ? distances.topk(k, 1, false, false)[0]!.mean([1]) : nearest;
    const similarity = minDistance.add(1).div(minDistance.add(1e-4)).log();
    return {
      logits: this.last_layer.forward(similarity),
      risk: this.cox_head.forward(similarity).squeeze(-1),
      similarity,
      minDistance,
      argmin,
      features,
      tokenMask,
      distances,
    };
  }
}

