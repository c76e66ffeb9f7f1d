import { DateTime, IANAZone } from 'luxon';
import type { JCalComponent } from './ical';

/**
 * VTIMEZONE blocks from the runtime's own tzdata (Intl, through luxon): the same offsets the rest of
 * calsync computes instants with, never a bundled table that goes stale (Africa/Casablanca's
 * +01:00 outside Ramadan). Each transition in the years asked for is one STANDARD or DAYLIGHT
 * observance with a single DTSTART, so a reader needs no rule of ours to get the offsets right.
 */

const DAY_MS = 86_400_000;
// No zone changes its offset twice within a week (Casablanca's Ramadan offset lasts a month):
// weekly steps find every change (a daily scan finds the same ones, five times slower).
const STEP_MS = 7 * DAY_MS;
const MINUTE_MS = 60_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * The zone's UTC offset in minutes at an instant, from Intl (the tzdata luxon reads too): one
 * `format` with `longOffset` ("2026, GMT+02:00") is several times faster than luxon's formatToParts.
 */
function offsetAt(zone: string, ms: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset', year: 'numeric' });
    formats.set(zone, format);
  }
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(format.format(ms));
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The instants (ms, the first minute of the new offset) where the zone's offset changes in [fromMs, toMs). */
export function transitions(
  zoneName: string,
  fromMs: number,
  toMs: number,
): Array<{ at: number; from: number; to: number }> {
  const zone = zoneName;
  const out: Array<{ at: number; from: number; to: number }> = [];
  // Weekly steps, then bisect to the minute.
  let prevMs = fromMs;
  let prev = offsetAt(zone, prevMs);
  for (let ms = fromMs + STEP_MS; prevMs < toMs; ms += STEP_MS) {
    const at = Math.min(ms, toMs);
    const off = offsetAt(zone, at);
    if (off !== prev) {
      let lo = prevMs;
      let hi = at;
      while (hi - lo > MINUTE_MS) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS || lo + MINUTE_MS;
        if (offsetAt(zone, mid) === prev) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, from: prev, to: off });
    }
    prevMs = at;
    prev = off;
  }
  return out;
}

const utcOffset = (minutes: number) => {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};

/** jCal local date-time (no zone) of an instant seen at a UTC offset. */
const localAt = (ms: number, offsetMinutes: number) =>
  DateTime.fromMillis(ms + offsetMinutes * MINUTE_MS, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss");

/** Whether a zone name is one the runtime knows. */
export function knownZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

const cache = new Map<string, JCalComponent>();

/**
 * The VTIMEZONE (jCal) of a zone for the calendar years `fromYear`..`toYear`, TZID the zone's name as
 * given (DTSTART and the rest carry the same); undefined for a zone the runtime does not know.
 * The first observance starts on 1 January of `fromYear` with the offset in force then.
 */
export function vtimezone(zone: string, fromYear: number, toYear: number): JCalComponent | undefined {
  if (!knownZone(zone)) return undefined;
  const key = `${zone}|${fromYear}|${toYear}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const fromMs = Date.UTC(fromYear, 0, 1) - DAY_MS;
  const toMs = Date.UTC(toYear + 1, 0, 1) + DAY_MS;
  const startOffset = offsetAt(zone, fromMs);
  const observance = (kind: 'standard' | 'daylight', atMs: number, from: number, to: number): JCalComponent => [
    kind,
    [
      ['dtstart', {}, 'date-time', localAt(atMs, from)],
      ['tzoffsetfrom', {}, 'utc-offset', utcOffset(from)],
      ['tzoffsetto', {}, 'utc-offset', utcOffset(to)],
    ],
    [],
  ];
  const found = transitions(zone, fromMs, toMs);
  // A rise of the offset against the one before is summer time for readers that care (display only).
  const observances = [
    observance('standard', fromMs, startOffset, startOffset),
    ...found.map((t) => observance(t.to > t.from ? 'daylight' : 'standard', t.at, t.from, t.to)),
  ];
  const block: JCalComponent = ['vtimezone', [['tzid', {}, 'text', zone]], observances];
  cache.set(key, block);
  return block;
}
