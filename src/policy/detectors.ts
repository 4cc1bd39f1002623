/**
 * Named PII and secret detectors, shared by the policy engine (`prompt_detects`) and the gateway's PII scan
 * (CZ_GATEWAY_PII_ACTION=detect|mask|block). Each detector is a linear-time regex (lookbehinds pin every match to the
 * start of a run, so long inputs cannot cause quadratic backtracking, and every repetition is bounded, so a run of
 * millions of word characters cannot exhaust the regex engine's backtrack stack) plus a validator that rejects
 * look-alikes (Luhn for cards, mod-97 for IBANs, an entropy floor for generic tokens).
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

const TOKEN_CHARS = 'A-Za-z0-9+/=_-';

const PATTERNS: Record<DetectorName, Pattern[]> = {
  email: [
    {
      // RFC 5321 limits: a local part of at most 64 characters, labels of at most 63.
      re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g,
      accept: isPlausibleEmail,
    },
  ],
  credit_card: [{ re: /(?<![\d])\d(?:[ -]?\d){12,18}(?!\d)/g, accept: isPlausibleCardNumber }],
  api_key: [
    {
      // Well-known secret formats: OpenAI/Anthropic, Stripe, AWS access key ids, GitHub, GitLab, Slack, Google,
      // and this gateway's own keys.
      re: /(?<![A-Za-z0-9_-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,512}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,512}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,512}|github_pat_[A-Za-z0-9_]{22,512}|glpat-[A-Za-z0-9_-]{20,512}|xox[abprs]-[A-Za-z0-9-]{10,512}|AIza[0-9A-Za-z_-]{35}|cz_live_[A-Za-z0-9]{20,512})(?![A-Za-z0-9_-])/g,
    },
    {
      // Any other long random-looking token (base64/base62 alphabets), up to 512 characters (no key is longer).
      re: new RegExp(`(?<![${TOKEN_CHARS}])[${TOKEN_CHARS}]{32,512}(?![${TOKEN_CHARS}])`, 'g'),
      accept: isHighEntropyToken,
    },
  ],
  phone: [
    {
      re: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?!\w)/g,
      accept: isPlausiblePhone,
    },
  ],
  iban: [
    {
      re: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
      accept: isValidIban,
    },
  ],
};

function isPlausibleEmail(match: string): boolean {
  const domain = match.slice(match.indexOf('@') + 1);
  const labels = domain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  return /^[A-Za-z]{2,}$/.test(tld) && labels.every((l) => !l.startsWith('-') && !l.endsWith('-'));
}

function isPlausibleCardNumber(match: string): boolean {
  const digits = match.replace(/[ -]/g, '');
  return !/^(\d)\1*$/.test(digits) && luhnValid(digits);
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
function isHighEntropyToken(match: string): boolean {
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
  const digitCount = match.replace(/\D/g, '').length;
  if (digitCount < (match.startsWith('+') ? 9 : 10) || digitCount > 15) return false;
  if (/^\d{4}-\d{2}-\d{2}/.test(match) || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(match)) return false;
  const separators = match.replace(/[\d()+]/g, '').length;
  return match.startsWith('+') || match.includes('(') || separators >= 2;
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

function* candidates(text: string, detector: DetectorName): Generator<DetectedSpan> {
  for (const { re, accept } of PATTERNS[detector]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (!accept || accept(m[0])) yield { detector, start: m.index, end: m.index + m[0].length };
    }
  }
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
