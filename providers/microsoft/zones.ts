import { IANAZone } from 'luxon';
import { findIana, findWindows } from 'windows-iana';

/**
 * The IANA zone of a Graph timeZone value: Outlook stores Windows names ("Eastern Standard Time"),
 * mapped with CLDR's windowsZones table (territory 001); an IANA name is taken as it is.
 * Undefined for anything else (`tzone://Microsoft/Custom`, a typo): never a silent UTC.
 */
export function ianaZoneOf(timeZone: string | undefined): string | undefined {
  if (!timeZone) return undefined;
  const mapped = findIana(timeZone)[0];
  if (mapped) return mapped;
  return IANAZone.isValidZone(timeZone) ? timeZone : undefined;
}

/**
 * The zone name to write for an IANA zone: its Windows name (CLDR windowsZones). Graph takes every
 * Windows name but only a listed subset of IANA names (Europe/Madrid and America/Toronto are not on
 * it: https://learn.microsoft.com/graph/api/resources/datetimetimezone). A zone CLDR has no
 * Windows name for is written as it is.
 */
export function graphZoneOf(iana: string): string {
  return findWindows(iana)[0] ?? iana;
}
