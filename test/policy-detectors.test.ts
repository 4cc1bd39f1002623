import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isHighEntropyToken, isPlausibleEmail } from '../src/policy/detectors.js';
import {
  containsSensitiveData,
  DETECTOR_NAMES,
  findSensitiveSpans,
  maskSensitiveData,
  redactionLabel,
  type DetectorName,
} from '../src/policy/index.js';

const detected = (text: string) => findSensitiveSpans(text).map((s) => `${s.detector}:${text.slice(s.start, s.end)}`);

describe('detectors', () => {
  const found: [DetectorName, string][] = [
    ['email', 'bob.smith+tag@mail.example.co.uk'],
    ['email', 'ALICE@EXAMPLE.COM'],
    ['credit_card', '4111111111111111'],
    ['credit_card', '4111 1111 1111 1111'],
    ['credit_card', '5555-5555-5555-4444'],
    ['credit_card', '378282246310005'],
    ['credit_card', '4222222222222'], // Visa, 13 digits
    ['credit_card', '2223 0031 2200 3222'], // Mastercard 2-series
    ['credit_card', '30569309025904'], // Diners Club, 14 digits
    ['credit_card', '3530111333300000'], // JCB
    ['credit_card', '6200000000000005'], // UnionPay
    ['api_key', 'sk-proj-Abcdefghijklmnopqrstuv12'],
    ['api_key', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz'],
    ['api_key', 'sk_live_abcdefghijklmnop1234'],
    ['api_key', 'AKIAIOSFODNN7EXAMPLE'],
    ['api_key', `ghp_${'a1B2'.repeat(9)}`],
    ['api_key', `cz_live_${'Ab3'.repeat(14)}`],
    ['api_key', 'xoxb-1234567890-abcdef'],
    ['api_key', `AIza${'A1b2C3d4'.repeat(4)}xyz`],
    ['api_key', 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'],
    ['phone', '+1 415 555 2671'],
    ['phone', '(415) 555-2671'],
    ['phone', '415-555-2671'],
    ['phone', '+33 6 12 34 56 78'],
    ['phone', '020 7946 0958'],
    ['iban', 'DE89 3704 0044 0532 0130 00'],
    ['iban', 'GB82WEST12345698765432'],
  ];
  for (const [detector, value] of found) {
    it(`${detector} finds ${value}`, () => {
      const text = `before ${value} after`;
      assert.deepEqual(detected(text), [`${detector}:${value}`]);
      assert.equal(containsSensitiveData(text, detector), true);
    });
  }

  const ignored: [string, string][] = [
    ['a host without a top-level domain', 'user@localhost'],
    ['a one-letter top-level domain', 'a@b.c'],
    ['a domain label starting with -', 'x@-bad.com'],
    ['a Luhn-invalid card number', '4111 1111 1111 1112'],
    ['a run of one repeated digit', '0000 0000 0000 0000'],
    ['an epoch-millisecond timestamp that passes Luhn (no issuer range starts 17)', '"ts": 1700000000004'],
    ['a 16-digit id that passes Luhn (no issuer range starts with 9)', 'id 9000000000000001'],
    ['an American Express prefix on 16 digits (Luhn-valid)', '3700000000000007'],
    ['a 20-digit number', '12345678901234567890'],
    ['a hex SHA-256 digest (low entropy per character)', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['a UUID', '123e4567-e89b-12d3-a456-426614174000'],
    ['a long lower-case path', '/usr/local/lib/node_modules/typescript/lib/tsc.js'],
    ['a date', '2024-01-15'],
    ['a date-time', '2024-01-15 10:30:00'],
    ['an IPv4 address', '192.168.100.200'],
    ['a digit run without separators', '4155552671'],
    ['a short grouped number', 'order 123 456 789'],
    ['a version number', 'version 1.2.3'],
    ['an IBAN with a bad checksum', 'DE89 3704 0044 0532 0130 01'],
    ['a short sk- string', 'sk-short'],
  ];
  for (const [name, text] of ignored) {
    it(`ignores ${name}`, () => {
      assert.deepEqual(detected(text), []);
    });
  }
});

describe('findSensitiveSpans', () => {
  it('returns offsets in text order', () => {
    const text = 'mail bob@example.com or call +1 415 555 2671';
    assert.deepEqual(findSensitiveSpans(text), [
      { detector: 'email', start: 5, end: 20 },
      { detector: 'phone', start: 29, end: 44 },
    ]);
  });

  it('keeps one detection where detections overlap (earliest, then longest)', () => {
    // The card number is also a run of digits a phone number could be read into.
    const spans = findSensitiveSpans('pay 4111-1111-1111-1111 now');
    assert.deepEqual(spans.map((s) => s.detector), ['credit_card']);
  });

  it('only runs the detectors asked for', () => {
    const text = 'bob@example.com 4111111111111111';
    assert.deepEqual(findSensitiveSpans(text, ['credit_card']).map((s) => s.detector), ['credit_card']);
    assert.equal(containsSensitiveData(text, 'iban'), false);
  });

  it('stays fast on long adversarial input', () => {
    const inputs = ['1'.repeat(200_000), 'a'.repeat(200_000), 'a@'.repeat(100_000), `${'1 '.repeat(100_000)}`, 'A1b-'.repeat(50_000), `${'ab.'.repeat(60_000)}@`];
    const started = performance.now();
    for (const input of inputs) findSensitiveSpans(input);
    assert.ok(performance.now() - started < 2000, 'linear-time scanning');
  });
});

describe('maskSensitiveData', () => {
  it('replaces each detection by its label', () => {
    const text = 'mail bob@example.com, card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE, iban GB82WEST12345698765432, tel +1 415 555 2671.';
    assert.equal(
      maskSensitiveData(text),
      'mail [REDACTED-EMAIL], card [REDACTED-CREDIT_CARD], key [REDACTED-API_KEY], iban [REDACTED-IBAN], tel [REDACTED-PHONE].',
    );
  });

  it('masks only the detectors asked for', () => {
    assert.equal(maskSensitiveData('bob@example.com 4111111111111111', ['email']), '[REDACTED-EMAIL] 4111111111111111');
  });

  it('leaves clean text unchanged', () => {
    const text = 'Explain the difference between L1 and L2 regularization.';
    assert.equal(maskSensitiveData(text), text);
  });

  it('labels every detector', () => {
    assert.deepEqual(DETECTOR_NAMES.map(redactionLabel), [
      '[REDACTED-EMAIL]',
      '[REDACTED-CREDIT_CARD]',
      '[REDACTED-API_KEY]',
      '[REDACTED-PHONE]',
      '[REDACTED-IBAN]',
    ]);
  });
});

it('runs of millions of characters are scanned in linear time, and what they hide is still found', () => {
  for (const run of ['a'.repeat(6e6), '4'.repeat(6e6), 'ab1-'.repeat(1.5e6), 'a.'.repeat(3e6), `${'x'.repeat(3e6)}@${'y'.repeat(3e6)}`]) {
    const started = performance.now();
    assert.deepEqual(findSensitiveSpans(run), []);
    assert.ok(performance.now() - started < 5_000, 'linear, not quadratic');
  }
  const hidden = `${'a'.repeat(3e6)} mail jane.doe@corp.com ${'b'.repeat(3e6)}`;
  assert.deepEqual(findSensitiveSpans(hidden).map((s) => s.detector), ['email']);
});

/**
 * The regexes email and api_key were found with before their single-pass scans (bounded by look-arounds, linear,
 * but two full passes each over every prompt): the reference the scans must agree with, span for span.
 */
const REFERENCE: Record<'email' | 'api_key', { re: RegExp; accept?: (m: string) => boolean }[]> = {
  email: [{ re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g, accept: isPlausibleEmail }],
  api_key: [
    {
      re: /(?<![A-Za-z0-9_-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,512}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,512}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,512}|github_pat_[A-Za-z0-9_]{22,512}|glpat-[A-Za-z0-9_-]{20,512}|xox[abprs]-[A-Za-z0-9-]{10,512}|AIza[0-9A-Za-z_-]{35}|cz_live_[A-Za-z0-9]{20,512})(?![A-Za-z0-9_-])/g,
    },
    { re: /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{32,512}(?![A-Za-z0-9+/=_-])/g, accept: isHighEntropyToken },
  ],
};

function referenceSpans(text: string, detector: 'email' | 'api_key'): string[] {
  const out: string[] = [];
  for (const { re, accept } of REFERENCE[detector]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) if (!accept || accept(m[0])) out.push(`${m.index}-${m.index + m[0].length}`);
  }
  return out;
}

