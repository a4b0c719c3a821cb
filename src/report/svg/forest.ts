import { escapeXml, px } from './escape.js';
import { formatTick, logScale } from './scale.js';

/** A forest plot of hazard ratios with 95% CIs on a log axis, one row per estimate. */
export interface ForestRow {
  label: string;
  estimate: number;
  lower: number;
  upper: number;
  /** Right-hand annotation; by default "HR (lower-upper), p". */
  note?: string;
  p?: number;
}

export function formatP(p: number): string {
  if (!Number.isFinite(p)) return 'NA';
  return p < 0.001 ? 'P < 0.001' : `P = ${p.toFixed(3)}`;
}

export function forestPlot(rows: ForestRow[], options: { title?: string; xLabel?: string; width?: number } = {}): string {
  const width = options.width ?? 640;
  const rowHeight = 22;
  const top = options.title ? 34 : 14;
  const left = 200;
  const right = 190;
  const height = top + rows.length * rowHeight + 44;
  const finite = rows.flatMap((r) => [r.lower, r.upper, r.estimate]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.min(0.5, ...finite) * 0.9;
  const hi = Math.max(2, ...finite) * 1.1;
  const x = logScale([lo, hi], [left, width - right]);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
  ];
  if (options.title) out.push(`<text x="8" y="18" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`);
  const bottom = top + rows.length * rowHeight;
  out.push(`<line x1="${px(x(1))}" x2="${px(x(1))}" y1="${top}" y2="${bottom}" stroke="#888" stroke-dasharray="3 3"/>`);
  rows.forEach((r, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    out.push(`<text x="8" y="${px(cy + 4)}">${escapeXml(r.label)}</text>`);
    if ([r.estimate, r.lower, r.upper].every((v) => Number.isFinite(v) && v > 0)) {
      const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
      out.push(`<line x1="${px(x(clamp(r.lower)))}" x2="${px(x(clamp(r.upper)))}" y1="${px(cy)}" y2="${px(cy)}" stroke="#333"/>`);
      out.push(`<rect x="${px(x(r.estimate) - 4)}" y="${px(cy - 4)}" width="8" height="8" fill="#0072B2"/>`);
    }
    const note = r.note ?? `${r.estimate.toFixed(2)} (${r.lower.toFixed(2)}-${r.upper.toFixed(2)})${r.p === undefined ? '' : ', ' + formatP(r.p)}`;
    out.push(`<text x="${width - right + 8}" y="${px(cy + 4)}">${escapeXml(note)}</text>`);
  });
  out.push(`<line x1="${left}" x2="${width - right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  for (const t of x.ticks()) {
    out.push(`<line x1="${px(x(t))}" x2="${px(x(t))}" y1="${bottom}" y2="${bottom + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(x(t))}" y="${bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  out.push(`<text x="${px((left + width - right) / 2)}" y="${bottom + 34}" text-anchor="middle">${escapeXml(options.xLabel ?? 'Hazard ratio (95% CI, log scale)')}</text>`);
  out.push('</svg>');
  return out.join('');
}
