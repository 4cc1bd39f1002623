/**
 * Named PII and secret detectors, shared by the policy engine (`prompt_detects`) and the gateway's PII scan
 * (CZ_GATEWAY_PII_ACTION=detect|mask|block). Each detector is linear in its input: a regex whose lookbehind pins
 * every match to the start of a run and whose repetitions are all bounded (no quadratic backtracking, no exhausted
 * backtrack stack on millions of word characters), or for email and api_key a single scan that finds where such a
 * regex could match and tries only there; plus a validator that rejects look-alikes (Luhn for cards, mod-97 for
 * IBANs, an entropy floor for generic tokens).
 */

export const DETECTOR_NAMES = ['email', 'credit_card', 'api_key', 'phone', 'iban'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

export function isDetectorName(name: string): name is DetectorName {
  return (DETECTOR_NAMES as readonly string[]).includes(name);
}

/** A detected value: text.slice(start, end). The matched text is deliberately not copied into the span. */
export interface DetectedSpan {
  detector: DetectorName;
  start: number;
  end: number;
}

interface Pattern {
  re: RegExp; // global
  accept?: (match: string) => boolean;
}

/**
 * How a detector finds its candidates in one text, in text order. The regex detectors run their pattern over the
 * text; email and api_key, the costly ones on prose and code, are found by the scans below, which give exactly the
 * spans their regexes would (test/policy-detectors.test.ts checks both against the regexes on random text).
 */
type Finder = (text: string, detector: DetectorName) => Iterable<DetectedSpan>;

/**
 * A known secret format fills a whole run of [A-Za-z0-9_-] (its regex was bounded by look-arounds on that class):
 * OpenAI/Anthropic, Stripe, AWS access key ids, GitHub, GitLab, Slack, Google, and this gateway's own keys.
 */
const KNOWN_KEY_RUN =
  /^(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,512}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,512}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,512}|github_pat_[A-Za-z0-9_]{22,512}|glpat-[A-Za-z0-9_-]{20,512}|xox[abprs]-[A-Za-z0-9-]{10,512}|AIza[0-9A-Za-z_-]{35}|cz_live_[A-Za-z0-9]{20,512})$/;
/** The shortest and longest runs a known format can fill (`xoxb-` + 10; `github_pat_` + 512). */
const KNOWN_KEY_RUN_MIN = 15;
const KNOWN_KEY_RUN_MAX = 523;
/** Any other long random-looking token: a whole run of base64/base62 characters, up to 512 (no key is longer). */
const TOKEN_RUN_MIN = 32;
const TOKEN_RUN_MAX = 512;

/** Per ASCII code: bit 1 in [A-Za-z0-9_-] (key runs), bit 2 in the token alphabet, bit 4 in an email's local part. */
const KEY_CHAR = 1;
const TOKEN_CHAR = 2;
const LOCAL_CHAR = 4;
const CHAR_CLASS = (() => {
  const table = new Uint8Array(128);
  const mark = (chars: string, bit: number) => {
    for (const ch of chars) table[ch.charCodeAt(0)]! |= bit;
  };
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  mark(alnum + '_-', KEY_CHAR);
  mark(alnum + '+/=_-', TOKEN_CHAR);
  mark(alnum + '._%+-', LOCAL_CHAR);
  return table;
})();
const isLocalChar = (c: number): boolean => c < 128 && (CHAR_CLASS[c]! & LOCAL_CHAR) !== 0;

const isKeyChar = (c: number): boolean => c < 128 && (CHAR_CLASS[c]! & KEY_CHAR) !== 0;
const isTokenChar = (c: number): boolean => c < 128 && (CHAR_CLASS[c]! & TOKEN_CHAR) !== 0;

/**
 * Where a known format's run can start, found by native literal searches: each format begins with one of these
 * literals, or has an underscore 2, 3 or 6 characters in (sk_ rk_ cz_live_, gh?_, github_pat_).
 */
const KNOWN_KEY_LITERALS = ['sk-', 'glpat-', 'xox', 'AKIA', 'ASIA', 'AIza'];
const UNDERSCORE_OFFSETS = [2, 3, 6];

/** api_key: every maximal run of key characters a known format fills whole, then the random-looking tokens. */
function apiKeySpans(text: string): DetectedSpan[] {
  const starts: number[] = [];
  for (const literal of KNOWN_KEY_LITERALS) for (let i = text.indexOf(literal); i >= 0; i = text.indexOf(literal, i + 1)) starts.push(i);
  for (let i = text.indexOf('_'); i >= 0; i = text.indexOf('_', i + 1)) for (const offset of UNDERSCORE_OFFSETS) if (i >= offset) starts.push(i - offset);
  starts.sort((a, b) => a - b);
  const spans: DetectedSpan[] = [];
  let previous = -1;
  for (const start of starts) {
    // A run starts where the character before it cannot extend it.
    if (start === previous || (start > 0 && isKeyChar(text.charCodeAt(start - 1)))) continue;
    previous = start;
    let end = start;
    while (end < text.length && end - start <= KNOWN_KEY_RUN_MAX && isKeyChar(text.charCodeAt(end))) end++;
    const length = end - start;
    if (length >= KNOWN_KEY_RUN_MIN && length <= KNOWN_KEY_RUN_MAX && KNOWN_KEY_RUN.test(text.slice(start, end))) {
      spans.push({ detector: 'api_key', start, end });
    }
  }
  return tokenSpans(text, spans);
}

