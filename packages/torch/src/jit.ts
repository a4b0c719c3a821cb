// TorchScript inference (torch.jit.load).
import { native as N } from './native.js';
import { track } from './scope.js';
import { isTensor, type Tensor } from './tensor.js';
import type { Device } from './types.js';

export type IValue = Tensor | number | boolean | string | null | IValue[] | { [key: string]: IValue };

interface NativeScriptModule {
  forward(...inputs: IValue[]): IValue;
  runMethod(name: string, ...inputs: IValue[]): IValue;
  eval(): unknown;
  train(mode?: boolean): unknown;
  to(device: Device): unknown;
  namedParameters(): [string, Tensor][];
  namedBuffers(): [string, Tensor][];
}

function tracked<T>(v: T): T {
  if (isTensor(v)) track(v);
  else if (Array.isArray(v)) v.forEach(tracked);
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach(tracked);
  return v;
}

/** A loaded TorchScript module. Outputs are registered in the current scope like any other tensor. */
export class ScriptModule {
  constructor(private readonly m: NativeScriptModule) {}

  forward(...inputs: IValue[]): IValue {
    return tracked(this.m.forward(...inputs));
  }

  runMethod(name: string, ...inputs: IValue[]): IValue {
    return tracked(this.m.runMethod(name, ...inputs));
  }

  eval(): this {
    this.m.eval();
    return this;
  }

  train(mode = true): this {
    this.m.train(mode);
    return this;
  }

  to(device: Device): this {
    this.m.to(device);
    return this;
  }

  namedParameters(): [string, Tensor][] {
    return tracked(this.m.namedParameters());
  }

  namedBuffers(): [string, Tensor][] {
    return tracked(this.m.namedBuffers());
  }
}

/** Loads a TorchScript file (torch.jit.save of a traced or scripted module) in eval mode; errors name the file. */
export function load(path: string, device?: Device): ScriptModule {
  return new ScriptModule(N.jitLoad(path, device) as NativeScriptModule);
}
