import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';

/**
 * The VTIMEZONE for a zone, and the TZID it carries: the library names aliases by their canonical
 * zone (UTC → Etc/UTC, US/Eastern → America/New_York), and DTSTART must use that same TZID.
 */
let knownZones: Set<string> | undefined;

export function vtimezone(zone: string): { tzid: string; block: string } | undefined {
  // Asked for a zone it lacks, the library prints an error: ask only for zones it has.
  knownZones ??= new Set(tzlib_get_timezones(false) as string[]);
  if (!knownZones.has(zone)) return undefined;
  const found = tzlib_get_ical_block(zone);
  const block = Array.isArray(found) ? found[0] : undefined;
  const tzid = block ? /^TZID:(.+)$/m.exec(block)?.[1]?.trim() : undefined;
  return block && tzid ? { tzid, block } : undefined;
}
