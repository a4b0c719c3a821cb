// TorchScript inference (torch.jit.load).
import { native as N } from './native.js';
import { track } from './scope.js';
import { isTensor, type Tensor } from './tensor.js';
import type { Device } from './types.js';

export type IValue = Tensor | number | boolean | string | null | IValue[] | { [key: string]: IValue };

export interface ScriptModule {
  forward(...inputs: IValue[]): IValue;
  runMethod(name: string, ...inputs: IValue[]): IValue;
  eval(): this;
  train(mode?: boolean): this;
  to(device: Device): this;
  namedParameters(): [string, Tensor][];
  namedBuffers(): [string, Tensor][];
}

function trackValue(v: unknown): void {
  if (isTensor(v)) track(v);
  else if (Array.isArray(v)) v.forEach(trackValue);
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach(trackValue);
}

/** Loads a TorchScript file (torch.jit.save / trace / script) in eval mode; errors name the file. */
export function load(path: string, device?: Device): ScriptModule {
  const m = N.jitLoad(path, device) as ScriptModule;
  const wrap = <K extends 'forward' | 'runMethod' | 'namedParameters' | 'namedBuffers'>(name: K): void => {
    const raw = m[name] as (...a: unknown[]) => unknown;
    (m as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const out = raw.apply(m, args);
      trackValue(out);
      return out;
    };
  };
  wrap('forward');
  wrap('runMethod');
  wrap('namedParameters');
  wrap('namedBuffers');
  return m;
}
