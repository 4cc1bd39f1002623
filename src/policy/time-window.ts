/**
 * Wall-clock facts for `time_of_day` and `weekday` conditions: the minute of the day and the weekday of an instant in
 * an IANA time zone (via Intl, formatters cached per zone), and "HH:MM" window arithmetic.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface LocalTime {
  /** 0..1439 */
  minuteOfDay: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

/** after <= t < before (minutes of the day); when after > before the window wraps past midnight. */
export interface ClockWindow {
  after: number | null;
  before: number | null;
  tz: string;
}

/** "HH:MM" (00:00..23:59) to minutes of the day, or undefined when malformed. */
export function parseClock(text: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export function formatClock(minuteOfDay: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(minuteOfDay / 60))}:${pad(minuteOfDay % 60)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isTimeZone(tz: string): boolean {
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** UTC offsets only change on quarter-hour boundaries, so one Intl call per zone and quarter hour is enough. */
const QUARTER_HOUR_MS = 15 * 60_000;
const offsets = new Map<string, { quarter: number; offsetMs: number }>();

function utcOffsetMs(instant: number, tz: string): number {
  const quarter = Math.floor(instant / QUARTER_HOUR_MS);
  const cached = offsets.get(tz);
  if (cached && cached.quarter === quarter) return cached.offsetMs;
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatterFor(tz).formatToParts(instant)) parts[part.type] = Number(part.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0 } = parts;
  const offsetMs = Date.UTC(year, month - 1, day, hour, minute) - Math.floor(instant / 60_000) * 60_000;
  offsets.set(tz, { quarter, offsetMs });
  return offsetMs;
}

/** Local wall-clock time of `now` (epoch ms) in `tz`; undefined when `now` is not a valid instant. */
export function localTime(now: number, tz: string): LocalTime | undefined {
  if (Number.isNaN(new Date(now).getTime())) return undefined;
  const local = new Date(tz === 'UTC' ? now : now + utcOffsetMs(now, tz));
  return { minuteOfDay: local.getUTCHours() * 60 + local.getUTCMinutes(), weekday: local.getUTCDay() };
}

export function inClockWindow(minuteOfDay: number, w: ClockWindow): boolean {
  const afterOk = w.after === null || minuteOfDay >= w.after;
  const beforeOk = w.before === null || minuteOfDay < w.before;
  if (w.after !== null && w.before !== null && w.after > w.before) return afterOk || beforeOk;
  return afterOk && beforeOk;
}
