/**
 * Walking the audit API's pages: a page can stop short of its limit (even be empty) and still have a next_cursor,
 * when the store bounds its scan (docs/gateway.md, "Queries"), so a client keeps following next_cursor.
 */

export interface AuditPageOf<R> {
  records: R[];
  next_cursor: string;
}

/**
 * Records newest first, following next_cursor from `fetchPage('')` on, until `want` records, the record with id
 * `stopAt` (not included; then `want` does not apply), or the end.
 */
export async function collectAuditRecords<R extends { id: string }>(
  fetchPage: (cursor: string) => Promise<AuditPageOf<R>>,
  want: number,
  stopAt?: string,
): Promise<R[]> {
  const found: R[] = [];
  let cursor = '';
  do {
    const page = await fetchPage(cursor);
    const seen = stopAt === undefined ? -1 : page.records.findIndex((r) => r.id === stopAt);
    found.push(...(seen >= 0 ? page.records.slice(0, seen) : page.records));
    cursor = seen >= 0 ? '' : page.next_cursor;
  } while (cursor !== '' && (stopAt !== undefined || found.length < want));
  return stopAt === undefined ? found.slice(0, want) : found;
}
