import { escapeXml, px } from './escape.js';
import { linearScale } from './scale.js';

/**
 * A points nomogram as rms draws it: a 0-100 points ruler, one axis per predictor placed by its points, a
 * total-points ruler, and one axis per outcome (e.g. 1-, 2- and 3-year survival) placed by total points.
 */
export interface NomogramFigure {
  predictors: Array<{ label: string; ticks: Array<{ label: string; points: number }> }>;
  totalPointsMax: number;
  outcomes: Array<{ label: string; ticks: Array<{ label: string; totalPoints: number }> }>;
}

export function nomogramChart(figure: NomogramFigure, options: { title?: string; width?: number } = {}): string {
  const width = options.width ?? 720;
  const left = 170;
  const right = 30;
  const rowHeight = 34;
  const top = options.title ? 40 : 16;
  const rows = 2 + figure.predictors.length + figure.outcomes.length;
  const height = top + rows * rowHeight + 10;
  const points = linearScale([0, 100], [left, width - right]);
  const total = linearScale([0, figure.totalPointsMax || 1], [left, width - right]);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="10">`,
  ];
  if (options.title) out.push(`<text x="8" y="20" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`);
  const axis = (row: number, label: string, ticks: Array<{ label: string; at: number }>): void => {
    const y = top + row * rowHeight + 18;
    out.push(`<text x="8" y="${y + 4}" font-weight="bold">${escapeXml(label)}</text>`);
    if (ticks.length === 0) return;
    const xs = ticks.map((t) => t.at);
    out.push(`<line x1="${px(Math.min(...xs))}" x2="${px(Math.max(...xs))}" y1="${y}" y2="${y}" stroke="#333"/>`);
    for (const t of ticks) {
      out.push(`<line x1="${px(t.at)}" x2="${px(t.at)}" y1="${y}" y2="${y - 5}" stroke="#333"/>`);
      out.push(`<text x="${px(t.at)}" y="${y - 8}" text-anchor="middle">${escapeXml(t.label)}</text>`);
    }
  };
  axis(0, 'Points', points.ticks(10).map((p) => ({ label: String(p), at: points(p) })));
  figure.predictors.forEach((p, i) => axis(1 + i, p.label, p.ticks.map((t) => ({ label: t.label, at: points(t.points) }))));
  const totalRow = 1 + figure.predictors.length;
  axis(totalRow, 'Total points', total.ticks(10).map((p) => ({ label: String(p), at: total(p) })));
  figure.outcomes.forEach((o, i) =>
    axis(totalRow + 1 + i, o.label, o.ticks.filter((t) => t.totalPoints >= 0 && t.totalPoints <= figure.totalPointsMax).map((t) => ({ label: t.label, at: total(t.totalPoints) }))),
  );
  out.push('</svg>');
  return out.join('');
}
