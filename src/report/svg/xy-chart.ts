import { escapeXml, px } from './escape.js';
import { colorAt } from './palette.js';
import { formatTick, linearScale } from './scale.js';

/**
 * One chart type for every x-y figure in the report: ROC curves, Kaplan-Meier panels (step series, censor
 * marks, numbers at risk), td-AUC over time, calibration and decision curves. Output is a standalone SVG
 * string, so a report stays one self-contained HTML file.
 */
export type Point = [number, number];

export interface Series {
  label: string;
  points: Point[];
  /** 'step' draws a right-continuous step function, as survival curves are. */
  kind?: 'line' | 'step' | 'points';
  /** Confidence band drawn under the series (same kind as the series). */
  band?: { lower: Point[]; upper: Point[] };
  /** Small vertical ticks, e.g. censoring times on a KM curve. */
  marks?: Point[];
  color?: string;
  dashed?: boolean;
}

export interface XyChartSpec {
  title?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** The y = x line (ROC chance line, perfect calibration). */
  diagonal?: boolean;
  /** Horizontal reference lines, e.g. net benefit 0. */
  hLines?: number[];
  /** A numbers-at-risk table under the x axis: one row per series, values at `at`. */
  atRisk?: { at: number[]; rows: Array<{ label: string; values: number[] }> };
  width?: number;
  height?: number;
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return fallback;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

function pathFor(points: Point[], kind: 'line' | 'step', x: (v: number) => number, y: (v: number) => number): string {
  if (points.length === 0) return '';
  const parts = [`M${px(x(points[0]![0]))},${px(y(points[0]![1]))}`];
  for (let i = 1; i < points.length; i++) {
    const [xi, yi] = points[i]!;
    if (kind === 'step') parts.push(`H${px(x(xi))}`);
    parts.push(`${kind === 'step' ? 'V' : 'L'}${kind === 'step' ? px(y(yi)) : `${px(x(xi))},${px(y(yi))}`}`);
  }
  return parts.join('');
}

function bandPath(lower: Point[], upper: Point[], kind: 'line' | 'step', x: (v: number) => number, y: (v: number) => number): string {
  const stepped = (pts: Point[]): Point[] =>
    kind === 'step' ? pts.flatMap((p, i) => (i === 0 ? [p] : [[p[0], pts[i - 1]![1]] as Point, p])) : pts;
  const lo = stepped(lower);
  const hi = stepped(upper).reverse();
  const all = [...lo, ...hi];
  return all.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(x(p[0]))},${px(y(p[1]))}`).join('') + 'Z';
}

// Inline SVGs share one id space in an HTML page, so each chart's clip path gets its own id.
let chartCounter = 0;

export function xyChart(spec: XyChartSpec): string {
  const clipId = `xy-clip-${++chartCounter}`;
  const width = spec.width ?? 480;
  const riskRows = spec.atRisk?.rows.length ?? 0;
  const plotHeight = spec.height ?? 320;
  const margin = { top: spec.title ? 30 : 12, right: 16, bottom: 44 + (riskRows > 0 ? 18 + 16 * riskRows : 0), left: 56 };
  const height = plotHeight + margin.top + margin.bottom;
  const allPoints = spec.series.flatMap((s) => [...s.points, ...(s.band ? [...s.band.lower, ...s.band.upper] : [])]);
  const xDomain = spec.xDomain ?? extent(allPoints.map((p) => p[0]), [0, 1]);
  const yDomain = spec.yDomain ?? extent(allPoints.map((p) => p[1]), [0, 1]);
  const x = linearScale(xDomain, [margin.left, width - margin.right]);
  const y = linearScale(yDomain, [margin.top + plotHeight, margin.top]);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`);
  if (spec.title) out.push(`<text x="${margin.left}" y="18" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`);
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${px(width - margin.left - margin.right)}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  for (const t of x.ticks(6)) {
    out.push(`<line x1="${px(x(t))}" x2="${px(x(t))}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(x(t))}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of y.ticks(5)) {
    out.push(`<line x1="${margin.left - 4}" x2="${width - margin.right}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#eee"/>`);
    out.push(`<text x="${margin.left - 6}" y="${px(y(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  out.push(`<text x="${px((margin.left + width - margin.right) / 2)}" y="${margin.top + plotHeight + 32}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(14,${px(margin.top + plotHeight / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  if (spec.diagonal) {
    const lo = Math.max(xDomain[0], yDomain[0]);
    const hi = Math.min(xDomain[1], yDomain[1]);
    out.push(`<line x1="${px(x(lo))}" y1="${px(y(lo))}" x2="${px(x(hi))}" y2="${px(y(hi))}" stroke="#aaa" stroke-dasharray="4 3"/>`);
  }
  for (const h of spec.hLines ?? []) {
    out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${px(y(h))}" y2="${px(y(h))}" stroke="#888" stroke-dasharray="2 2"/>`);
  }
  out.push(`<defs><clipPath id="${clipId}"><rect x="${margin.left}" y="${margin.top}" width="${px(width - margin.left - margin.right)}" height="${plotHeight}"/></clipPath></defs>`);
  out.push(`<g clip-path="url(#${clipId})">`);
  spec.series.forEach((s, i) => {
    const color = s.color ?? colorAt(i);
    const kind = s.kind ?? 'line';
    if (s.band && kind !== 'points') {
      out.push(`<path d="${bandPath(s.band.lower, s.band.upper, kind, x, y)}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
    }
    if (kind === 'points') {
      for (const [px0, py0] of s.points) out.push(`<circle cx="${px(x(px0))}" cy="${px(y(py0))}" r="3" fill="${color}"/>`);
    } else {
      out.push(`<path d="${pathFor(s.points, kind, x, y)}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    for (const [mx, my] of s.marks ?? []) {
      out.push(`<line x1="${px(x(mx))}" x2="${px(x(mx))}" y1="${px(y(my) - 3)}" y2="${px(y(my) + 3)}" stroke="${color}"/>`);
    }
  });
  out.push('</g>');
  // Legend in the top-right corner, sized to its longest label (about 6.2 px per character at 11 px).
  const legendWidth = 26 + 6.2 * Math.max(0, ...spec.series.map((s) => s.label.length));
  const legendX = width - margin.right - 6 - legendWidth;
  spec.series.forEach((s, i) => {
    const ly = margin.top + 14 + i * 14;
    out.push(`<line x1="${px(legendX)}" x2="${px(legendX + 16)}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color ?? colorAt(i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${px(legendX + 20)}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  if (spec.atRisk) {
    const top = margin.top + plotHeight + 48;
    out.push(`<text x="4" y="${top}" font-weight="bold">Number at risk</text>`);
    spec.atRisk.rows.forEach((row, r) => {
      const ry = top + 16 * (r + 1);
      out.push(`<text x="4" y="${ry}" fill="${spec.series[r]?.color ?? colorAt(r)}">${escapeXml(row.label.slice(0, 8))}</text>`);
      spec.atRisk!.at.forEach((t, j) => {
        out.push(`<text x="${px(x(t))}" y="${ry}" text-anchor="middle">${row.values[j] ?? ''}</text>`);
      });
    });
  }
  out.push('</svg>');
  return out.join('');
}
