/**
 * Fault specs: a comma-separated list such as `latency=200,status=503` or `trickle=50,reset-mid-stream`, given
 * server-wide (option / --faults) or per request (header `x-fake-fault`). Pure parsing, no I/O.
 */
export interface Faults {
  /** Delay before answering, in ms. */
  latencyMs: number;
  /** Answer with this error status and Mistral's body for it instead of handling the request. */
  status: number | null;
  /** `retry-after` seconds sent with a 429. */
  retryAfterSeconds: number;
  /** Destroy the socket before answering. */
  reset: boolean;
  /** Send part of the response (half of the SSE events, or half of a JSON body) then destroy the socket. */
  resetMidStream: boolean;
  /** Insert an SSE event whose data is not valid JSON after the first event. */
  malformedSse: boolean;
  /** Delay between SSE events, in ms. */
  trickleMs: number;
  /** Never answer (until the client or the server closes the connection). */
  hang: boolean;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  status: null,
  retryAfterSeconds: 1,
  reset: false,
  resetMidStream: false,
  malformedSse: false,
  trickleMs: 0,
  hang: false,
});

export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

type Apply = (faults: Faults, value: string | undefined, token: string) => void;

const FLAG = (key: 'reset' | 'resetMidStream' | 'malformedSse' | 'hang'): Apply => (faults, value, token) => {
  if (value !== undefined) throw new FaultSpecError(`fault '${token}': '${key}' takes no value`);
  faults[key] = true;
};

const INTEGER = (set: (faults: Faults, n: number) => void, min: number, max: number): Apply => (faults, value, token) => {
  const n = value === undefined || !/^\d+$/.test(value) ? NaN : Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new FaultSpecError(`fault '${token}': expected an integer between ${min} and ${max}`);
  }
  set(faults, n);
};

const FAULTS: Record<string, Apply> = {
  latency: INTEGER((f, n) => (f.latencyMs = n), 0, 600_000),
  trickle: INTEGER((f, n) => (f.trickleMs = n), 0, 600_000),
  status: INTEGER((f, n) => (f.status = n), 400, 599),
  'retry-after': INTEGER((f, n) => (f.retryAfterSeconds = n), 0, 86_400),
  reset: FLAG('reset'),
  'reset-mid-stream': FLAG('resetMidStream'),
  'malformed-sse': FLAG('malformedSse'),
  hang: FLAG('hang'),
};

/** Parses `spec` on top of `base` (later entries win). An empty or absent spec returns `base` itself. */
export function parseFaults(spec: string | undefined, base: Readonly<Faults> = NO_FAULTS): Readonly<Faults> {
  if (spec === undefined || spec.trim() === '') return base;
  const faults: Faults = { ...base };
  for (const raw of spec.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    const apply = FAULTS[name];
    if (!apply) throw new FaultSpecError(`unknown fault '${name}' (known: ${Object.keys(FAULTS).join(', ')})`);
    apply(faults, eq === -1 ? undefined : token.slice(eq + 1), token);
  }
  return faults;
}
