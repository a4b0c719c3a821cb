/**
 * Natural order of stage labels across systems (BCLC 0 < A < ... < D; CNLC Ia < Ib < IIa < ... < IV;
 * TNM IA < ... < IVB; six-and-twelve <=6 < >6-12 < >12; numeric scores by value), so rare levels can be merged
 * with their neighbour rather than with an arbitrary one.
 */
const ROMAN: Record<string, number> = { I: 1, II: 2, III: 3, IV: 4, V: 5 };

export function stageOrderKey(label: string): number {
  const s = label.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const roman = /^(IV|V|I{1,3})([A-Za-z]?)$/.exec(s);
  if (roman) return ROMAN[roman[1]!]! * 10 + (roman[2] ? roman[2].toLowerCase().charCodeAt(0) - 96 : 0);
  const bound = /^(<=|≤|<|>=|≥|>)?\s*(\d+(\.\d+)?)/.exec(s);
  if (bound) return Number(bound[2]) + (bound[1]?.startsWith('>') ? 0.5 : 0);
  if (/^[A-Z]$/.test(s)) return s.charCodeAt(0) - 64;
  return Number.POSITIVE_INFINITY;
}

export function sortStages(levels: Iterable<string>): string[] {
  return [...new Set(levels)].sort((a, b) => stageOrderKey(a) - stageOrderKey(b) || a.localeCompare(b));
}

/**
 * Levels with fewer than `minCount` training cases are merged into the adjacent level (the next higher one, or
 * the previous for the top level) until every level is large enough. Returns label -> merged group label.
 */
export function mergeRareStages(counts: Map<string, number>, minCount: number): Map<string, string> {
  let groups = sortStages(counts.keys()).map((l) => ({ labels: [l], n: counts.get(l)! }));
  for (;;) {
    const i = groups.findIndex((g) => g.n < minCount);
    if (i < 0 || groups.length <= 1) break;
    const j = i < groups.length - 1 ? i + 1 : i - 1;
    const [a, b] = i < j ? [i, j] : [j, i];
    const merged = { labels: [...groups[a]!.labels, ...groups[b]!.labels], n: groups[a]!.n + groups[b]!.n };
    groups = [...groups.slice(0, a), merged, ...groups.slice(b + 1)];
  }
  const map = new Map<string, string>();
  for (const g of groups) for (const l of g.labels) map.set(l, g.labels.join('/'));
  return map;
}
