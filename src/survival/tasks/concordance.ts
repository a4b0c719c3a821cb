/** `hcc stats concordance`: survival::concordance (Harrell, Uno = n/G2, S, S/G, I) with the oracle's JSON. */
import type { CsvTable } from '../../util/csv.js';
import { usageError } from '../../util/errors.js';
import { concordanceFit, manualConcordance, type TimeWeight } from '../concordance.js';
import { frameVariable, groupOf, prepare, requireEvents } from '../data.js';
import { dataOptions, fmt, formatTable, optFlag, optNumber, type StatsTask, type TaskOptions, type TaskOutput } from './task.js';

export function runConcordance(table: CsvTable, opts: TaskOptions): TaskOutput {
  const sc = opts['score'];
  if (sc === undefined) throw usageError('concordance: --score=COL required');
  const strataCol = opts['strata'];
  const frame = prepare(table, dataOptions(opts), { columns: [sc, strataCol ?? ''], timefix: true });
  requireEvents(frame, 'concordance');
  const v = frameVariable(frame, sc);
  if (v.kind !== 'numeric') throw usageError(`concordance: score column '${sc}' is not numeric`);
  const reverse = !optFlag(opts, 'higher-is-longer');
  const tau = optNumber(opts, 'tau');
  const strata = strataCol ? groupOf(frame, strataCol).codes : undefined;
  const result: Record<string, unknown> = {
    score: sc,
    strata: strataCol ?? null,
    reverse,
    tau: tau ?? null,
    note: 'timewt n = Harrell; n/G2 = Uno (weights 1/G(t)^2 on event times, G = censoring KM); ymax = tau truncation; se = sqrt(var) (infinitesimal jackknife)',
  };
  for (const tw of ['n', 'S', 'S/G', 'n/G2', 'I'] as TimeWeight[]) {
    const r = concordanceFit(frame.time, frame.event, v.values, { strata, reverse, timewt: tw, ymax: tau });
    result[`timewt_${tw.replace('/', '_')}`] = { c: r.c, se: r.se, count: { concordant: r.count.concordant, discordant: r.count.discordant, 'tied.x': r.count.tied_x, 'tied.y': r.count.tied_y, 'tied.xy': r.count.tied_xy } };
  }
  if (!strata) {
    const risk = reverse ? v.values : v.values.map((x) => -x);
    result['manual'] = {
      ...manualConcordance(frame.time, frame.event, risk, tau),
      note: "pairs (i,j): delta_i=1, T_i<=tau, and T_j>T_i or (T_j==T_i, delta_j=0); score ties count 1/2; tied event times excluded. uno_Gminus_events_first uses w_i = 1/G(T_i-)^2 with the events-first reverse KM and reproduces survival timewt='n/G2'; uno_G_at_survfit uses 1/G(T_i)^2 from survfit(Surv(T,1-delta)) (a common textbook variant)",
    };
    // Hmisc::rcorr.cens(-score): counts each comparable pair from both sides; no tau.
    const h = concordanceFit(frame.time, frame.event, v.values, { reverse });
    result['hmisc_rcorr_cens'] = {
      c: h.c,
      dxy: 2 * h.c - 1,
      se_dxy: 2 * h.se,
      n: frame.time.length,
      relevant_pairs: 2 * (h.count.concordant + h.count.discordant + h.count.tied_x),
      concordant: 2 * h.count.concordant + h.count.tied_x,
      note: 'Hmisc::rcorr.cens(-score): Harrell C without tau truncation (ignores --tau)',
    };
  }
  return { na: frame.na, result };
}

export const concordanceTask: StatsTask = {
  name: 'concordance',
  summary: "Harrell's and Uno's C (survival::concordance) with infinitesimal-jackknife SE, tau truncation, strata",
  usage: `  --score=COL (higher = higher risk; --higher-is-longer for survival-type markers)   --tau=T   --strata=COL`,
  options: ['score', 'tau', 'strata', 'higher-is-longer'],
  run: runConcordance,
  print(out) {
    const r = out.result;
    const names = ['timewt_n', 'timewt_n_G2', 'timewt_S', 'timewt_S_G', 'timewt_I'];
    const labels = ['Harrell (n)', 'Uno (n/G2)', 'S', 'S/G', 'I'];
    const rows = names.map((n) => r[n] as { c: number; se: number });
    return [`Concordance of ${r['score']}${r['tau'] !== null ? ` (tau = ${fmt(r['tau'])})` : ''}`, formatTable({ weighting: labels, C: rows.map((x) => x.c), se: rows.map((x) => x.se) }, 5)].join('\n');
  },
};
