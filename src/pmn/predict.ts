import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { chunks, inputBatch, type PmnCase } from './batches.js';
import type { PmnConfig } from './config.js';
import { axialSymmetries, type Symmetry } from './input.js';
import type { LoadedPmn } from './model-store.js';
import type { PmnOutput } from './model.js';

export interface PmnPrediction {
  id: string;
  /** P(proliferative) = softmax(logits)[1]. */
  probability: number;
  /** logit₁ − logit₀ (the log-odds). */
  logit: number;
  /** Raw Cox risk w_cox·s. */
  risk: number;
  /** Standardised with the training mean and SD: the nomogram's imaging score (higher = worse). */
  riskScore: number;
  /** Log-similarity to each prototype. */
  similarity: number[];
}

export interface PredictOptions {
  batchSize?: number;
  /**
   * Test-time augmentation: average the logits, Cox risk and similarities over the axial symmetries training
   * draws (8 views of a square input, inputViews); the heads are linear in the similarities, so the averaged
   * logits are those of the averaged similarities. Costs one forward pass per view.
   */
  tta?: boolean;
}

/** The inputs a case is scored on: the central input, and with `tta` also its other axial symmetries. */
export function inputViews(config: PmnConfig, tta = false): Array<Symmetry | null> {
  return tta ? [null, ...axialSymmetries(config).slice(1)] : [null];
}

/** The mean of one output over the views (the output itself for a single view). */
export function meanOverViews(outputs: PmnOutput[], pick: (o: PmnOutput) => Tensor): Tensor {
  return outputs.length === 1 ? pick(outputs[0]!) : outputs.map(pick).reduce((a, b) => a.add(b)).div(outputs.length);
}

/** Scores cases with a loaded model (eval mode, central crop, no augmentation unless `tta`). */
export async function predictCases(model: LoadedPmn, cases: PmnCase[], options: PredictOptions = {}): Promise<PmnPrediction[]> {
  const out: PmnPrediction[] = [];
  const { net, meta } = model;
  const views = inputViews(net.config, options.tta);
  net.eval();
  for (const batch of chunks(cases, options.batchSize ?? 8)) {
    const rows = torch.tidy(() => torch.noGrad(() => {
      const outputs = views.map((v) => net.forward(inputBatch(batch, meta.normalisation, net.config, v)));
      const logitsT = meanOverViews(outputs, (o) => o.logits);
      const logits = logitsT.tolist() as number[][];
      const prob = logitsT.softmax(1).select(1, 1).tolist() as number[];
      const risk = meanOverViews(outputs, (o) => o.risk).tolist() as number[];
      const sim = meanOverViews(outputs, (o) => o.similarity).tolist() as number[][];
      return batch.map((c, i) => ({
        id: c.id,
        probability: prob[i]!,
        logit: logits[i]![1]! - logits[i]![0]!,
        risk: risk[i]!,
        riskScore: (risk[i]! - meta.riskScale.mean) / meta.riskScale.sd,
        similarity: sim[i]!,
      }));
    }));
    out.push(...rows);
    await torch.yieldToEventLoop();
  }
  return out;
}
