export { Module, type AnyModule, type LoadStateDictResult, type StateDictValue } from './module.js';
export { Conv1d, Conv3d, ConvTranspose3d, type ConvOptions, type ConvTransposeOptions } from './conv.js';
export { Linear, Identity } from './linear.js';
export { InstanceNorm3d, BatchNorm3d, GroupNorm, LayerNorm, type NormOptions } from './norm.js';
export { ReLU, LeakyReLU, GELU, SiLU, Dropout, Dropout3d } from './activation.js';
export { Sequential, ModuleList } from './container.js';
export * as init from './init.js';
