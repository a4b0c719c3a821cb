import type { Tensor } from '../tensor.js';
import { Module, type AnyModule } from './module.js';

/** Applies its modules in order; children are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  constructor(...modules: Array<Module<[Tensor], Tensor>>) {
    super();
    modules.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.children().length;
  }

  at(index: number): Module<[Tensor], Tensor> {
    const m = this.children().at(index);
    if (!m) throw new Error(`Sequential: index ${index} out of range (length ${this.length})`);
    return m;
  }

  append(module: Module<[Tensor], Tensor>): this {
    this.registerModule(String(this.length), module);
    return this;
  }

  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
}

/** Holds submodules in a list (so their parameters are registered) without defining a forward. */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> {
  constructor(modules: M[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  get length(): number {
    return this.children().length;
  }

  at(index: number): M {
    const m = this.children().at(index);
    if (!m) throw new Error(`ModuleList: index ${index} out of range (length ${this.length})`);
    return m as M;
  }

  append(module: M): this {
    this.registerModule(String(this.length), module);
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return (this.children() as M[])[Symbol.iterator]();
  }

  forward(): never {
    throw new Error('ModuleList has no forward(); iterate over it and call each module');
  }
}
