import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { createProgress } from '../util/progress.js';
import { HccError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { augmentSample, type AugmentOptions } from './augment.js';
import { perturbCascadeInput } from './cascade.js';
import { deepSupervisionLoss } from './loss.js';
import { inputChannels, type Plans, type ZYX } from './plans.js';
import type { PreprocessedCase } from './preprocess.js';
import { PlainConvUNet } from './unet.js';

/**
 * nnUNetTrainer on preprocessed cases held in memory: SGD (Nesterov, momentum 0.99, weight decay 3e-5) with a
 * poly schedule, Dc+CE with deep supervision, foreground oversampling (the last third of each batch), the
 * augmentations of augment.ts, gradient clipping at 12, a pseudo-Dice on validation patches each epoch with
 * its EMA, and a checkpoint after every epoch (written atomically) from which a killed run resumes
 * identically: every random draw of epoch e, iteration i comes from a stream keyed by (seed, fold, e, i).
 * As nnUNetTrainer.on_epoch_end, checkpoint_best.pth is written whenever the EMA of the pseudo-Dice
 * (0.9·previous + 0.1·this epoch's mean foreground Dice; the first epoch's Dice itself) beats the best so far;
 * the best value travels in every checkpoint as `_best_ema`, the EMA itself in `logging`.
 */

export interface TrainCase extends PreprocessedCase {
  id: string;
  /** The previous stage's liver on this case's grid, for a stage whose plans name a previous_stage (cascade.ts). */
  previous?: Uint8Array;
}

export interface TrainerOptions {
  epochs: number;
  itersPerEpoch: number;
  valIters: number;
  seed: number;
  fold: number;
  initialLr?: number;
  weightDecay?: number;
  oversampleForeground?: number;
  augment?: AugmentOptions;
  /** Stop after this many epochs in this run (the rest is left for --resume); for tests and time-boxing. */
  stopAfterEpochs?: number;
  resume?: boolean;
  progress?: boolean;
  /**
   * Where the network trains: 'cpu' (default) or 'cuda[:N]'. Patches are cut and augmented on the CPU as before
   * and moved per batch, and the weights start from the same CPU initialisation, so only rounding differs.
   */
  device?: string;
}

export interface EpochLog {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  /** Pseudo-Dice on validation patches, per foreground class. */
  pseudoDice: number[];
  emaPseudoDice: number;
  /** This epoch's EMA was the best so far, so checkpoint_best.pth holds the weights after this epoch. */
  newBest?: boolean;
  lr: number;
  seconds: number;
}

export interface TrainerResult {
  net: PlainConvUNet;
  log: EpochLog[];
  finished: boolean;
  checkpoint: string;
}

interface ClassLocations {
  /** Voxel indices (C order) per foreground class, at most 10 000 each, as nnU-Net's preprocessing samples. */
  perClass: Map<number, Int32Array>;
}

function classLocations(c: TrainCase, seed: number): ClassLocations {
  const perClass = new Map<number, Int32Array>();
  const byClass = new Map<number, number[]>();
  const labels = c.labels!;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l > 0) {
      let list = byClass.get(l);
      if (!list) byClass.set(l, (list = []));
      list.push(i);
    }
  }
  const rng = Rng.stream(seed, 'class-locations', c.id);
  for (const [l, list] of [...byClass].sort((a, b) => a[0] - b[0])) {
    if (list.length > 10000) rng.shuffle(list);
    perClass.set(l, Int32Array.from(list.slice(0, 10000)));
  }
  return { perClass };
}

/**
 * Crop [start, start + patch) from a case, zero outside: data, and as seg the labels followed by the previous
 * stage's mask when the case has one (so spatial augmentation moves both as segmentations, as nnU-Net's seg).
 */
