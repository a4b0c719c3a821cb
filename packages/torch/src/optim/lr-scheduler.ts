import type { Optimizer } from './optimizer.js';

/**
 * Learning-rate schedules as torch.optim.lr_scheduler: construction sets the rate for epoch `lastEpoch + 1`
 * (epoch 0 for a new run), each `step()` moves to the next epoch (or to `epoch` when given, as nnU-Net calls
 * `step(current_epoch)`). "Epoch" is whatever unit the caller steps in (epochs or iterations). Rates are closed
 * forms of each group's initial rate, which, as in PyTorch, is recorded in the group (`initialLr`, saved as
 * `initial_lr` in the optimizer's state dict): to resume, load the optimizer's state, then build the scheduler
 * with `lastEpoch` set to the last finished epoch. Each subclass ends its constructor with
 * `this.step(lastEpoch + 1)`, once its own fields exist.
 */
export abstract class LRScheduler {
  readonly baseLrs: number[];
  lastEpoch: number;

  constructor(protected readonly optimizer: Optimizer<{ lr: number }>, lastEpoch = -1) {
    this.baseLrs = optimizer.paramGroups.map((g, i) => {
      if (g.initialLr === undefined) {
        if (lastEpoch !== -1) {
          throw new Error(`${this.constructor.name}: resuming (lastEpoch ${lastEpoch}) needs 'initial_lr' in parameter group ${i}; load the optimizer's saved state first`);
        }
        g.initialLr = g.lr;
      }
      return g.initialLr;
    });
    this.lastEpoch = lastEpoch;
  }

  /** The rate for `epoch`, from a group's initial rate. */
  protected abstract rateAt(epoch: number, baseLr: number): number;

  step(epoch?: number): void {
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.rateAt(this.lastEpoch, this.baseLrs[i]);
    });
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): { last_epoch: number; base_lrs: number[] } {
    return { last_epoch: this.lastEpoch, base_lrs: [...this.baseLrs] };
  }

  loadStateDict(state: { last_epoch: number; base_lrs?: number[] }): void {
    if (state.base_lrs) state.base_lrs.forEach((lr, i) => (this.baseLrs[i] = lr));
    this.step(state.last_epoch);
  }
}

/**
 * nnU-Net's PolyLRScheduler, same arguments: every group gets initialLr · (1 − step / maxSteps)^exponent.
 * Construction applies step `currentStep` (default 0); nnU-Net then calls `step(current_epoch)` each epoch.
 */
export class PolyLRScheduler extends LRScheduler {
  constructor(optimizer: Optimizer<{ lr: number }>, readonly initialLr: number, readonly maxSteps: number, readonly exponent = 0.9, currentStep?: number) {
    super(optimizer, currentStep === undefined ? -1 : currentStep - 1);
    if (!(maxSteps > 0)) throw new Error(`PolyLRScheduler: maxSteps must be positive, got ${maxSteps}`);
    this.step(currentStep ?? 0);
  }

  protected rateAt(epoch: number): number {
    return this.initialLr * Math.max(0, 1 - epoch / this.maxSteps) ** this.exponent;
  }
}

/** CosineAnnealingLR: etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2 (no restarts). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer<{ lr: number }>, readonly tMax: number, readonly etaMin = 0, lastEpoch = -1) {
    super(optimizer, lastEpoch);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
    this.step(lastEpoch + 1);
  }

  protected rateAt(epoch: number, baseLr: number): number {
    return cosine(epoch, this.tMax, baseLr, this.etaMin);
  }
}

/**
 * Linear warm-up over `warmupSteps` (base·(epoch+1)/warmupSteps), then cosine annealing to `etaMin` at
 * `totalSteps`: LambdaLR with the usual warm-up-cosine lambda.
 */
export class WarmupCosineLR extends LRScheduler {
  constructor(optimizer: Optimizer<{ lr: number }>, readonly warmupSteps: number, readonly totalSteps: number, readonly etaMin = 0, lastEpoch = -1) {
    super(optimizer, lastEpoch);
    if (!(warmupSteps >= 0 && totalSteps > warmupSteps)) {
      throw new Error(`WarmupCosineLR: need 0 <= warmupSteps < totalSteps, got ${warmupSteps} and ${totalSteps}`);
    }
    this.step(lastEpoch + 1);
  }

  protected rateAt(epoch: number, baseLr: number): number {
    if (epoch < this.warmupSteps) return (baseLr * (epoch + 1)) / this.warmupSteps;
    return cosine(Math.min(epoch - this.warmupSteps, this.totalSteps - this.warmupSteps), this.totalSteps - this.warmupSteps, baseLr, this.etaMin);
  }
}

function cosine(epoch: number, period: number, baseLr: number, etaMin: number): number {
  return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / period))) / 2;
}
