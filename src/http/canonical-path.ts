/**
 * Canonical request paths (pure). Every request path is canonicalised once, before routing, so one route has one
 * spelling and governance cannot be dodged by writing it another way:
 * - percent-encoded unreserved characters (RFC 3986 2.3: letters, digits, `-._~`) are decoded (`%63` is `c`); other
 *   escapes are kept, with upper-case hex;
 * - empty segments are dropped (`//` is `/`, and so is a trailing slash);
 * - dot segments are resolved (RFC 3986 5.2.4): `.` goes, `..` removes the segment before it, never above the root.
 * Paths that no upstream must see in any spelling are refused: encoded `/` or `\`, a raw `\`, NUL, control
 * characters, malformed escapes. The canonical path is what is routed, audited and forwarded; dot segments never go upstream.
 */

export type CanonicalPath = { ok: true; path: string } | { ok: false; reason: string };

const HEX = /^[0-9A-Fa-f]{2}$/;

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e
  );
}

/** Decodes unreserved escapes of one segment; null when the segment holds something refused. */
function canonicalSegment(segment: string): string | null {
  if (segment.indexOf('%') < 0 && !/[\\\x00-\x1f\x7f]/.test(segment)) return segment;
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) return null;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = segment.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return null;
    const code = parseInt(hex, 16);
    if (code === 0x2f || code === 0x5c || code < 0x20 || code === 0x7f) return null;
    out += isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/** The canonical form of a request path (no query string); the fast path returns an already canonical path as is. */
export function canonicalPath(raw: string): CanonicalPath {
  if (!needsWork(raw)) return { ok: true, path: raw };
  const out: string[] = [];
  for (const part of raw.split('/')) {
    const segment = canonicalSegment(part);
    if (segment === null) return { ok: false, reason: `the path segment ${JSON.stringify(part)} holds an encoded slash or backslash, a backslash, a control character or a malformed escape` };
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return { ok: true, path: `/${out.join('/')}` };
}

/** True unless the path is already canonical: starts with "/", no "//", no trailing "/", no dot segment, no "%" or "\". */
function needsWork(path: string): boolean {
  if (path.charCodeAt(0) !== 47) return true;
  if (path.length > 1 && path.charCodeAt(path.length - 1) === 47) return true;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */ || c < 0x20 || c === 0x7f) return true;
    if (c === 47 /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 47) return true;
      if (next === 46 /* . */) {
        const after = path.charCodeAt(i + 2);
        if (Number.isNaN(after) || after === 47) return true;
        if (after === 46 && (Number.isNaN(path.charCodeAt(i + 3)) || path.charCodeAt(i + 3) === 47)) return true;
      }
    }
  }
  return false;
}
