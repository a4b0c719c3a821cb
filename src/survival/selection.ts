import { HccError } from '../util/errors.js';
import { fitCox, type CoxFit, type Ties } from './cox.js';

/**
 * Cox variable selection as clinical nomogram papers do it: a univariable screen (keep candidates with Wald
 * p < screenP), then backward elimination by AIC (R's step(direction = "backward")): at each step drop the term
 * whose removal lowers AIC the most, until no removal lowers it. Every step is recorded, so a report can show
 * the path and a reader can redo it in R.
 */
export interface SelectionInput {
  time: ArrayLike<number>;
  event: ArrayLike<number>;
  candidates: Array<{ name: string; values: Float64Array }>;
  weights?: Float64Array;
}

export interface SelectionOptions {
  /** Univariable Wald p-value threshold; 1 skips the screen. */
  screenP?: number;
  ties?: Ties;
  /** Terms kept whatever their AIC (e.g. the imaging score a study sets out to test). */
  force?: string[];
}

export interface SelectionResult {
  screen: Array<{ name: string; hr: number; lower: number; upper: number; p: number; kept: boolean }>;
  steps: Array<{ aic: number; terms: string[]; dropped: string | null }>;
  selected: string[];
  fit: CoxFit;
}

function aicOf(input: SelectionInput, names: string[], ties: Ties): { aic: number; fit: CoxFit } {
  const byName = new Map(input.candidates.map((c) => [c.name, c.values]));
  const fit = fitCox(
    { time: input.time, event: input.event, columns: names.map((n) => byName.get(n)!), names, ...(input.weights ? { weights: input.weights } : {}) },
    { ties },
  );
  return { aic: fit.loglik.aic, fit };
}

export function selectCoxVariables(input: SelectionInput, options: SelectionOptions = {}): SelectionResult {
  const ties = options.ties ?? 'efron';
  const screenP = options.screenP ?? 0.1;
  const force = new Set(options.force ?? []);
  if (input.candidates.length === 0) throw new HccError('variable selection: no candidate predictors');
  for (const f of force) {
    if (!input.candidates.some((c) => c.name === f)) throw new HccError(`variable selection: forced term '${f}' is not among the candidates`);
  }
  const screen = input.candidates.map((c) => {
    const fit = fitCox({ time: input.time, event: input.event, columns: [c.values], names: [c.name], ...(input.weights ? { weights: input.weights } : {}) }, { ties });
    const p = fit.p[0]!;
    return { name: c.name, hr: fit.hr[0]!, lower: fit.hrLower[0]!, upper: fit.hrUpper[0]!, p, kept: force.has(c.name) || p < screenP };
  });
  let terms = screen.filter((s) => s.kept).map((s) => s.name);
  if (terms.length === 0) {
    throw new HccError(`variable selection: no candidate passed the univariable screen at p < ${screenP}; raise nomogram.screenP or force a term`);
  }
  let current = aicOf(input, terms, ties);
  const steps: SelectionResult['steps'] = [{ aic: current.aic, terms: [...terms], dropped: null }];
  for (;;) {
    let best: { name: string; aic: number; fit: CoxFit } | null = null;
    for (const name of terms) {
      if (force.has(name) || terms.length === 1) continue;
      const rest = terms.filter((t) => t !== name);
      const candidate = aicOf(input, rest, ties);
      if (candidate.aic < (best?.aic ?? current.aic)) best = { name, ...candidate };
    }
    if (!best) break;
    terms = terms.filter((t) => t !== best!.name);
    current = { aic: best.aic, fit: best.fit };
    steps.push({ aic: best.aic, terms: [...terms], dropped: best.name });
  }
  return { screen, steps, selected: terms, fit: current.fit };
}
