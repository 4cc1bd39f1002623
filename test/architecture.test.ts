/**
 * Dependency direction, checked on the sources: pure modules do no I/O and import only pure modules; config imports
 * only itself and pure modules; the shared pipeline knows no path built on it; the two governed paths do not import
 * each other. A broken rule names the file and the import.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository's src/ (the compiled test runs from a build folder below the repository). */
function sourceRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'src');
  }
  throw new Error('package.json not found above the test');
}

const ROOT = sourceRoot();

/** Modules with no I/O: policy evaluation, templates, SSE parsing, wire translators. */
const PURE = ['policy', 'templates', 'sse', 'translators'];
const IO_PACKAGES = ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:net', 'node:child_process', 'node:worker_threads', 'undici', 'better-sqlite3'];

interface Import {
  from: string; // module folder of the importing file, e.g. "proxy"
  file: string;
  target: string; // resolved module folder ("proxy") or package name
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function moduleOf(file: string): string {
  const rel = path.relative(ROOT, file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0]! : rel.replace(/\.ts$/, '');
}

/** True for `import { type A, type B } from ...`: every named import is a type. */
function onlyTypes(statement: string): boolean {
  const names = /\{([^}]*)\}/.exec(statement)?.[1];
  if (names === undefined || /^\s*(import|export)\s+\w/.test(statement.replace(/^\s*(import|export)\s+type\b/, ''))) return false;
  const items = names.split(',').map((n) => n.trim()).filter(Boolean);
  return items.length > 0 && items.every((n) => n.startsWith('type '));
}

function imports(): Import[] {
  const out: Import[] = [];
  for (const file of sources(ROOT)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
      const spec = m[3]!;
      const target = spec.startsWith('.') ? moduleOf(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'))) : spec;
      out.push({ from: moduleOf(file), file: path.relative(ROOT, file), target, typeOnly: m[2] !== undefined || onlyTypes(m[0]!) });
    }
  }
  return out;
}

const all = imports();

function broken(rule: (i: Import) => boolean): string[] {
  return all.filter(rule).map((i) => `${i.file} imports ${i.target}`);
}

test('the import scan sees the sources', () => {
  assert.ok(all.length > 100);
  assert.ok(all.some((i) => i.from === 'proxy' && i.target === 'pipeline'));
});

test('pure modules import no I/O and only pure modules', () => {
  const isSrcModule = (t: string) => !t.startsWith('node:') && !t.includes('/') && !['zod', 'undici', 'better-sqlite3'].includes(t) && t !== t.toUpperCase();
  assert.deepEqual(
    broken((i) => PURE.includes(i.from) && (IO_PACKAGES.includes(i.target) || (!i.typeOnly && isSrcModule(i.target) && !PURE.includes(i.target) && !i.target.startsWith('@')))),
    [],
  );
});

test('config imports only itself and pure modules (types from anywhere)', () => {
  const allowed = new Set(['config', ...PURE]);
  assert.deepEqual(broken((i) => i.from === 'config' && !i.typeOnly && !i.target.startsWith('node:') && i.target !== 'zod' && !allowed.has(i.target)), []);
});

test('the shared pipeline does not import the paths built on it', () => {
  assert.deepEqual(broken((i) => ['pipeline', 'upstream', 'http'].includes(i.from) && ['proxy', 'endpoints', 'admin', 'gateway', 'cli'].includes(i.target)), []);
});

test('the provider proxy and templated endpoints do not import each other', () => {
  assert.deepEqual(broken((i) => (i.from === 'proxy' && i.target === 'endpoints') || (i.from === 'endpoints' && i.target === 'proxy')), []);
});