/** Both probes of a token run search sit this far apart; a run of TOKEN_RUN_MIN covers two (see tokenSpans). */
const TOKEN_PROBE = TOKEN_RUN_MIN / 2;

/** True when text[from, to) lies in the text and holds token characters only. */
function allTokenChars(text: string, from: number, to: number): boolean {
  if (from < 0 || to > text.length) return false;
  for (let i = from; i < to; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/**
 * The random-looking tokens (maximal runs of 32 to 512 token characters, high entropy), appended to `spans`. Any 32
 * consecutive positions hold two consecutive multiples of 16, one of them a multiple of 32: so a long enough run
 * covers a multiple of 32 and the 16 positions on one side of it. Only those are looked at until one passes, which
 * on text of words and spaces is a few characters in every 32.
 */
function tokenSpans(text: string, spans: DetectedSpan[]): DetectedSpan[] {
  const n = text.length;
  for (let probe = 0; probe < n; probe += TOKEN_RUN_MIN) {
    if (!isTokenChar(text.charCodeAt(probe))) continue;
    if (!allTokenChars(text, probe + 1, probe + TOKEN_PROBE + 1) && !allTokenChars(text, probe - TOKEN_PROBE, probe)) continue;
    let start = probe;
    while (start > 0 && isTokenChar(text.charCodeAt(start - 1))) start--;
    let end = probe + 1;
    while (end < n && isTokenChar(text.charCodeAt(end))) end++;
    const length = end - start;
    if (length >= TOKEN_RUN_MIN && length <= TOKEN_RUN_MAX && isHighEntropyToken(text.slice(start, end))) {
      spans.push({ detector: 'api_key', start, end });
    }
    // On to the first probe after the run (the loop adds one step).
    probe = end - (end % TOKEN_RUN_MIN);
  }
  return spans;
}

/** An email after its local part (RFC 5321 limits: labels of at most 63 characters), tried where one can start. */
const EMAIL_AT = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/y;

/**
 * email, from each "@": its local part is the run of local-part characters just before it (the only place a match
 * can start), at most 64 long and not inside the previous match; the rest is matched from there.
 */
function* emailSpans(text: string): Generator<DetectedSpan> {
  let previousEnd = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start <= 64 && isLocalChar(text.charCodeAt(start - 1))) start--;
    if (start === at || at - start > 64 || start < previousEnd) continue;
    EMAIL_AT.lastIndex = start;
    const m = EMAIL_AT.exec(text);
    if (!m) continue;
    previousEnd = start + m[0].length;
    if (isPlausibleEmail(m[0])) yield { detector: 'email', start, end: previousEnd };
  }
}

const DIGIT = /\d/g;

/** True when `text` holds at least `count` digits (a native search, stopping as soon as it has them). */
function hasDigits(text: string, count: number): boolean {
  DIGIT.lastIndex = 0;
  for (let found = 0; found < count; found++) if (DIGIT.exec(text) === null) return false;
  return true;
}

/**
 * A detector found by its regexes. `minDigits`: no value it accepts has fewer digits, so a text with fewer is not
 * searched at all (most prose has a handful).
 */
function regexFinder(patterns: Pattern[], minDigits: number): Finder {
  return function* (text, detector) {
    if (!hasDigits(text, minDigits)) return;
    for (const { re, accept } of patterns) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (!accept || accept(m[0])) yield { detector, start: m.index, end: m.index + m[0].length };
      }
    }
  };
}

/** A phone number has 9 digits after a +country prefix, 10 without. */
const PHONE_MIN_DIGITS = 9;

const FINDERS: Record<DetectorName, Finder> = {
  email: emailSpans,
  credit_card: regexFinder([{ re: /(?<![\d])\d(?:[ -]?\d){12,18}(?!\d)/g, accept: isPlausibleCardNumber }], 13),
  api_key: apiKeySpans,
  phone: regexFinder([
    {
      re: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?!\w)/g,
      accept: isPlausiblePhone,
    },
  ], PHONE_MIN_DIGITS),
  iban: regexFinder([
    {
      re: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
      accept: isValidIban,
    },
  ], 2),
};

export function isPlausibleEmail(match: string): boolean {
  const domain = match.slice(match.indexOf('@') + 1);
  const labels = domain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  return /^[A-Za-z]{2,}$/.test(tld) && labels.every((l) => !l.startsWith('-') && !l.endsWith('-'));
}

