import { inspect } from 'node:util';
import type { Tensor } from '../tensor.js';
import { fromArray } from '../factory.js';
import { noGrad } from '../autograd.js';
import { StoredTensor } from '../serialization/values.js';

/**
 * Base class of every layer, as torch.nn.Module: parameters, buffers and submodules are registered by name in
 * registration order, so `stateDict()` keys and their order are exactly PyTorch's (`encoder.0.conv.weight`,
 * `norm.running_mean`, `bn.num_batches_tracked`), and a checkpoint saved by either side loads in the other.
 *
 * Memory: a module owns its parameters and buffers (they are `keep()`-ed, so no `tidy` scope frees them);
 * `dispose()` frees them all.
 */

// The containers hold modules of any signature; `any` here is the usual variance escape for heterogeneous lists.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = Module<any[], any>;

/** A number as Python's repr writes a float (`1e-05`, `0.1`), for module descriptions PyTorch users recognise. */
export function pyFloat(x: number): string {
  if (x !== 0 && Number.isFinite(x) && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e16)) {
    const [mantissa, exponent] = x.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return String(x);
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export type StateDictValue = Tensor | StoredTensor;

export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Train mode (dropout active, batch statistics used); toggled by `train()` / `eval()`. */
  training = true;
  private readonly parameters_ = new Map<string, Tensor | null>();
  private readonly buffers_ = new Map<string, Tensor | null>();
  private readonly nonPersistent = new Set<string>();
  private readonly modules_ = new Map<string, AnyModule | null>();

  abstract forward(...input: In): Out;

  /** The class name PyTorch would print (used in error messages). */
  get typeName(): string {
    return this.constructor.name;
  }

  /** Adds a trainable tensor (made a leaf that requires grad, and kept). `null` registers an absent one (bias=False). */
  registerParameter(name: string, value: Tensor | null): Tensor | null {
    this.checkName(name, this.parameters_);
    if (value !== null) {
      if (!value.isLeaf) throw new Error(`${this.typeName}.registerParameter('${name}'): a parameter must be a leaf tensor (detach() it first)`);
      if (!value.requiresGrad) value.requiresGrad_(true);
      value.keep();
    }
    this.parameters_.set(name, value);
    return value;
  }

  /** Adds state that is not trained (running statistics). Non-persistent buffers stay out of `stateDict()`. */
  registerBuffer(name: string, value: Tensor | null, persistent = true): Tensor | null {
    this.checkName(name, this.buffers_);
    value?.keep();
    this.buffers_.set(name, value);
    if (persistent) this.nonPersistent.delete(name);
    else this.nonPersistent.add(name);
    return value;
  }

  registerModule<M extends AnyModule | null>(name: string, module: M): M {
    this.checkName(name, this.modules_);
    this.modules_.set(name, module);
    return module;
  }

  private checkName(name: string, own: Map<string, unknown>): void {
    if (name === '' || name.includes('.')) throw new Error(`${this.typeName}: invalid name '${name}' (non-empty, no '.')`);
    for (const map of [this.parameters_, this.buffers_, this.modules_] as Map<string, unknown>[]) {
      if (map !== own && map.has(name)) throw new Error(`${this.typeName}: '${name}' is already registered as another kind of attribute`);
    }
  }

  /** A registered parameter by its own (non-dotted) name. */
  protected param(name: string): Tensor | null {
    const p = this.parameters_.get(name);
    if (p === undefined) throw new Error(`${this.typeName} has no parameter '${name}'`);
    return p;
  }

  protected buffer(name: string): Tensor | null {
    const b = this.buffers_.get(name);
    if (b === undefined) throw new Error(`${this.typeName} has no buffer '${name}'`);
    return b;
  }

  /** Replaces a registered buffer's tensor (the old one is disposed), as `self.x = new_tensor` does in PyTorch. */
  protected setBuffer(name: string, value: Tensor): void {
    const old = this.buffer(name);
    value.keep();
    this.buffers_.set(name, value);
    if (old && old !== value) old.dispose();
  }

  *namedChildren(): Generator<[string, AnyModule]> {
    for (const [name, m] of this.modules_) if (m) yield [name, m];
  }

  children(): AnyModule[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /** This module and every descendant, depth first, each once (PyTorch's `named_modules`). */
  namedModules(prefix = '', seen = new Set<AnyModule>()): Array<[string, AnyModule]> {
    if (seen.has(this as AnyModule)) return [];
    seen.add(this as AnyModule);
    const out: Array<[string, AnyModule]> = [[prefix, this as AnyModule]];
    for (const [name, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    return out;
  }

  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  private namedMembers(kind: 'parameters_' | 'buffers_', prefix: string, recurse: boolean): Array<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const out: Array<[string, Tensor]> = [];
    const modules = recurse ? this.namedModules(prefix) : [[prefix, this as AnyModule] as [string, AnyModule]];
    for (const [modulePrefix, m] of modules) {
      for (const [name, t] of m[kind]) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([modulePrefix ? `${modulePrefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Every trainable tensor with its dotted name; a tensor shared by two modules appears once. */
  namedParameters(prefix = '', recurse = true): Array<[string, Tensor]> {
    return this.namedMembers('parameters_', prefix, recurse);
  }

  parameters(recurse = true): Tensor[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  namedBuffers(prefix = '', recurse = true): Array<[string, Tensor]> {
    return this.namedMembers('buffers_', prefix, recurse);
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, b]) => b);
  }

  /**
   * Parameters and persistent buffers by PyTorch key, in PyTorch's order (each module's parameters, then its
   * buffers, then its children). Values are detached aliases sharing the module's memory, as in PyTorch, and
   * new tensor objects: call inside `tidy()` or dispose them. `keepVars` returns the module's own tensors.
   */
  stateDict(options: { prefix?: string; keepVars?: boolean } = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const visit = (m: AnyModule, prefix: string): void => {
      for (const [name, p] of m.parameters_) if (p) out[prefix + name] = options.keepVars ? p : p.detach();
      for (const [name, b] of m.buffers_) {
        if (b && !m.nonPersistent.has(name)) out[prefix + name] = options.keepVars ? b : b.detach();
      }
      for (const [name, child] of m.modules_) if (child) visit(child, `${prefix}${name}.`);
    };
    visit(this as AnyModule, options.prefix ?? '');
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers by key. Shape mismatches always fail; with
   * `strict` (the default) missing and unexpected keys fail too, all listed in one message worded as
   * PyTorch's. Values may be native tensors or StoredTensors straight from the file reader.
   */
  loadStateDict(stateDict: Record<string, StateDictValue>, options: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict({ keepVars: true });
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    const errors: string[] = [];
    for (const [key, target] of Object.entries(own)) {
      const source = stateDict[key];
      if (source === undefined) continue;
      const shape = source.shape;
      if (shape.length !== target.shape.length || shape.some((n, i) => n !== target.shape[i])) {
        errors.push(`size mismatch for ${key}: copying a param with shape [${shape.join(', ')}] from checkpoint, the shape in current model is [${target.shape.join(', ')}].`);
      }
    }
    if (strict && unexpectedKeys.length) errors.unshift(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && missingKeys.length) errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (errors.length) throw new Error(`Error(s) in loading state_dict for ${this.typeName}:\n\t${errors.join('\n\t')}`);
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        const source = stateDict[key];
        if (source === undefined) continue;
        if (source instanceof StoredTensor) {
          const t = fromArray(source.data, source.shape, { dtype: source.dtype });
          try {
            target.copy_(t);
          } finally {
            t.dispose();
          }
        } else {
          target.copy_(source);
        }
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Sets train mode on this module and all descendants. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Moves (or casts) every parameter and buffer. Tensors are replaced by new ones, so build optimizers after
   * moving, as in PyTorch. Floating-point dtypes only apply to floating-point tensors (counters stay int64).
   */
  to(deviceOrDtype: string): this {
    const isDtype = ['float32', 'float64'].includes(deviceOrDtype);
    // Tensors already there stay the same objects, so an optimizer built on them keeps working.
    const move = (t: Tensor): Tensor => {
      if (isDtype) return (t.dtype === 'float32' || t.dtype === 'float64') && t.dtype !== deviceOrDtype ? t.to(deviceOrDtype as 'float32') : t;
      return t.device === deviceOrDtype ? t : t.to(deviceOrDtype);
    };
    noGrad(() => {
      for (const m of this.modules()) {
        for (const [name, p] of m.parameters_) {
          if (!p) continue;
          const moved = move(p);
          if (moved === p) continue;
          const leaf = moved.detach();
          moved.dispose();
          leaf.requiresGrad_(p.requiresGrad);
          leaf.keep();
          m.parameters_.set(name, leaf);
          p.dispose();
        }
        for (const [name, b] of m.buffers_) {
          if (!b) continue;
          const moved = move(b);
          if (moved === b) continue;
          moved.keep();
          m.buffers_.set(name, moved);
          b.dispose();
        }
      }
    });
    return this;
  }

  /** Drops every parameter's gradient (PyTorch's default `set_to_none=True`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls `fn` on every module, children first (as `Module.apply`, e.g. for custom initialisation). */
  apply(fn: (m: AnyModule) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this as AnyModule);
    return this;
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
  }

  /** Turns gradient recording on or off for every parameter (e.g. to freeze an encoder while fine-tuning). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** The constructor arguments shown by `toString()`, as PyTorch's `extra_repr`. */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch prints it: `Sequential(\n  (0): Conv3d(1, 8, kernel_size=(3, 3, 3), ...)\n)`. */
  toString(): string {
    const children = [...this.namedChildren()].map(([name, m]) => `(${name}): ${m.toString().replace(/\n/g, '\n  ')}`);
    if (children.length === 0) return `${this.typeName}(${this.extraRepr()})`;
    const lines = [...(this.extraRepr() ? [this.extraRepr()] : []), ...children];
    return `${this.typeName}(\n  ${lines.join('\n  ')}\n)`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }
}
