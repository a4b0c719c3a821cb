import { smd } from '../../survival/iptw.js';
import type { CohortFrame } from '../frame.js';

/**
 * Table 1 of a clinical paper: baseline characteristics by group (treatment x split for the IAT cohort),
 * continuous variables as median [IQR], categorical ones as n (%), with the missing count, and the standardised
 * mean difference between TACE and HAIC (the imbalance that IPTW has to correct).
 */
export interface TableOneRow {
  variable: string;
  level: string | null;
  cells: string[];
  missing: number;
  smdTreatment: number | null;
}

export interface TableOne {
  groups: Array<{ name: string; n: number }>;
  rows: TableOneRow[];
}

const CONTINUOUS = ['age_years', 'afp_ng_ml', 'bilirubin_umol_l', 'albumin_g_l', 'inr', 'albi_score', 'tumour_diameter_cm', 'tumour_count', 'os_months'];
const CATEGORICAL = ['sex', 'hbv', 'ecog', 'ascites', 'pvtt', 'ehs', 'child_pugh_class', 'bclc'];

function quantile(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());

export function tableOne(frame: CohortFrame, groups: Array<{ name: string; rows: number[] }>): TableOne {
  const treatment = frame.has('treatment') ? frame.str('treatment') : null;
  const haic = treatment ? Uint8Array.from(treatment, (t) => (t === 'HAIC' ? 1 : 0)) : null;
  const rows: TableOneRow[] = [];
  for (const v of CONTINUOUS.filter((c) => frame.has(c))) {
    const x = frame.num(v);
    const ok = (i: number) => Number.isFinite(x[i]!);
    rows.push({
      variable: v,
      level: null,
      cells: groups.map((g) => {
        const s = g.rows.filter(ok).map((i) => x[i]!).sort((a, b) => a - b);
        return s.length ? `${fmt(quantile(s, 0.5))} [${fmt(quantile(s, 0.25))}-${fmt(quantile(s, 0.75))}]` : 'NA';
      }),
      missing: x.filter((v) => !Number.isFinite(v)).length,
      smdTreatment: haic ? smd(Array.from(x, (v) => (Number.isFinite(v) ? v : 0)), haic) : null,
    });
  }
  for (const v of CATEGORICAL.filter((c) => frame.has(c))) {
    const x = frame.str(v);
    const levels = [...new Set(x.filter((l): l is string => l !== null))].sort();
    for (const level of levels) {
      const indicator = Float64Array.from(x, (l) => (l === level ? 1 : 0));
      rows.push({
        variable: v,
        level,
        cells: groups.map((g) => {
          const known = g.rows.filter((i) => x[i] !== null);
          const k = known.filter((i) => x[i] === level).length;
          return known.length ? `${k} (${((100 * k) / known.length).toFixed(1)}%)` : 'NA';
        }),
        missing: x.filter((l) => l === null).length,
        smdTreatment: haic ? smd(indicator, haic) : null,
      });
    }
  }
  return { groups: groups.map((g) => ({ name: g.name, n: g.rows.length })), rows };
}
