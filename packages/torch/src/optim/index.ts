export { Optimizer, type ParamGroup, type ParamState, type ParamsInput, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { splitWeightDecay, type DecayGroups } from './groups.js';
export { LRScheduler, PolyLRScheduler, CosineAnnealingLR, WarmupCosineLR } from './lr-scheduler.js';
