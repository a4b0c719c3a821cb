import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { HccError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { chunks, inputBatch, stratifiedOrder, type PmnCase } from './batches.js';
import { loadCrop } from './crop-store.js';
import { DEFAULT_CONFIG, trainingConfig, type PmnConfig, type TrainingConfig } from './config.js';
import { liverStatistics, type Normalisation } from './input.js';
import { classWeights, clusterSeparation, coxBreslowLoss, diversityLoss, weightedCrossEntropy } from './losses.js';
import { writePrototypePatches } from './explain.js';
import { PrototypeMambaNet } from './model.js';
import { saveModel, type PmnModelJson } from './model-store.js';
import { computeFeatures, fitLastLayer, pushPrototypes, similarities, type PushedPrototype } from './push.js';
import { radiomicsAuxLoss, radiomicsTargets } from './radiomics-aux.js';

export interface TrainOptions {
  config?: Partial<PmnConfig>;
  training?: Partial<TrainingConfig>;
  /** Continue from `<out>/checkpoint.pth` when it exists. */
  resume?: boolean;
  provenance?: Record<string, unknown>;
  /** Progress on stderr (default true). */
  progress?: boolean;
  /** Called after each epoch (once its checkpoint is written) with the mean losses. */
  onEpoch?: (epoch: number, losses: Record<string, number>) => void;
}

export interface TrainResult {
  model: PmnModelJson;
  dir: string;
  epochs: Array<Record<string, number>>;
  seconds: number;
}

function checkCases(resection: PmnCase[], iat: PmnCase[]): void {
  if (resection.length < 2) throw new HccError(`PMN training needs at least 2 resection cases, got ${resection.length}`);
  for (const c of resection) if (c.label !== 0 && c.label !== 1) throw new HccError(`resection case ${c.id}: proliferative label must be 0 or 1, got ${c.label}`);
  for (const c of iat) {
    if (!(typeof c.time === 'number' && c.time > 0) || (c.event !== 0 && c.event !== 1)) throw new HccError(`iat case ${c.id}: needs os_months > 0 and os_event 0/1, got ${c.time}/${c.event}`);
  }
}

/** Rescales all gradients so their joint L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_). */
function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return torch.tidy(() => torch.noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    const total = Math.sqrt(grads.reduce((a, g) => a + g.square().sum().item(), 0));
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    return total;
  }));
}

/** AdamW groups (pmn-design.md §5.5): decay on weight matrices and kernels; none on A_log, D, biases, norms; prototypes at their own rate. */
function parameterGroups(net: PrototypeMambaNet, t: TrainingConfig) {
  const split = torch.optim.splitWeightDecay(net, t.weightDecay, [/A(_b)?_log$/, 'prototype_vectors']);
  const proto = net.prototypeVectors;
  return [
    { params: split.decay.params, lr: t.lr, weightDecay: t.weightDecay },
    { params: split.noDecay.params.filter((p) => p !== proto), lr: t.lr, weightDecay: 0 },
    { params: [proto], lr: t.prototypeLr, weightDecay: 0 },
  ];
}

interface Checkpoint {
  network_weights: Record<string, Tensor>;
  aux_weights?: Record<string, Tensor>;
  optimizer_state: unknown;
  epoch: number;
  history: string;
}

/**
 * Trains the PMN (pmn-design.md §5.5) on training cases only: multitask steps pair a stratified resection batch
 * (CE_w + clst·Clst − sep·Sep) with an event-stratified iat batch (λ·Cox), AdamW with warm-up and cosine,
 * augmentation, pushes at the set epochs followed by a last-layer refit, and always a final push + refit, so
 * the saved model is the post-push one. A checkpoint is written atomically after every epoch; `resume`
 * continues from it with the same result as an uninterrupted run (per-epoch random streams).
 */
