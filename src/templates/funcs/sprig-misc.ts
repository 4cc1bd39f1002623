// Sprig regex, path, environment and flow-control functions.

import { FuncError } from '../errors.js';
import { nilSlice, withGoType } from '../values.js';
import { type FuncTable, def } from './types.js';

// ---------------------------------------------------------------- regular expressions

/**
 * Compiles a Go (RE2) pattern with JavaScript's engine. Leading inline flags (?i)(?m)(?s)
 * and (?P<name>...) groups are translated; other RE2-only syntax is not.
 */
function compile(expr: string): RegExp {
  let flags = 'g';
  let body = expr;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    if (lead[1]!.includes('U')) throw new FuncError(`error parsing regexp: unsupported flag U in ${expr}`);
    flags += lead[1]!;
    body = body.slice(lead[0].length);
  }
  body = body.replaceAll('(?P<', '(?<').replaceAll('\\z', '$');
  try {
    return new RegExp(body, flags + 'u');
  } catch {
    try {
      return new RegExp(body, flags);
    } catch (err) {
      throw new FuncError(`error parsing regexp: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Go's allMatches: successive non-overlapping matches, skipping empty matches that abut the previous one. */
function allMatches(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let prevMatchEnd = -1;
  for (let pos = 0; (n < 0 || out.length < n) && pos <= s.length; ) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) break;
    const end = m.index + m[0].length;
    let accept = true;
    if (end === pos) {
      if (m.index === prevMatchEnd) accept = false;
      pos += pos < s.length ? String.fromCodePoint(s.codePointAt(pos)!).length : 1;
    } else {
      pos = end;
    }
    prevMatchEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/** Go's Regexp.Expand for $1, ${1}, $name, ${name} and $$. */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    rest = rest.slice(ref[0].length);
    const name = ref[1] ?? ref[2]!;
    let value: string | undefined;
    if (/^\d+$/.test(name) && !(name.length > 1 && name[0] === '0')) value = m[Number(name)];
    else value = m.groups?.[name];
    out += value ?? '';
  }
  return out + rest;
}

function replaceAll(expr: string, s: string, repl: string, literal: boolean): string {
  const re = compile(expr);
  let out = '';
  let last = 0;
  for (const m of allMatches(re, s, -1)) {
    out += s.slice(last, m.index) + (literal ? repl : expand(repl, m));
    last = m.index + m[0].length;
  }
  return out + s.slice(last);
}

function split(expr: string, s: string, n: number): string[] {
  if (n === 0) return nilSlice('[]string') as string[];
  const re = compile(expr);
  if (expr.length > 0 && s.length === 0) return withGoType([''], '[]string');
  const parts: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of allMatches(re, s, n)) {
    if (n > 0 && parts.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) parts.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) parts.push(s.slice(beg));
  return withGoType(parts, '[]string');
}

function findAll(expr: string, s: string, n: number): string[] {
  const found = allMatches(compile(expr), s, n).map((m) => m[0]);
  return found.length === 0 ? (nilSlice('[]string') as string[]) : withGoType(found, '[]string');
}

function matches(expr: string, s: string): boolean {
  const re = compile(expr);
  re.lastIndex = 0;
  return re.test(s);
}

const regexFunctions: FuncTable = {
  regexMatch: def(['string', 'string'], (r: string, s: string) => {
    try {
      return matches(r, s);
    } catch {
      return false;
    }
  }),
  mustRegexMatch: def(['string', 'string'], matches),
  regexFindAll: def(['string', 'string', 'int'], findAll),
  mustRegexFindAll: def(['string', 'string', 'int'], findAll),
  regexFind: def(['string', 'string'], (r: string, s: string) => allMatches(compile(r), s, 1)[0]?.[0] ?? ''),
  mustRegexFind: def(['string', 'string'], (r: string, s: string) => allMatches(compile(r), s, 1)[0]?.[0] ?? ''),
  regexReplaceAll: def(['string', 'string', 'string'], (r: string, s: string, x: string) => replaceAll(r, s, x, false)),
  mustRegexReplaceAll: def(['string', 'string', 'string'], (r: string, s: string, x: string) => replaceAll(r, s, x, false)),
  regexReplaceAllLiteral: def(['string', 'string', 'string'], (r: string, s: string, x: string) => replaceAll(r, s, x, true)),
  mustRegexReplaceAllLiteral: def(['string', 'string', 'string'], (r: string, s: string, x: string) => replaceAll(r, s, x, true)),
  regexSplit: def(['string', 'string', 'int'], split),
  mustRegexSplit: def(['string', 'string', 'int'], split),
  regexQuoteMeta: def(['string'], (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')),
};

// ---------------------------------------------------------------- paths (Go's path package)

/** path.Clean. */
function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  const out = (rooted ? '/' : '') + parts.join('/');
  return out === '' ? '.' : out;
}

function basePath(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function dirPath(p: string): string {
  return cleanPath(p.slice(0, p.lastIndexOf('/') + 1));
}

function extPath(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

const pathFunctions: FuncTable = {
  base: def(['string'], basePath),
  dir: def(['string'], dirPath),
  clean: def(['string'], cleanPath),
  ext: def(['string'], extPath),
  isAbs: def(['string'], (p: string) => p.startsWith('/')),
  osBase: def(['string'], basePath),
  osDir: def(['string'], dirPath),
  osClean: def(['string'], cleanPath),
  osExt: def(['string'], extPath),
  osIsAbs: def(['string'], (p: string) => p.startsWith('/')),
};

// ---------------------------------------------------------------- environment

const SHELL_SPECIAL = /^[*#$@!?\-0-9]$/;

/** os.Expand: replaces $var and ${var} using the lookup. */
function expandEnv(s: string, lookup: (name: string) => string): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] !== '$' || j + 1 >= s.length) continue;
    out += s.slice(i, j);
    const { name, width } = shellName(s.slice(j + 1));
    if (name === '' && width > 0) {
      // Invalid syntax such as "${}": the characters are dropped.
    } else if (name === '') {
      out += '$';
    } else {
      out += lookup(name);
    }
    j += width;
    i = j + 1;
  }
  return i === 0 ? s : out + s.slice(i);
}

function shellName(s: string): { name: string; width: number } {
  if (s[0] === '{') {
    if (s.length > 2 && SHELL_SPECIAL.test(s[1]!) && s[2] === '}') return { name: s[1]!, width: 3 };
    const close = s.indexOf('}', 1);
    if (close === 1) return { name: '', width: 2 };
    if (close > 1) return { name: s.slice(1, close), width: close + 1 };
    return { name: '', width: 1 };
  }
  if (SHELL_SPECIAL.test(s[0]!)) return { name: s[0]!, width: 1 };
  const m = /^[A-Za-z0-9_]*/.exec(s)!;
  return { name: m[0], width: m[0].length };
}

/** Functions reading the environment injected through parseTemplate's options (never process.env). */
export function envFunctions(env: Readonly<Record<string, string>>): FuncTable {
  const lookup = (name: string): string => (Object.prototype.hasOwnProperty.call(env, name) ? env[name]! : '');
  return {
    env: def(['string'], lookup),
    expandenv: def(['string'], (s: string) => expandEnv(s, lookup)),
  };
}

export const SPRIG_MISC: FuncTable = {
  ...regexFunctions,
  ...pathFunctions,
  fail: def(['string'], (msg: string) => {
    throw new FuncError(msg);
  }),
};
