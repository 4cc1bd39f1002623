/**
 * Glob patterns compiled once into the cheapest matcher that is exact for them: `*` is any run of characters
 * (including none, `/`, `:` and newlines), `?` exactly one character (one Unicode code point); everything else is
 * literal. There is no escape: a literal `*` or `?` in a value is matched by a wildcard.
 */

export type StringMatcher = (value: string) => boolean;

const NEVER: StringMatcher = () => false;
const ALWAYS: StringMatcher = () => true;

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Compiles one pattern: string compare, prefix/suffix/substring checks, or an anchored RegExp when `?` or 3+ stars. */
export function compileGlob(pattern: string): StringMatcher {
  const p = pattern.replace(/\*{2,}/g, '*');
  if (p.includes('?')) return regexMatcher(p);
  const stars = p.split('*').length - 1;
  if (stars === 0) return (v) => v === p;
  if (p === '*') return ALWAYS;
  if (stars === 1) {
    const star = p.indexOf('*');
    const prefix = p.slice(0, star);
    const suffix = p.slice(star + 1);
    if (suffix === '') return (v) => v.startsWith(prefix);
    if (prefix === '') return (v) => v.endsWith(suffix);
    const minLength = prefix.length + suffix.length;
    return (v) => v.length >= minLength && v.startsWith(prefix) && v.endsWith(suffix);
  }
  if (stars === 2 && p.startsWith('*') && p.endsWith('*')) {
    const middle = p.slice(1, -1);
    return (v) => v.includes(middle);
  }
  return regexMatcher(p);
}

function regexMatcher(pattern: string): StringMatcher {
  let source = '^';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  const re = new RegExp(`${source}$`, 'su');
  return (v) => re.test(v);
}

/** Any-of matcher for a pattern list: exact patterns become one Set lookup, globs are tried after it. */
export function compileAnyOf(patterns: readonly string[]): StringMatcher {
  const exact = patterns.filter((p) => !isGlob(p));
  const globs = patterns.filter(isGlob).map(compileGlob);
  if (globs.some((g) => g === ALWAYS)) return ALWAYS;
  const exactMatch = exactMatcher(exact);
  if (globs.length === 0) return exactMatch;
  if (exact.length === 0 && globs.length === 1) return globs[0] ?? NEVER;
  return (v) => {
    if (exactMatch(v)) return true;
    for (const g of globs) if (g(v)) return true;
    return false;
  };
}

function exactMatcher(exact: readonly string[]): StringMatcher {
  if (exact.length === 0) return NEVER;
  if (exact.length === 1) {
    const only = exact[0];
    return (v) => v === only;
  }
  const set = new Set(exact);
  return (v) => set.has(v);
}

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Case folding for names compared case-insensitively (tool names): every code point is replaced by the lower case of
 * its upper case (so "ſ" and "s", "K" (Kelvin) and "k" fold alike), or kept when that mapping is not one code point
 * (e.g. "İ", "ß"). One code point stays one code point and no character folds into `*`, `?` or `/`, so
 * `compileGlob(foldCase(p))(foldCase(v))` holds whenever `compileGlob(p)(v)` does, and the resource head of a folded
 * value is the folded head. ASCII text takes the plain toLowerCase path.
 */
export function foldCase(text: string): string {
  if (!NON_ASCII.test(text)) return text.toLowerCase();
  let folded = '';
  for (const ch of text) folded += foldCodePoint(ch);
  return folded;
}

function foldCodePoint(ch: string): string {
  const upper = ch.toUpperCase();
  const base = isOneCodePoint(upper) ? upper : ch;
  const lower = base.toLowerCase();
  return isOneCodePoint(lower) ? lower : ch;
}

function isOneCodePoint(text: string): boolean {
  return text.length === 1 || (text.length === 2 && (text.codePointAt(0) ?? 0) > 0xffff);
}

/** The literal text before the first wildcard (the whole pattern when it has none). */
export function literalPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  const question = pattern.indexOf('?');
  const cut = Math.min(star < 0 ? pattern.length : star, question < 0 ? pattern.length : question);
  return pattern.slice(0, cut);
}
