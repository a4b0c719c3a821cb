import { escapeXml } from './svg/escape.js';

/**
 * A self-contained HTML report: inline CSS and SVG, images as data URIs, no scripts and no external requests,
 * so it opens offline, can be mailed as one file, and prints cleanly (figures never split across pages).
 */
export type CellValue = string | number | null;

export interface Table {
  columns: string[];
  rows: CellValue[][];
}

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'figure'; svg: string; caption: string }
  | { kind: 'image'; png: Uint8Array; alt: string; caption: string }
  | { kind: 'table'; table: Table; caption: string }
  | { kind: 'list'; items: string[] }
  /** Trusted markup produced by our own renderers. */
  | { kind: 'html'; html: string };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  subtitle?: string;
  /** Shown on top of every page, e.g. "Research use only: trained on synthetic data". */
  banner?: string;
  sections: Section[];
}

const CSS = `
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:1000px;margin:0 auto;padding:16px 24px;color:#222;line-height:1.45}
h1{font-size:22px;margin-bottom:2px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:32px}
.subtitle{color:#555;margin-top:0}.banner{background:#fff3cd;border:1px solid #e0c36c;padding:8px 12px;font-weight:bold}
table{border-collapse:collapse;margin:8px 0;font-size:12px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:12px 0;break-inside:avoid}figcaption{font-size:12px;color:#444;margin-top:4px}
nav ol{columns:2;font-size:13px}svg{max-width:100%;height:auto}
@media print{.banner{position:running(header)}h2{break-after:avoid}a{color:inherit;text-decoration:none}}
`;

export function formatCell(value: CellValue): string {
  if (value === null) return '–';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'NA';
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(1) : Number(value.toPrecision(3)).toString();
  }
  return value;
}

export function tableHtml(table: Table): string {
  const head = `<tr>${table.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr>`;
  const body = table.rows
    .map((row) => `<tr>${row.map((v) => `<td${typeof v === 'number' ? ' class="num"' : ''}>${escapeXml(formatCell(v))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function blockHtml(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p>${escapeXml(block.text)}</p>`;
    case 'list':
      return `<ul>${block.items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ul>`;
    case 'figure':
      return `<figure>${block.svg}<figcaption>${escapeXml(block.caption)}</figcaption></figure>`;
    case 'image':
      return `<figure><img alt="${escapeXml(block.alt)}" src="data:image/png;base64,${Buffer.from(block.png).toString('base64')}"/><figcaption>${escapeXml(block.caption)}</figcaption></figure>`;
    case 'table':
      return `<figure>${tableHtml(block.table)}<figcaption>${escapeXml(block.caption)}</figcaption></figure>`;
    case 'html':
      return block.html;
  }
}

export function renderReport(doc: ReportDocument): string {
  const banner = doc.banner ? `<div class="banner">${escapeXml(doc.banner)}</div>` : '';
  const nav = `<nav><ol>${doc.sections.map((s) => `<li><a href="#${escapeXml(s.id)}">${escapeXml(s.title)}</a></li>`).join('')}</ol></nav>`;
  const sections = doc.sections
    .map((s) => `<section id="${escapeXml(s.id)}">\n<h2>${escapeXml(s.title)}</h2>\n${s.blocks.map(blockHtml).join('\n')}\n</section>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(doc.title)}</title><style>${CSS}</style></head>
<body>
${banner}
<h1>${escapeXml(doc.title)}</h1>
${doc.subtitle ? `<p class="subtitle">${escapeXml(doc.subtitle)}</p>` : ''}
${nav}
${sections}
${banner}
</body></html>
`;
}
