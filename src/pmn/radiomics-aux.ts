import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { radiomicsFeatures } from './baselines/radiomics.js';
import type { PmnCase } from './batches.js';
import { loadCrop } from './crop-store.js';

/**
 * The auxiliary radiomics task (training only, TrainingConfig.radiomicsAux): the backbone's tokens, averaged over
 * the dilated tumour mask, predict the case's standardised radiomics features through a linear head. Trained from
 * scratch on a few hundred labelled cases, the backbone fits patterns of its own that do not carry to new cases
 * (BENCHMARKS.md: the PMN's models share their errors, and more cases did not help), while the same crops'
 * hand-made features do better. The targets come from the image and mask alone, so no label leaks, and
 * unlabelled iat crops train the task too. The head reads the tokens before the prototype add-on: asking every
 * bounded prototype-space token for the case's features instead was measured and left them unlearnt (the loss
 * fell from 1.14 to 0.94 in 60 epochs) while the cluster cost pulled those tokens onto the prototypes.
 */
export interface RadiomicsTargets {
  names: string[];
  /** Standardised features per case id; a feature that is not finite in a case is 0 (the mean). */
  byId: Map<string, Float32Array>;
}

export function radiomicsTargets(cases: PmnCase[]): RadiomicsTargets {
  const rows = cases.map((c) => radiomicsFeatures(loadCrop(c.crop)));
  const names = Object.keys(rows[0] ?? {}).sort();
  const stats = names.map((name) => {
    const values = rows.map((r) => r[name]!).filter(Number.isFinite);
    const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
    return { mean, sd: sd > 0 ? sd : 1 };
  });
  const byId = new Map<string, Float32Array>();
  cases.forEach((c, i) => {
    byId.set(c.id, Float32Array.from(names, (name, j) => {
      const v = rows[i]![name]!;
      return Number.isFinite(v) ? (v - stats[j]!.mean) / stats[j]!.sd : 0;
    }));
  });
  return { names, byId };
}

/**
 * Mean squared error, averaged over features and cases, of the head's prediction from the in-mask mean token.
 * tokens: [B, L, d]; tokenMask: [B, L]; targets: one standardised vector per case.
 */
export function radiomicsAuxLoss(head: torch.nn.Linear, tokens: Tensor, tokenMask: Tensor, targets: Float32Array[]): Tensor {
  const [b] = tokens.shape as [number];
  const n = targets[0]!.length;
  const flat = new Float32Array(b * n);
  targets.forEach((t, i) => flat.set(t, i * n));
  const m = tokenMask.unsqueeze(-1);
  const pooled = tokens.mul(m).sum([1]).div(m.sum([1]).clampMin(1));
  return head.forward(pooled).sub(torch.fromArray(flat, [b, n])).square().mean();
}
