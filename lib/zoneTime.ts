import { DateTime, IANAZone } from 'luxon';

/**
 * Wall-clock time in a zone to an instant, fast: expanding a series turns thousands of local times
 * into instants per request, and luxon's DateTime.fromObject asks Intl each time. A zone's offset
 * at each UTC midnight is kept; where a day's two midnights agree, the offset held all day (no zone
 * changes its offset twice within a day), and the arithmetic is exact. Days with a change, and
 * zones luxon does not know as IANA names, go through luxon.
 */

const DAY_MS = 86400000;
const KEPT_OFFSETS = 200_000;
/** Offsets in minutes at each UTC midnight (by day number), per zone. */
const offsets = new Map<IANAZone, Map<number, number>>();
let keptOffsets = 0;
const zones = new Map<string, IANAZone | null>();

/**
 * The zone as a luxon Zone, made and checked once: luxon checks a zone given by name (with Intl)
 * each time a DateTime is put in it. Null for a name that is not an IANA zone.
 */
export function ianaZone(name: string): IANAZone | null {
  let zone = zones.get(name);
  if (zone === undefined) {
    zone = IANAZone.isValidZone(name) ? IANAZone.create(name) : null;
    zones.set(name, zone);
  }
  return zone;
}

/** The zone's offset in minutes at the start of a UTC day. */
function offsetAtDay(zone: IANAZone, day: number): number {
  let days = offsets.get(zone);
  if (!days) offsets.set(zone, (days = new Map()));
  let offset = days.get(day);
  if (offset === undefined) {
    offset = zone.offset(day * DAY_MS);
    if (++keptOffsets > KEPT_OFFSETS) {
      offsets.clear();
      keptOffsets = 0;
      offsets.set(zone, days);
      days.clear();
    }
    days.set(day, offset);
  }
  return offset;
}

/**
 * The instant of a wall-clock time, given as the epoch ms its fields would have in UTC. A time
 * that does not exist (skipped by a DST change) or exists twice is resolved as luxon resolves it.
 */
export function wallClockToInstant(zoneName: string, wallMs: number): number {
  const zone = ianaZone(zoneName);
  if (zone) {
    const guess = offsetAtDay(zone, Math.floor(wallMs / DAY_MS));
    const instant = wallMs - guess * 60000;
    const day = Math.floor(instant / DAY_MS);
    if (offsetAtDay(zone, day) === guess && offsetAtDay(zone, day + 1) === guess) return instant;
  }
  const wall = DateTime.fromMillis(wallMs, { zone: 'utc' });
  return DateTime.fromObject(
    {
      year: wall.year,
      month: wall.month,
      day: wall.day,
      hour: wall.hour,
      minute: wall.minute,
      second: wall.second,
      millisecond: wall.millisecond,
    },
    { zone: zoneName },
  ).toMillis();
}
