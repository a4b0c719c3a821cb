import * as torch from '@hcc/torch';
import { chunks, inputBatch, type PmnCase } from './batches.js';
import type { LoadedPmn } from './model-store.js';

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

/** Scores cases with a loaded model (eval mode, central crop, no augmentation). */
export async function predictCases(model: LoadedPmn, cases: PmnCase[], batchSize = 8): Promise<PmnPrediction[]> {
  const out: PmnPrediction[] = [];
  const { net, meta } = model;
  net.eval();
  for (const batch of chunks(cases, batchSize)) {
    const rows = torch.tidy(() => torch.noGrad(() => {
      const o = net.forward(inputBatch(batch, meta.normalisation, net.config, null));
      const logits = o.logits.tolist() as number[][];
      const prob = o.logits.softmax(1).select(1, 1).tolist() as number[];
      const risk = o.risk.tolist() as number[];
      const sim = o.similarity.tolist() as number[][];
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