describe('the email and api_key scans agree with their reference regexes', () => {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const from = (chars: string, min: number, max: number) => fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
  const fragment = fc.oneof(
    from(alnum, 1, 12), // words
    from(alnum + '+/=_-', 10, 600), // token-like runs, some of them keys
    fc.tuple(fc.constantFrom('sk-', 'sk-proj-', 'sk_live_', 'rk_test_', 'AKIA', 'ghp_', 'github_pat_', 'glpat-', 'xoxb-', 'AIza', 'cz_live_'), from(alnum + '_-', 8, 560)).map(([p, t]) => p + t),
    fc.tuple(from(alnum + '._%+-', 0, 70), from(alnum + '-.', 0, 80)).map(([local, domain]) => `${local}@${domain}`),
    fc.constantFrom(' ', '\n', '@', '.', ',', '"', '+', '/', '=', '-', '_', '%', 'é', '😀', '@@', '.com', '.c1', ': '),
  );
  it('an "@" whose local part would start inside the previous match (rejected or not) starts no email', () => {
    for (const text of ['a@b.c1@d.com', 'x a@b.example@c.com y']) {
      assert.equal(containsSensitiveData(text, 'email'), referenceSpans(text, 'email').length > 0, text);
      assert.deepEqual(findSensitiveSpans(text, ['email']).map((s) => `${s.start}-${s.end}`), referenceSpans(text, 'email'), text);
    }
  });

  it('property: the same spans, in the same order, on random text', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (fragments) => {
        const text = fragments.join('');
        for (const detector of ['email', 'api_key'] as const) {
          const fast = findSensitiveSpans(text, [detector]);
          const expected = referenceSpans(text, detector);
          // findSensitiveSpans drops overlaps; the reference keeps them, so compare after the same rule.
          const kept: string[] = [];
          let lastEnd = -1;
          for (const span of expected.map((s) => s.split('-').map(Number) as [number, number]).sort((a, b) => a[0] - b[0] || b[1] - a[1])) {
            if (span[0] >= lastEnd) {
              kept.push(`${span[0]}-${span[1]}`);
              lastEnd = span[1];
            }
          }
          assert.deepEqual(fast.map((s) => `${s.start}-${s.end}`), kept, `${detector} in ${JSON.stringify(text)}`);
          assert.equal(containsSensitiveData(text, detector), expected.length > 0, `${detector} found in ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
