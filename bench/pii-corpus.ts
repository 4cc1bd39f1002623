/**
 * Detection quality and speed of the PII/secret detectors on a corpus of realistic prompts: prose, code, log lines
 * and JSON (seeded, so runs compare), each with planted values of every detector and with the look-alikes real
 * text is full of (UUIDs, git SHAs, timestamps, IPs, order numbers, Luhn-invalid digit runs, hex hashes). Reports
 * precision and recall per detector and per genre, and the scan's time per MB per genre.
 * Run: node dist/bench/pii-corpus.js
 */
import { pathToFileURL } from 'node:url';
import { mulberry32 } from '../src/fake-mistral/random.js';
import { DETECTOR_NAMES, findSensitiveSpans, luhnValid, type DetectorName } from '../src/policy/detectors.js';

export const GENRES = ['prose', 'code', 'logs', 'json'] as const;
export type Genre = (typeof GENRES)[number];

export interface Planted {
  detector: DetectorName;
  start: number;
  end: number;
}

export interface Document {
  genre: Genre;
  text: string;
  planted: Planted[];
}

/** Builds documents of one genre; `plantEvery`: roughly one planted value per that many characters. */
export function corpus(seed: number, genre: Genre, documents: number, bytes: number, plantEvery = 600): Document[] {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  const DIGITS = '0123456789';
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const HEX = '0123456789abcdef';

  const cardNumber = () => {
    // Visa, Mastercard, Discover: 16 digits; American Express: 15 (the check digit last).
    const [prefix, length] = pick([['4', 16], ['51', 16], ['2221', 16], ['37', 15], ['6011', 16]] as const);
    const digits = prefix + chars(DIGITS, length - 1 - prefix.length);
    for (let check = 0; check < 10; check++) {
      if (luhnValid(digits + check)) {
        const full = digits + check;
        return pick([full, full.replace(/(\d{4})(?=\d)/g, '$1 '), full.replace(/(\d{4})(?=\d)/g, '$1-')]);
      }
    }
    return digits;
  };
  const iban = () => {
    const country = pick(['DE', 'FR', 'GB', 'NL', 'ES']);
    const bban = country === 'GB' ? `NWBK${chars(DIGITS, 14)}` : chars(DIGITS, country === 'NL' ? 14 : 18);
    const numeric = (s: string) => [...s].map((c) => (c >= 'A' ? String(c.charCodeAt(0) - 55) : c)).join('');
    let remainder = 0;
    for (const d of numeric(`${bban}${country}00`)) remainder = (remainder * 10 + Number(d)) % 97;
    const check = String(98 - remainder).padStart(2, '0');
    const plain = `${country}${check}${bban}`;
    return random() < 0.5 ? plain : plain.replace(/(.{4})(?=.)/g, '$1 ');
  };
  const SECRETS: Record<DetectorName, () => string> = {
    email: () => `${pick(['alice', 'bob.smith', 'j.doe+billing', 'ops-team', 'x_y'])}@${pick(['example.com', 'acme.io', 'mail.company.co.uk'])}`,
    credit_card: cardNumber,
    api_key: () =>
      pick([
        () => `sk-proj-${chars(ALNUM, 48)}`,
        () => `AKIA${chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`,
        () => `ghp_${chars(ALNUM, 36)}`,
        () => `xoxb-${chars(DIGITS, 12)}-${chars(DIGITS, 12)}-${chars(ALNUM, 24)}`,
        () => `cz_live_${chars(ALNUM, 32)}`,
        () => chars(ALNUM, 40), // an unnamed token
      ])(),
    phone: () => pick(['+33 6 12 34 56 78', '(415) 555-0132', '+1-415-555-0199', '020 7946 0958', '+49 30 901820']),
    iban,
  };
  /** Things that look like secrets and are not. */
  const lookAlike = () =>
    pick([
      () => `${chars(HEX, 8)}-${chars(HEX, 4)}-4${chars(HEX, 3)}-a${chars(HEX, 3)}-${chars(HEX, 12)}`, // UUID
      () => chars(HEX, 40), // git SHA
      () => `sha256:${chars(HEX, 64)}`,
      () => `2026-${String(1 + int(12)).padStart(2, '0')}-${String(1 + int(28)).padStart(2, '0')}T${String(int(24)).padStart(2, '0')}:${String(int(60)).padStart(2, '0')}:07.${chars(DIGITS, 3)}Z`,
      () => `10.${int(255)}.${int(255)}.${int(255)}`,
      () => `ORD-2026-${chars(DIGITS, 6)}`,
      () => `v${int(9)}.${int(30)}.${int(100)}`,
      () => chars(DIGITS, 16), // a 16-digit id; Luhn-valid one time in ten (then a card look-alike no detector can tell apart)
      () => `${int(100000)}ms`,
      () => `user_${chars(DIGITS, 8)}`,
      () => `${chars(DIGITS, 3)}.${chars(DIGITS, 2)} EUR`,
    ])();

  const words = 'the a of to and in is that for it with as on be at by this we you from or have not are but can which one all will there their so if about more when up out what time do only into its then than also some could these two may first any new like how our over such even most after work well way because year good people make use'.split(' ');
  const sentence = () => {
    const n = 8 + int(14);
    const w = Array.from({ length: n }, () => pick(words));
    w[0] = (w[0] as string).charAt(0).toUpperCase() + (w[0] as string).slice(1);
    return `${w.join(' ')}.`;
  };
  const filler: Record<Genre, () => string> = {
    prose: () => sentence() + (random() < 0.2 ? '\n\n' : ' '),
    code: () =>
      pick([
        () => `  const ${pick(['result', 'value', 'config', 'items'])}${int(99)} = await ${pick(['fetch', 'load', 'parse'])}(${pick(['url', 'path', 'input'])}, { retries: ${int(5)}, timeout: ${int(5000)} });\n`,
        () => `def ${pick(['handle', 'compute', 'render'])}_${int(99)}(self, ${pick(['request', 'items', 'ctx'])}):\n    return [x for x in ${pick(['items', 'rows'])} if x.${pick(['id', 'score'])} > ${int(100)}]\n`,
        () => `  // ${sentence()}\n`,
        () => `  if (${pick(['err', 'status'])} !== ${int(600)}) throw new Error('${pick(words)} ${pick(words)} failed: ' + ${pick(['code', 'msg'])});\n`,
        () => `  hash = "${chars(HEX, 40)}"\n`,
      ])(),
    logs: () =>
      `${lookAlikeTimestamp()} ${pick(['INFO', 'WARN', 'ERROR', 'DEBUG'])} [${pick(['http', 'db', 'worker-3', 'auth'])}] ${pick(['GET', 'POST'])} /api/v${int(3)}/${pick(['orders', 'users', 'items'])}/${chars(DIGITS, 6)} ${pick([200, 201, 404, 500])} ${int(900)}ms ip=10.${int(255)}.${int(255)}.${int(255)} req=${chars(HEX, 16)} bytes=${chars(DIGITS, 5)}\n`,
    json: () =>
      `{"id": ${chars(DIGITS, 9)}, "sku": "SKU-${chars(DIGITS, 7)}", "price": ${int(1000)}.${chars(DIGITS, 2)}, "qty": ${int(50)}, "ts": ${1_700_000_000_000 + int(1e11)}, "lat": ${int(90)}.${chars(DIGITS, 6)}, "lon": ${int(180)}.${chars(DIGITS, 6)}, "tags": ["${pick(words)}", "${pick(words)}"]},\n`,
  };
  function lookAlikeTimestamp(): string {
    return `2026-11-${String(1 + int(28)).padStart(2, '0')} ${String(int(24)).padStart(2, '0')}:${String(int(60)).padStart(2, '0')}:${String(int(60)).padStart(2, '0')}.${chars(DIGITS, 3)}`;
  }
  /** How a planted value sits in each genre. */
  const wrap: Record<Genre, (value: string) => [string, string]> = {
    prose: () => [pick(['Please contact ', 'My number is ', 'Use ', 'It was charged to ', 'Send it to ']), pick(['. ', ' today. ', ', thanks. '])],
    code: () => [pick(['  const secret = "', '  API_KEY = "', '  headers["Authorization"] = "Bearer ', '  to: "']), '"\n'],
    logs: () => [`${lookAlikeTimestamp()} WARN [auth] value=`, ' rejected\n'],
    json: () => [`{"${pick(['email', 'card', 'token', 'phone', 'iban'])}": "`, '"},\n'],
  };

  const docs: Document[] = [];
  for (let d = 0; d < documents; d++) {
    let text = '';
    const planted: Planted[] = [];
    let nextPlant = int(plantEvery);
    while (text.length < bytes) {
      if (text.length >= nextPlant) {
        const detector = pick(DETECTOR_NAMES);
        const value = SECRETS[detector]();
        const [before, after] = wrap[genre](value);
        text += before;
        planted.push({ detector, start: text.length, end: text.length + value.length });
        text += value + after;
        nextPlant = text.length + plantEvery / 2 + int(plantEvery);
      } else if (random() < 0.15) {
        text += `${lookAlike()}${genre === 'prose' ? ' ' : '\n'}`;
      } else {
        text += filler[genre]();
      }
    }
    docs.push({ genre, text, planted });
  }
  return docs;
}

