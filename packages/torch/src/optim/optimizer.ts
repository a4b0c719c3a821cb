import type { Tensor } from '../tensor.js';
import { fromArray } from '../factory.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { StoredTensor, type PyValue } from '../serialization/values.js';

/**
 * The machinery shared by every optimizer, as torch.optim.Optimizer: parameter groups with their own
 * hyperparameters, per-parameter state, and `stateDict()` / `loadStateDict()` in PyTorch's layout
 * (`state` keyed by the parameter's index across groups, `param_groups` with snake_case hyperparameters and
 * `params` as index lists), so a state saved here resumes in Python and vice versa.
 */

/** A per-parameter state entry: tensors (owned by the optimizer) and numbers such as `step`. */
export type ParamState = Record<string, Tensor | number | null>;

/** `initialLr` is set by the LR schedulers (PyTorch's `initial_lr`) and saved with the optimizer, so a resumed
 * schedule knows where it started. */
export type ParamGroup<H> = H & { params: Tensor[]; initialLr?: number };

/** What the constructor accepts: a list of tensors, or groups that override some hyperparameters. */
export type ParamsInput<H> = Tensor[] | Array<Partial<H> & { params: Tensor[] }>;

// A type alias (not an interface) so that it is assignable to save()'s dict type.
export type OptimizerStateDict = {
  state: Map<number, Record<string, PyValue | Tensor>>;
  param_groups: Array<Record<string, PyValue>>;
};

/** camelCase field <-> PyTorch key, plus keys PyTorch 1.13 writes that we only carry along. */
export interface HyperSpec<H> {
  keys: { [K in keyof H]: string };
  /** Written into every group so Python's optimizer finds all the keys it reads (e.g. `foreach: None`). */
  pythonExtras: Record<string, PyValue>;
}

export abstract class Optimizer<H extends object> {
  readonly paramGroups: Array<ParamGroup<H>> = [];
  readonly state = new Map<Tensor, ParamState>();

  protected constructor(params: ParamsInput<H>, readonly defaults: H, private readonly spec: HyperSpec<H>) {
    const groups = params.length > 0 && !isTensorList(params) ? (params as Array<Partial<H> & { params: Tensor[] }>) : [{ params: params as Tensor[] }];
    if (groups.length === 0 || groups.every((g) => g.params.length === 0)) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    for (const g of groups) this.addParamGroup(g as Partial<H> & { params: Tensor[] });
  }

