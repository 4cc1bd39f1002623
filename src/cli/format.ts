/** Plain-text tables for the CLI. */
export function formatTable<T>(rows: T[], headers: string[], cells: (row: T) => string[]): string {
  if (rows.length === 0) return '(none)';
  const body = rows.map(cells);
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...body.map(line)].join('\n');
}