function cropPatch(c: TrainCase, start: ZYX, patch: ZYX): { data: Float32Array; seg: Float32Array } {
  const [Z, Y, X] = c.shape;
  const [pz, py, px] = patch;
  const n = pz * py * px;
  const data = new Float32Array(c.channels.length * n);
  const seg = new Float32Array((c.previous ? 2 : 1) * n);
  for (let z = 0; z < pz; z++) {
    const sz = start[0] + z;
    if (sz < 0 || sz >= Z) continue;
    for (let y = 0; y < py; y++) {
      const sy = start[1] + y;
      if (sy < 0 || sy >= Y) continue;
      const x0 = Math.max(0, -start[2]), x1 = Math.min(px, X - start[2]);
      if (x1 <= x0) continue;
      const src = (sz * Y + sy) * X + start[2];
      const dst = (z * py + y) * px;
      c.channels.forEach((ch, ci) => data.set(ch.subarray(src + x0, src + x1), ci * n + dst + x0));
      for (let x = x0; x < x1; x++) seg[dst + x] = c.labels![src + x]!;
      if (c.previous) for (let x = x0; x < x1; x++) seg[n + dst + x] = c.previous[src + x]!;
    }
  }
  return { data, seg };
}

/** nnU-Net's patch placement: random within the padded range, or centred on a voxel of a random present class. */
function patchStart(c: TrainCase, loc: ClassLocations, patch: ZYX, forceFg: boolean, rng: Rng): ZYX {
  const need = c.shape.map((s, a) => Math.max(0, patch[a]! - s));
  const lbs = need.map((n) => -Math.floor(n / 2));
  const ubs = c.shape.map((s, a) => s + Math.floor(need[a]! / 2) + (need[a]! % 2) - patch[a]!);
  const classes = [...loc.perClass.keys()];
  if (forceFg && classes.length) {
    const cls = classes[rng.int(classes.length)]!;
    const voxels = loc.perClass.get(cls)!;
    const v = voxels[rng.int(voxels.length)]!;
    const [, Y, X] = c.shape;
    const pos = [Math.floor(v / (Y * X)), Math.floor(v / X) % Y, v % X];
    return pos.map((p, a) => Math.min(ubs[a]!, Math.max(lbs[a]!, p - Math.floor(patch[a]! / 2)))) as ZYX;
  }
  return lbs.map((lb, a) => lb + rng.int(ubs[a]! - lb + 1)) as ZYX;
}

function makeBatch(cases: TrainCase[], locs: ClassLocations[], plans: Plans, rng: Rng, oversample: number, augment: AugmentOptions | null): { x: Tensor; y: Tensor } {
  const bs = plans.configuration.batch_size;
  const patch = plans.configuration.patch_size;
  const xs: Tensor[] = [];
  const ys: Tensor[] = [];
  for (let j = 0; j < bs; j++) {
    const ci = rng.int(cases.length);
    const forceFg = j >= Math.round(bs * (1 - oversample));
    const start = patchStart(cases[ci]!, locs[ci]!, patch, forceFg, rng);
    const c = cases[ci]!;
    if (plans.configuration.previous_stage && !c.previous) throw new HccError(`case ${c.id}: the stage takes the ${plans.configuration.previous_stage} stage's output, which the case lacks`);
    const { data, seg } = cropPatch(c, start, patch);
    let x = torch.fromArray(data, [1, c.channels.length, ...patch]);
    let y = torch.fromArray(seg, [1, c.previous ? 2 : 1, ...patch]);
    if (augment) [x, y] = augmentSample(x, y, rng, augment);
    if (c.previous) {
      // nnU-Net moves the previous stage's seg into the data after the image augmentations, then perturbs it
      // (training only: its validation transforms leave it as it is).
      let prev: Uint8Array = Uint8Array.from(y.select(1, 1).contiguous().toArray() as Float32Array, (v) => (v > 0.5 ? 1 : 0));
      if (augment) prev = perturbCascadeInput(prev, patch, rng);
      x = torch.cat([x, torch.fromArray(Float32Array.from(prev), [1, 1, ...patch])], 1);
      y = y.narrow(1, 0, 1);
    }
    xs.push(x);
    ys.push(y);
  }
  return { x: torch.cat(xs, 0), y: torch.cat(ys, 0).squeeze(1).round().to('int64') };
}

function clipGradNorm(params: Tensor[], maxNorm: number): void {
  torch.tidy(() => torch.noGrad(() => {
    let sq = 0;
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    for (const g of grads) sq += g.pow(2).sum().item();
    const norm = Math.sqrt(sq);
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
  }));
}