function isPlausibleCardNumber(match: string): boolean {
  const digits = match.replace(/[ -]/g, '');
  return !/^(\d)\1*$/.test(digits) && hasCardIssuerPrefix(digits) && luhnValid(digits);
}

/**
 * The issuer ranges card networks publish (ISO/IEC 7812 IINs), by leading digits and length: UATP 1 (15 digits);
 * Mir 2200-2204 and Mastercard 2221-2720; American Express 34/37 (15), Diners Club 300-305/309/36/38/39, JCB
 * 3528-3589; Visa 4 (13, 16, 19); Maestro 50/56-69, Mastercard 51-55, RuPay 508/60/65/81/82; Discover 6011/644-649/65,
 * UnionPay 62/81. Nothing starts with 0, 7 or 9, which rules out most digit ids and epoch-millisecond timestamps
 * (13 digits starting with 1) that pass Luhn by chance (one in ten).
 */
export function hasCardIssuerPrefix(digits: string): boolean {
  const n = digits.length;
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  switch (digits[0]) {
    case '1':
      return n === 15;
    case '2':
      return (four >= 2200 && four <= 2204) || (four >= 2221 && four <= 2720);
    case '3':
      if (two === 34 || two === 37) return n === 15;
      return (four >= 3000 && four <= 3059) || (four >= 3090 && four <= 3099) || two === 36 || two === 38 || two === 39 || (four >= 3528 && four <= 3589);
    case '4':
      return n === 13 || n === 16 || n === 19;
    case '5':
    case '6':
      return true;
    case '8':
      return two === 81 || two === 82;
    default:
      return false;
  }
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** At least 4 bits of Shannon entropy per character and a mix of upper case, lower case and digits. */
export function isHighEntropyToken(match: string): boolean {
  if (!/[A-Z]/.test(match) || !/[a-z]/.test(match) || !/[0-9]/.test(match)) return false;
  const counts = new Map<string, number>();
  for (const ch of match) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) {
    const p = n / match.length;
    entropy -= p * Math.log2(p);
  }
  return entropy >= 4;
}

/**
 * Digits written like a phone number: 9 to 15 after a +country prefix, otherwise 10 to 15 with a (area) code or at
 * least two separators; dates (2024-01-15 ...) and IPv4 addresses are not phone numbers.
 */
function isPlausiblePhone(match: string): boolean {
  // One pass, no copies: most candidates in logs and JSON are short numbers, rejected by their digit count.
  let digits = 0;
  let separators = 0;
  let parenthesis = false;
  for (let i = 0; i < match.length; i++) {
    const c = match.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 40) parenthesis = true;
    else if (c !== 41 && c !== 43) separators++;
  }
  const international = match.charCodeAt(0) === 43;
  if (digits < (international ? PHONE_MIN_DIGITS : PHONE_MIN_DIGITS + 1) || digits > 15) return false;
  if (/^\d{4}-\d{2}-\d{2}/.test(match) || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(match)) return false;
  return international || parenthesis || separators >= 2;
}

/** ISO 13616: 15 to 34 characters whose rearranged numeric form is 1 modulo 97. */
export function isValidIban(match: string): boolean {
  const iban = match.replace(/ /g, '');
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

function candidates(text: string, detector: DetectorName): Iterable<DetectedSpan> {
  return FINDERS[detector](text, detector);
}

/** True as soon as `detector` finds one value in `text` (the engine's `_detects` conditions). */
export function containsSensitiveData(text: string, detector: DetectorName): boolean {
  for (const _ of candidates(text, detector)) return true;
  return false;
}

/**
 * Every detected value, in text order, without overlaps: where two detections overlap, the one that starts first
 * wins, then the longer one (then the detector listed first in DETECTOR_NAMES).
 */
export function findSensitiveSpans(text: string, detectors: readonly DetectorName[] = DETECTOR_NAMES): DetectedSpan[] {
  const all: DetectedSpan[] = [];
  for (const detector of DETECTOR_NAMES) {
    if (detectors.includes(detector)) all.push(...candidates(text, detector));
  }
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: DetectedSpan[] = [];
  for (const span of all) {
    const last = kept[kept.length - 1];
    if (!last || span.start >= last.end) kept.push(span);
  }
  return kept;
}

/** The replacement text for a detection, e.g. "[REDACTED-EMAIL]", "[REDACTED-CREDIT_CARD]". */
export function redactionLabel(detector: DetectorName): string {
  return `[REDACTED-${detector.toUpperCase()}]`;
}

/** `text` with every detected value replaced by its redaction label. */
export function maskSensitiveData(text: string, detectors: readonly DetectorName[] = DETECTOR_NAMES): string {
  let out = '';
  let at = 0;
  for (const span of findSensitiveSpans(text, detectors)) {
    out += text.slice(at, span.start) + redactionLabel(span.detector);
    at = span.end;
  }
  return out + text.slice(at);
}
