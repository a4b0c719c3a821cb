/** Text and attribute escaping shared by the SVG and HTML writers. */
export function escapeXml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Numbers in SVG coordinates: two decimals are finer than any printer, and keep reports small. */
export function px(x: number): string {
  return (Math.round(x * 100) / 100).toString();
}