export interface QualityRow {
  genre: Genre | 'all';
  detector: DetectorName | 'all';
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/** A detection counts when it overlaps a planted value of the same detector; each planted value is found or missed. */
export function score(docs: Document[]): QualityRow[] {
  const rows = new Map<string, QualityRow>();
  const row = (genre: QualityRow['genre'], detector: QualityRow['detector']) => {
    const key = `${genre}/${detector}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { genre, detector, truePositives: 0, falsePositives: 0, falseNegatives: 0 }));
    return r;
  };
  for (const doc of docs) {
    const found = findSensitiveSpans(doc.text);
    const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;
    for (const span of found) {
      const hit = doc.planted.some((p) => p.detector === span.detector && overlaps(p, span));
      for (const r of [row(doc.genre, span.detector), row('all', span.detector), row(doc.genre, 'all'), row('all', 'all')]) {
        if (hit) r.truePositives++;
        else r.falsePositives++;
      }
    }
    for (const p of doc.planted) {
      if (found.some((span) => span.detector === p.detector && overlaps(p, span))) continue;
      for (const r of [row(doc.genre, p.detector), row('all', p.detector), row(doc.genre, 'all'), row('all', 'all')]) r.falseNegatives++;
    }
  }
  return [...rows.values()];
}

/** Scan time per MB of one genre's text (warm). */
export function scanMsPerMb(docs: Document[], rounds = 3): number {
  const bytes = docs.reduce((n, d) => n + d.text.length, 0);
  for (const d of docs) findSensitiveSpans(d.text);
  const started = performance.now();
  for (let r = 0; r < rounds; r++) for (const d of docs) findSensitiveSpans(d.text);
  return (performance.now() - started) / rounds / (bytes / (1024 * 1024));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const docs = GENRES.flatMap((genre, i) => corpus(1000 + i, genre, 40, 32 * 1024));
  const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`);
  console.log(`# PII detectors on ${docs.length} documents of 32 KB (${GENRES.join(', ')}), ${docs.reduce((n, d) => n + d.planted.length, 0)} planted values`);
  console.log('| genre | detector | found | false positives | missed | precision | recall |');
  console.log('|---|---|---|---|---|---|---|');
  const rows = score(docs).sort((a, b) => (a.genre + a.detector).localeCompare(b.genre + b.detector));
  for (const r of rows) {
    if (r.genre !== 'all' && r.detector !== 'all') continue;
    const precision = r.truePositives / (r.truePositives + r.falsePositives);
    const recall = r.truePositives / (r.truePositives + r.falseNegatives);
    console.log(`| ${r.genre} | ${r.detector} | ${r.truePositives} | ${r.falsePositives} | ${r.falseNegatives} | ${pct(precision)} | ${pct(recall)} |`);
  }
  console.log('');
  console.log('| genre | scan ms per MB (1 MB documents) |');
  console.log('|---|---|');
  for (const [i, genre] of GENRES.entries()) console.log(`| ${genre} | ${scanMsPerMb(corpus(2000 + i, genre, 4, 1024 * 1024)).toFixed(1)} |`);
}