  addParamGroup(group: Partial<H> & { params: Tensor[] }): void {
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) {
      if (seen.has(p)) throw new Error(`${this.constructor.name}: some parameters appear in more than one parameter group`);
      if (!p.isLeaf) throw new Error(`${this.constructor.name}: can't optimize a non-leaf Tensor`);
      seen.add(p);
    }
    this.paramGroups.push({ ...this.defaults, ...group, params: [...group.params] });
  }

  /** Updates one parameter from its gradient; runs under noGrad inside a tidy scope. */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState): void;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            const grad = p.grad;
            if (!grad) continue;
            let state = this.state.get(p);
            if (!state) this.state.set(p, (state = {}));
            this.update(p, grad, group, state);
          }
        }
      }),
    );
  }

  /** Stores a state tensor (kept out of the step's tidy scope; the previous one is freed). */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const old = state[key];
    value.keep();
    state[key] = value;
    if (old && typeof old === 'object' && old !== value) old.dispose();
    return value;
  }

  /** Frees the state tensors (momentum buffers, moment estimates); the parameters stay with their module. */
  dispose(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v && typeof v === 'object') v.dispose();
    this.state.clear();
  }

  /** Drops all gradients (PyTorch's default `set_to_none=True`). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** PyTorch layout. The tensors are the optimizer's own (not copies): do not dispose them. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const param_groups = this.paramGroups.map((g) => {
      const out: Record<string, PyValue> = {};
      for (const [field, key] of Object.entries(this.spec.keys) as Array<[keyof H, string]>) out[key] = g[field] as PyValue;
      Object.assign(out, this.spec.pythonExtras);
      if (g.initialLr !== undefined) out.initial_lr = g.initialLr;
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) as number;
      });
      return out;
    });
    const state = new Map<number, Record<string, PyValue | Tensor>>();
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state.set(i, { ...s });
    }
    return { state, param_groups };
  }

  /**
   * Restores hyperparameters and state saved by `stateDict()` here or by PyTorch's `optimizer.state_dict()`
   * (read with `load`): groups must match in number and size. State tensors are copied.
   */
  loadStateDict(sd: { state: unknown; param_groups: unknown }): void {
    const name = this.constructor.name;
    const saved = sd.param_groups;
    if (!Array.isArray(saved) || saved.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the state has ${Array.isArray(saved) ? saved.length : 'no'} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    saved.forEach((g: Record<string, unknown>, gi: number) => {
      const ids = g.params;
      const own = this.paramGroups[gi].params;
      if (!Array.isArray(ids) || ids.length !== own.length) {
        throw new Error(`${name}.loadStateDict: parameter group ${gi} has ${Array.isArray(ids) ? ids.length : 'no'} parameters in the state and ${own.length} here`);
      }
      ids.forEach((id, k) => byIndex.set(Number(id), own[k]));
    });
    saved.forEach((g: Record<string, unknown>, gi: number) => {
      const group = this.paramGroups[gi] as Record<string, unknown>;
      for (const [field, key] of Object.entries(this.spec.keys) as Array<[string, string]>) {
        if (!(key in g)) continue;
        const v = g[key];
        group[field] = Array.isArray(v) ? [...v] : v;
      }
      if (typeof g.initial_lr === 'number') group.initialLr = g.initial_lr;
    });
    const entries: Array<[unknown, unknown]> = sd.state instanceof Map ? [...sd.state] : Object.entries((sd.state ?? {}) as object);
    this.dispose();
    for (const [id, entry] of entries) {
      const p = byIndex.get(Number(id));
      if (!p) throw new Error(`${name}.loadStateDict: state for parameter ${String(id)}, which no group lists`);
      const state: ParamState = {};
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        state[key] = key === 'step' ? toNumber(value) : toStateValue(value, p, `${name}.loadStateDict: state[${String(id)}].${key}`);
      }
      this.state.set(p, state);
    }
  }
}

function isTensorList(params: unknown[]): boolean {
  const first = params[0] as { params?: unknown };
  return !(first && typeof first === 'object' && Array.isArray(first.params));
}

/** PyTorch >= 1.12 saves `step` as a 0-d tensor, older versions as a number. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value instanceof StoredTensor) return Number(value.data[0]);
  if (value && typeof value === 'object' && 'item' in value) return Number((value as Tensor).item());
  throw new Error(`optimizer state 'step' is neither a number nor a tensor`);
}

/** A state entry as this optimizer keeps it: tensors copied onto the parameter's dtype and device, and kept. */
function toStateValue(value: unknown, param: Tensor, where: string): Tensor | number | null {
  if (value === null || typeof value === 'number') return value;
  const isTensor = value instanceof StoredTensor || (typeof value === 'object' && 'clone' in value);
  if (!isTensor) throw new Error(`${where} is neither a tensor nor a number`);
  const shape = (value as { shape: number[] }).shape;
  if (shape.length !== param.shape.length || shape.some((n, i) => n !== param.shape[i])) {
    throw new Error(`${where} has shape [${shape.join(', ')}], the parameter has [${param.shape.join(', ')}]`);
  }
  return tidy(() => {
    const source = value instanceof StoredTensor ? fromArray(value.data, value.shape, { dtype: value.dtype }) : (value as Tensor).detach();
    return source.to({ dtype: param.dtype, device: param.device, copy: true });
  }).keep();
}
