import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { Rng } from '../../util/rng.js';
import { chunks, inputBatch, stratifiedOrder, type PmnCase } from '../batches.js';
import { trainingConfig, type PmnConfig, type TrainingConfig } from '../config.js';
import type { Normalisation } from '../input.js';
import { classWeights, weightedCrossEntropy } from '../losses.js';

const { nn } = torch;

/**
 * The plain 3D CNN baseline: the PMN's input and stem, two more strided/plain conv stages instead of the Mamba
 * blocks and prototypes, global average pooling and a linear classifier. ~181k parameters at the default
 * widths, the same size class as PMN-S (179,582), trained with the same data, augmentation and optimiser.
 */
export class PlainCnn3d extends nn.Module {
  readonly features: torch.nn.Sequential;
  readonly classifier: torch.nn.Linear;
  constructor(config: PmnConfig) {
    super();
    const [c1, c2] = config.stemChannels;
    const d = config.dModel;
    const block = (cin: number, cout: number, stride: number | [number, number, number]) =>
      [new nn.Conv3d(cin, cout, 3, { stride, padding: 1 }), new nn.GroupNorm(Math.max(1, cout / 4), cout), new nn.GELU()];
    this.features = this.registerModule('features', new nn.Sequential(
      ...block(config.inChannels, c1, [1, 2, 2]), ...block(c1, c2, 2), ...block(c2, d, 2), ...block(d, d, 1),
    ));
    this.classifier = this.registerModule('classifier', new nn.Linear(d, 2));
  }
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).mean([2, 3, 4]));
  }
}

/** Trains the CNN on the training cases (CE_w, AdamW, warm-up + cosine, the PMN's augmentation); saves cnn.pth. */
export async function trainCnn(cases: PmnCase[], norm: Normalisation, config: PmnConfig, training: Partial<TrainingConfig>, out: string): Promise<PlainCnn3d> {
  const t = trainingConfig(training);
  torch.manualSeed(t.seed);
  const net = new PlainCnn3d(config);
  const groups = torch.optim.splitWeightDecay(net, t.weightDecay);
  const opt = new torch.optim.AdamW([groups.decay, groups.noDecay], { lr: t.lr, weightDecay: t.weightDecay });
  const schedule = new torch.optim.WarmupCosineLR(opt, Math.min(t.warmupEpochs, t.epochs - 1), t.epochs, t.minLr);
  const weights = classWeights(cases.map((c) => c.label!));
  for (let epoch = 0; epoch < t.epochs; epoch++) {
    net.train();
    const rng = Rng.stream(t.seed, 'cnn-epoch', epoch);
    for (const batch of chunks(stratifiedOrder(cases, (c) => String(c.label), rng), t.batchSize)) {
      torch.tidy(() => {
        opt.zeroGrad();
        weightedCrossEntropy(net.forward(inputBatch(batch, norm, config, t.augment ? rng : null, t.augmentation)), batch.map((c) => c.label!), weights).backward();
        opt.step();
      });
      await torch.yieldToEventLoop();
    }
    schedule.step();
  }
  opt.dispose();
  mkdirSync(out, { recursive: true });
  torch.save(torch.tidy(() => net.stateDict()), join(out, 'cnn.pth'));
  net.eval();
  return net;
}

export function loadCnn(dir: string, config: PmnConfig): PlainCnn3d {
  const net = new PlainCnn3d(config);
  const sd = torch.load(join(dir, 'cnn.pth')) as Record<string, Tensor>;
  net.loadStateDict(sd);
  torch.dispose(sd);
  return net.eval();
}

export async function predictCnn(net: PlainCnn3d, cases: PmnCase[], norm: Normalisation, config: PmnConfig): Promise<number[]> {
  const out: number[] = [];
  for (const batch of chunks(cases, 8)) {
    out.push(...torch.tidy(() => torch.noGrad(() => net.forward(inputBatch(batch, norm, config, null)).softmax(1).select(1, 1).tolist() as number[])));
    await torch.yieldToEventLoop();
  }
  return out;
}