export async function trainPmn(resection: PmnCase[], iat: PmnCase[], out: string, options: TrainOptions = {}): Promise<TrainResult> {
  checkCases(resection, iat);
  const config: PmnConfig = { ...DEFAULT_CONFIG, ...options.config };
  const t: TrainingConfig = trainingConfig(options.training);
  const started = Date.now();
  mkdirSync(out, { recursive: true });
  const checkpointPath = join(out, 'checkpoint.pth');

  const norm: Normalisation = liverStatistics((function* () {
    for (const c of resection) yield loadCrop(c.crop);
  })(), config.clipHu);
  const labels = resection.map((c) => c.label!);
  const weights = classWeights(labels);

  torch.manualSeed(t.seed);
  const net = new PrototypeMambaNet(config);
  // The auxiliary head is training-only: it lives in the checkpoint (for resume), never in the saved model.
  const aux = t.radiomicsAux > 0 ? radiomicsTargets([...resection, ...iat]) : null;
  const auxHead = aux ? new torch.nn.Linear(config.dModel, aux.names.length) : null;
  const groups = parameterGroups(net, t);
  if (auxHead) groups.push({ params: auxHead.parameters(), lr: t.lr, weightDecay: t.weightDecay });
  const opt = new torch.optim.AdamW(groups, { lr: t.lr, betas: [0.9, 0.999], weightDecay: t.weightDecay });
  let startEpoch = 0;
  let history: Array<Record<string, number>> = [];
  let pushed: PushedPrototype[] = [];
  if (options.resume && existsSync(checkpointPath)) {
    const ck = torch.load(checkpointPath) as unknown as Checkpoint;
    if (Boolean(auxHead) !== Boolean(ck.aux_weights)) {
      throw new HccError(`${checkpointPath}: written ${ck.aux_weights ? 'with' : 'without'} the radiomics auxiliary task, which this run turns ${auxHead ? 'on' : 'off'} (training.radiomicsAux ${t.radiomicsAux}); resume with the same training config`);
    }
    net.loadStateDict(ck.network_weights);
    if (auxHead) {
      auxHead.loadStateDict(ck.aux_weights!);
      torch.dispose(ck.aux_weights!);
    }
    opt.loadStateDict(ck.optimizer_state as never);
    torch.dispose(ck.network_weights);
    startEpoch = ck.epoch;
    ({ history, pushed } = JSON.parse(ck.history) as { history: typeof history; pushed: PushedPrototype[] });
  }
  const schedule = new torch.optim.WarmupCosineLR(opt, Math.min(t.warmupEpochs, t.epochs - 1), t.epochs, t.minLr, startEpoch - 1);
  const params = auxHead ? [...net.parameters(), ...auxHead.parameters()] : net.parameters();
  const stepsPerEpoch = Math.ceil(resection.length / t.batchSize);
  const progress = createProgress({ label: 'train pmn', total: t.epochs * stepsPerEpoch, unit: 'steps', mode: options.progress === false ? 'none' : undefined });
  progress.update(startEpoch * stepsPerEpoch);

  const pushAndRefit = async () => {
    net.eval();
    const cache = await computeFeatures(net, resection, norm, t.batchSize);
    pushed = pushPrototypes(net, resection, cache);
    const resSim = torch.keep(similarities(net, cache));
    let iatPart: { sim: Tensor; time: number[]; event: number[] } | null = null;
    if (iat.length > 0) {
      const iatSim = torch.keep(similarities(net, await computeFeatures(net, iat, norm, t.batchSize)));
      iatPart = { sim: iatSim, time: iat.map((c) => c.time!), event: iat.map((c) => c.event!) };
    }
    await fitLastLayer(net, { sim: resSim, labels }, iatPart, { steps: t.lastLayerSteps, lr: t.lastLayerLr, cox: t.cox, l1: t.l1 });
    resSim.dispose();
    iatPart?.sim.dispose();
    net.train();
  };

  for (let epoch = startEpoch; epoch < t.epochs; epoch++) {
    net.train();
    const rng = Rng.stream(t.seed, 'pmn-epoch', epoch);
    const order = stratifiedOrder(resection, (c) => String(c.label), rng);
    const iatOrder = iat.length ? stratifiedOrder(iat, (c) => String(c.event), rng) : [];
    const sums: Record<string, number> = { loss: 0, ce: 0, cluster: 0, separation: 0, cox: 0, ...(aux ? { radiomics: 0 } : {}) };
    const batches = chunks(order, t.batchSize);
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b]!;
      const iatBatch = iatOrder.length ? Array.from({ length: t.batchSize }, (_, k) => iatOrder[(b * t.batchSize + k) % iatOrder.length]!) : [];
      const parts = torch.tidy(() => {
        opt.zeroGrad();
        const y = batch.map((c) => c.label!);
        const o = net.forward(inputBatch(batch, norm, config, t.augment ? rng : null, t.augmentation));
        const ce = weightedCrossEntropy(o.logits, y, weights);
        const { cluster, separation } = clusterSeparation(o.minDistance, y, net.prototypeClass, net.maxDist, weights);
        let loss = ce.add(cluster.mul(t.clst)).sub(separation.mul(t.sep));
        if (t.div > 0) loss = loss.add(diversityLoss(net.prototypeVectors, net.prototypeClass, 0.1 * config.dModel).mul(t.div));
        let auxLoss = auxHead ? radiomicsAuxLoss(auxHead, o.tokens, o.tokenMask, batch.map((c) => aux!.byId.get(c.id)!)) : null;
        let cox = 0;
        if (iatBatch.length) {
          const oi = net.forward(inputBatch(iatBatch, norm, config, t.augment ? rng : null, t.augmentation));
          const c = coxBreslowLoss(oi.risk, iatBatch.map((x) => x.time!), iatBatch.map((x) => x.event!));
          loss = loss.add(c.mul(t.cox));
          cox = c.item();
          if (auxHead) auxLoss = auxLoss!.add(radiomicsAuxLoss(auxHead, oi.tokens, oi.tokenMask, iatBatch.map((c) => aux!.byId.get(c.id)!))).div(2);
        }
        if (auxLoss) loss = loss.add(auxLoss.mul(t.radiomicsAux));
        loss.backward();
        clipGradNorm(params, t.clipGrad);
        opt.step();
        return { loss: loss.item(), ce: ce.item(), cluster: cluster.item(), separation: separation.item(), cox, ...(auxLoss ? { radiomics: auxLoss.item() } : {}) };
      });
      for (const k of Object.keys(sums)) sums[k]! += ((parts as Record<string, number>)[k] ?? 0) / batches.length;
      progress.tick(1, `epoch ${epoch + 1}/${t.epochs} loss ${parts.loss.toFixed(3)}`);
      await torch.yieldToEventLoop();
    }
    schedule.step();
    if (t.pushEpochs.includes(epoch + 1) || epoch + 1 === t.epochs) await pushAndRefit();
    history.push({ epoch: epoch + 1, ...sums });
    torch.save({
      network_weights: torch.tidy(() => net.stateDict()),
      ...(auxHead ? { aux_weights: torch.tidy(() => auxHead.stateDict()) } : {}),
      optimizer_state: opt.stateDict() as never,
      epoch: epoch + 1,
      history: JSON.stringify({ history, pushed }),
    }, checkpointPath);
    options.onEpoch?.(epoch + 1, sums);
  }
  progress.done();
  if (startEpoch >= t.epochs && pushed.length === 0) await pushAndRefit();

  net.eval();
  const scoreCases = iat.length ? iat : resection;
  const risks: number[] = [];
  for (const batch of chunks(scoreCases, t.batchSize)) {
    risks.push(...torch.tidy(() => torch.noGrad(() => Array.from(net.forward(inputBatch(batch, norm, config, null)).risk.toArray() as Float32Array))));
    await torch.yieldToEventLoop();
  }
  const mean = risks.reduce((a, b) => a + b, 0) / risks.length;
  const sd = Math.sqrt(risks.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, risks.length - 1)) || 1;
  const model = saveModel(out, net, {
    training: t,
    normalisation: norm,
    riskScale: { mean, sd },
    prototypes: pushed,
    provenance: { ...options.provenance, resection: resection.map((c) => c.id), iat: iat.map((c) => c.id) },
    metrics: { finalEpoch: history.at(-1) ?? null },
  });
  writePrototypePatches(out, pushed, resection);
  opt.dispose();
  net.dispose();
  auxHead?.dispose();
  return { model, dir: out, epochs: history, seconds: (Date.now() - started) / 1000 };
}
