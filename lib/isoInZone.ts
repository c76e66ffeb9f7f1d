import { DateTime, Info, Zone } from 'luxon';

/**
 * An instant as ISO 8601 in a zone, exactly as luxon's `toISO({ suppressMilliseconds: true })`
 * writes it, at a fraction of its cost: a busy answer writes thousands of them. The zone's offset is
 * kept per UTC day: where a day's two midnights agree, it held all day (no zone changes its offset
 * twice within a day, as lib/zoneTime.ts also holds); on a day with a change, per minute (offsets
 * change on whole minutes). Each local date's `YYYY-MM-DDT` is made once, the rest is two-digit
 * pieces: no Date or DateTime per call.
 */

const DAY_MS = 86400000;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
/** Years luxon writes as four plain digits; outside them it is luxon's own format. */
const PLAIN_FROM = Date.UTC(1000, 0, 1);
const PLAIN_TO = Date.UTC(10000, 0, 1);
// Bounded over all zones together (a few MB at most): cleared when full.
const KEPT = 100_000;

interface ZoneEntry {
  zone: Zone;
  /** Offset in minutes at each UTC midnight (by day number), and per UTC minute on days with a change. */
  days: Map<number, number>;
  minutes: Map<number, number>;
}
const zones = new Map<string, ZoneEntry | null>();
const datePrefixes = new Map<number, string>();
const suffixes = new Map<number, string>();
let keptCount = 0;

function entryOf(name: string): ZoneEntry | null {
  let entry = zones.get(name);
  if (entry === undefined) {
    const zone = Info.normalizeZone(name);
    entry = zone.isValid ? { zone, days: new Map(), minutes: new Map() } : null;
    if (zones.size >= KEPT) zones.clear();
    zones.set(name, entry);
  }
  return entry;
}

/** The zone's offset in minutes at `ms` (a whole minute), kept in `kept` under `key`. */
function keptOffset(entry: ZoneEntry, kept: Map<number, number>, key: number, ms: number): number {
  let offset = kept.get(key);
  if (offset === undefined) {
    if (++keptCount > KEPT) {
      for (const e of zones.values()) {
        e?.days.clear();
        e?.minutes.clear();
      }
      datePrefixes.clear();
      keptCount = 1;
    }
    kept.set(key, (offset = entry.zone.offset(ms)));
  }
  return offset;
}

function offsetAt(entry: ZoneEntry, ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  const offset = keptOffset(entry, entry.days, day, day * DAY_MS);
  if (keptOffset(entry, entry.days, day + 1, (day + 1) * DAY_MS) === offset) return offset;
  const minute = Math.floor(ms / 60_000);
  return keptOffset(entry, entry.minutes, minute, minute * 60_000);
}

function datePrefix(day: number): string {
  let prefix = datePrefixes.get(day);
  if (prefix === undefined) datePrefixes.set(day, (prefix = new Date(day * DAY_MS).toISOString().slice(0, 11)));
  return prefix;
}

function suffix(offset: number): string {
  let text = suffixes.get(offset);
  if (text === undefined) {
    const abs = Math.abs(offset);
    text = `${offset < 0 ? '-' : '+'}${TWO[Math.floor(abs / 60)]}:${TWO[abs % 60]}`;
    suffixes.set(offset, text);
  }
  return text;
}

/** `ms` (epoch milliseconds) as ISO 8601 in `zoneName`: `Z` in UTC, else the zone's offset then. */
export function isoInZone(ms: number, zoneName: string): string {
  const entry = entryOf(zoneName);
  const offset = entry ? offsetAt(entry, ms) : NaN;
  const local = ms + offset * 60_000;
  // Local mean time before standard zones had offsets in seconds: luxon's own way for those.
  if (!entry || !Number.isInteger(offset) || !(local >= PLAIN_FROM && local < PLAIN_TO))
    return DateTime.fromMillis(ms, { zone: zoneName }).toISO({ suppressMilliseconds: true })!;
  const day = Math.floor(local / DAY_MS);
  const inDay = local - day * DAY_MS;
  const millis = inDay % 1000;
  const seconds = (inDay - millis) / 1000;
  const time = `${TWO[Math.floor(seconds / 3600)]}:${TWO[Math.floor(seconds / 60) % 60]}:${TWO[seconds % 60]}`;
  const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0')}`;
  const zone = entry.zone.isUniversal && offset === 0 ? 'Z' : suffix(offset);
  return `${datePrefix(day)}${time}${fraction}${zone}`;
}

/**
 * A zone whose offsets come from the cache above: luxon asks Intl for an offset on every DateTime it
 * makes or moves, and parsing a request's window (api/schemas.ts) made a dozen such calls on the
 * event loop. Same offsets, same arithmetic: only where they come from differs.
 */
class KeptZone extends Zone {
  constructor(readonly entry: ZoneEntry) {
    super();
  }
  override get type(): string {
    return this.entry.zone.type;
  }
  override get name(): string {
    return this.entry.zone.name;
  }
  override get isUniversal(): boolean {
    return false;
  }
  override offsetName(ts: number, opts: Parameters<Zone['offsetName']>[1]): string | null {
    return this.entry.zone.offsetName(ts, opts);
  }
  override formatOffset(ts: number, format: Parameters<Zone['formatOffset']>[1]): string {
    return this.entry.zone.formatOffset(ts, format);
  }
  override offset(ts: number): number {
    return offsetAt(this.entry, ts);
  }
  override equals(other: Zone): boolean {
    return other instanceof KeptZone ? other.entry === this.entry : this.entry.zone.equals(other);
  }
  override get isValid(): boolean {
    return true;
  }
}
const keptZones = new Map<string, KeptZone>();

/** The zone for luxon's `{ zone }` option, its offsets kept; the name itself when it is no zone (luxon says so). */
export function keptZone(name: string): Zone | string {
  const entry = entryOf(name);
  if (!entry) return name;
  if (entry.zone.isUniversal) return entry.zone;
  let zone = keptZones.get(name);
  if (zone?.entry !== entry) {
    if (keptZones.size >= 1000) keptZones.clear();
    keptZones.set(name, (zone = new KeptZone(entry)));
  }
  return zone;
}