/** True positives, false positives and false negatives per foreground class (argmax of the full-res output). */
function confusion(logits: Tensor, target: Tensor, K: number): number[][] {
  const pred = logits.argmax(1);
  const out: number[][] = [];
  for (let k = 1; k < K; k++) {
    const p = pred.eq(k), t = target.eq(k);
    const tp = p.logicalAnd(t).sum().item();
    out.push([tp, p.sum().item() - tp, t.sum().item() - tp]);
  }
  return out;
}

export function buildNetwork(plans: Plans, deepSupervision: boolean): PlainConvUNet {
  const K = Object.keys(plans.labels).length;
  return new PlainConvUNet(inputChannels(plans), K, plans.configuration.architecture.arch_kwargs, deepSupervision);
}

export async function trainFold(foldDir: string, plans: Plans, train: TrainCase[], val: TrainCase[], options: TrainerOptions): Promise<TrainerResult> {
  if (train.length === 0) throw new HccError(`fold ${options.fold}: no training cases`);
  mkdirSync(foldDir, { recursive: true });
  const latest = join(foldDir, 'checkpoint_latest.pth');
  const final = join(foldDir, 'checkpoint_final.pth');
  const best = join(foldDir, 'checkpoint_best.pth');
  const K = Object.keys(plans.labels).length;
  const lr0 = options.initialLr ?? 1e-2;
  const oversample = options.oversampleForeground ?? 0.33;
  torch.manualSeed(Rng.stream(options.seed, 'init', options.fold).nextUint32());
  const device = options.device ?? 'cpu';
  const net = buildNetwork(plans, true).initialize();
  if (device !== 'cpu') net.to(device);
  const params = net.parameters();
  const batchOn = (b: { x: Tensor; y: Tensor }) => (device === 'cpu' ? b : { x: b.x.to(device), y: b.y.to(device) });
  const opt = new torch.optim.SGD(params, { lr: lr0, momentum: 0.99, nesterov: true, weightDecay: options.weightDecay ?? 3e-5 });
  let log: EpochLog[] = [];
  let startEpoch = 0;
  let ema = 0;
  let bestEma: number | null = null;
  // Resume from the latest checkpoint, or from the final one when more epochs are asked for than it has.
  const resumeFrom = !options.resume ? null : existsSync(latest) ? latest : existsSync(final) ? final : null;
  if (resumeFrom) {
    let ck: Record<string, any>;
    try {
      ck = torch.load(resumeFrom) as Record<string, any>;
    } catch (e) {
      throw new HccError(`${resumeFrom}: cannot resume from this checkpoint (${(e as Error).message}); delete it to start the fold again`);
    }
    if (resumeFrom === final && Number(ck.current_epoch) >= options.epochs) {
      net.loadStateDict(ck.network_weights);
      return { net, log: ck.logging?.epochs ?? [], finished: true, checkpoint: final };
    }
    net.loadStateDict(ck.network_weights);
    opt.loadStateDict(ck.optimizer_state);
    startEpoch = Number(ck.current_epoch);
    log = ck.logging?.epochs ?? [];
    // nnU-Net keeps the EMA in its logger and only the best value in _best_ema.
    ema = log.at(-1)?.emaPseudoDice ?? 0;
    bestEma = ck._best_ema === undefined || ck._best_ema === null ? null : Number(ck._best_ema);
  }
  const sched = new torch.optim.PolyLRScheduler(opt, lr0, options.epochs, 0.9, startEpoch);
  const trainLocs = train.map((c) => classLocations(c, options.seed));
  const valLocs = val.map((c) => classLocations(c, options.seed));
  const total = options.epochs * options.itersPerEpoch;
  const progress = options.progress === false ? null : createProgress({ label: `train fold ${options.fold}`, total, unit: 'iter' });
  progress?.update(startEpoch * options.itersPerEpoch);
  const stopAt = options.stopAfterEpochs === undefined ? options.epochs : Math.min(options.epochs, startEpoch + options.stopAfterEpochs);
  for (let epoch = startEpoch; epoch < stopAt; epoch++) {
    const t0 = performance.now();
    const lr = opt.paramGroups[0]!.lr;
    net.train();
    net.deepSupervision = true;
    let lossSum = 0;
    for (let it = 0; it < options.itersPerEpoch; it++) {
      const rng = Rng.stream(options.seed, 'train', options.fold, epoch, it);
      torch.manualSeed(rng.nextUint32());
      const loss = torch.tidy(() => {
        const { x, y } = batchOn(makeBatch(train, trainLocs, plans, rng, oversample, options.augment ?? {}));
        opt.zeroGrad();
        const l = deepSupervisionLoss(net.forward(x), y, plans.configuration.batch_dice);
        l.backward();
        clipGradNorm(params, 12);
        opt.step();
        return l.item();
      });
      lossSum += loss;
      progress?.tick(1, `epoch ${epoch + 1}/${options.epochs} loss ${loss.toFixed(3)} dice ${ema.toFixed(3)}`);
      await torch.yieldToEventLoop();
    }
    net.eval();
    const tpfpfn = Array.from({ length: K - 1 }, () => [0, 0, 0]);
    let valLoss = 0;
    const valSet = val.length ? val : train;
    const valSetLocs = val.length ? valLocs : trainLocs;
    for (let it = 0; it < options.valIters; it++) {
      const rng = Rng.stream(options.seed, 'val', options.fold, epoch, it);
      valLoss += torch.tidy(() => torch.noGrad(() => {
        const { x, y } = batchOn(makeBatch(valSet, valSetLocs, plans, rng, oversample, null));
        const out = net.forward(x);
        confusion(out[0]!, y, K).forEach((c, k) => c.forEach((v, i) => (tpfpfn[k]![i]! += v)));
        return deepSupervisionLoss(out, y, plans.configuration.batch_dice).item();
      }));
    }
    const pseudoDice = tpfpfn.map(([tp, fp, fn]) => (tp! + fp! + fn! === 0 ? NaN : (2 * tp!) / (2 * tp! + fp! + fn!)));
    const meanDice = pseudoDice.filter((d) => !Number.isNaN(d)).reduce((a, b, _, arr) => a + b / arr.length, 0);
    ema = log.length === 0 ? meanDice : 0.9 * ema + 0.1 * meanDice;
    const newBest = bestEma === null || ema > bestEma;
    if (newBest) bestEma = ema;
    sched.step();
    log.push({
      epoch, trainLoss: lossSum / options.itersPerEpoch, valLoss: valLoss / Math.max(1, options.valIters),
      pseudoDice, emaPseudoDice: ema, newBest, lr, seconds: (performance.now() - t0) / 1000,
    });
    // Best before latest: a kill between the two repeats this epoch, which rewrites the same best checkpoint.
    if (newBest) saveCheckpoint(best, net, opt, epoch + 1, log, bestEma!, plans, options);
    saveCheckpoint(latest, net, opt, epoch + 1, log, bestEma!, plans, options);
  }
  const finished = stopAt >= options.epochs;
  progress?.done(finished ? `EMA pseudo-Dice ${ema.toFixed(3)}` : `stopped after epoch ${stopAt}`);
  if (finished) renameSync(latest, final);
  return { net, log, finished, checkpoint: finished ? final : latest };
}

function saveCheckpoint(path: string, net: PlainConvUNet, opt: InstanceType<typeof torch.optim.SGD>, nextEpoch: number, log: EpochLog[], bestEma: number, plans: Plans, options: TrainerOptions): void {
  const mirrorAxes = options.augment?.mirrorAxes ?? [0, 1, 2];
  torch.tidy(() => {
    torch.save({
      network_weights: net.stateDict(),
      optimizer_state: opt.stateDict(),
      grad_scaler_state: null,
      logging: { epochs: log },
      _best_ema: bestEma,
      current_epoch: nextEpoch,
      init_args: { plans, configuration: '3d_fullres', fold: options.fold },
      trainer_name: 'hccTrainer',
      // nnU-Net's NoMirroring trainers store None: a model trained without flips must not be tested with them.
      inference_allowed_mirroring_axes: mirrorAxes.length ? mirrorAxes : null,
    } as any, path);
  });
}
