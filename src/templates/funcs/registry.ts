// The function table templates see: text/template's builtins overlaid by Sprig's
// TxtFuncMap (Sprig's `slice` replaces the builtin), plus the injected environment.

import { BUILTINS } from './builtins.js';
import { SPRIG_DEFAULTS } from './sprig-defaults.js';
import { SPRIG_DICTS } from './sprig-dicts.js';
import { SPRIG_LISTS } from './sprig-lists.js';
import { SPRIG_MISC, envFunctions } from './sprig-misc.js';
import { SPRIG_NUMBERS } from './sprig-numbers.js';
import { SPRIG_STRINGS } from './sprig-strings.js';
import { type FuncTable, type GoFunc, unsupported } from './types.js';

/** Sprig functions that exist in Go but are deliberately not implemented, and why. */
const UNSUPPORTED: Record<string, string> = {
  ...Object.fromEntries(
    ['ago', 'date', 'date_in_zone', 'date_modify', 'dateInZone', 'dateModify', 'duration', 'durationRound', 'htmlDate',
      'htmlDateInZone', 'must_date_modify', 'mustDateModify', 'mustToDate', 'now', 'toDate', 'unixEpoch']
      .map((n) => [n, 'time functions are not deterministic']),
  ),
  ...Object.fromEntries(
    ['randAlphaNum', 'randAlpha', 'randAscii', 'randNumeric', 'randInt', 'randBytes', 'shuffle', 'uuidv4']
      .map((n) => [n, 'random functions are not deterministic']),
  ),
  ...Object.fromEntries(
    ['bcrypt', 'htpasswd', 'genPrivateKey', 'derivePassword', 'buildCustomCert', 'genCA', 'genCAWithKey',
      'genSelfSignedCert', 'genSelfSignedCertWithKey', 'genSignedCert', 'genSignedCertWithKey', 'encryptAES', 'decryptAES']
      .map((n) => [n, 'cryptographic generators are out of scope']),
  ),
  getHostByName: 'it performs network I/O',
  ...Object.fromEntries(
    ['abbrevboth', 'initials', 'swapcase', 'snakecase', 'camelcase', 'kebabcase', 'wrap', 'wrapWith', 'b32enc', 'b32dec',
      'add1f', 'addf', 'subf', 'divf', 'mulf', 'merge', 'mergeOverwrite', 'mustMerge', 'mustMergeOverwrite', 'semver',
      'semverCompare', 'urlParse', 'urlJoin']
      .map((n) => [n, 'not implemented yet']),
  ),
};

const STATIC: FuncTable = {
  ...BUILTINS,
  ...Object.fromEntries(Object.entries(UNSUPPORTED).map(([name, why]) => [name, unsupported(name, why)])),
  ...SPRIG_STRINGS,
  ...SPRIG_LISTS,
  ...SPRIG_DICTS,
  ...SPRIG_NUMBERS,
  ...SPRIG_DEFAULTS,
  ...SPRIG_MISC,
};

/** Names of the functions that are known but not implemented (they fail when executed). */
export const UNSUPPORTED_FUNCTIONS: readonly string[] = Object.keys(UNSUPPORTED);

/** Builds the lookup for one template; `env` backs the env/expandenv functions. */
export function functionLookup(env: Readonly<Record<string, string>>): (name: string) => GoFunc | undefined {
  const overlay = envFunctions(env);
  return (name) => (Object.prototype.hasOwnProperty.call(overlay, name) ? overlay[name]
    : Object.prototype.hasOwnProperty.call(STATIC, name) ? STATIC[name] : undefined);
}
