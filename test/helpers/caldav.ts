import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { calendar, stringifyCalendar } from '../../lib/ical';
import { controlCall } from './emulator';
import { waitUntil } from './api';
import type { TenantWorld } from './world';

/**
 * The real CalDAV server of the tests (Radicale, htpasswd auth, started by globalSetup) and the
 * fault-injecting proxy calsync reaches it through (emulators/caldav-proxy). Accounts are made by
 * writing the htpasswd file, which Radicale reads at every login.
 */
export const radicaleUrl = () => process.env.RADICALE_URL!;
/** The address calsync is given: the proxy in front of Radicale. */
export const caldavServerUrl = () => `${process.env.CALDAV_PROXY_URL!}/`;
const proxy = controlCall(() => process.env.CALDAV_PROXY_URL!);

export interface CalDavAccount {
  username: string;
  password: string;
}

const auth = (a: CalDavAccount) => ({
  authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`,
});

function setLine(username: string, password: string): void {
  const file = process.env.RADICALE_HTPASSWD!;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith(`${username}:`));
  writeFileSync(file, [...lines, `${username}:${password}`].join('\n') + '\n');
}

export const caldav = {
  /** A new account: `prefix` and a random part, or exactly `username` when given. */
  createAccount(prefix = 'staff', username?: string): CalDavAccount {
    const account = { username: username ?? `${prefix}-${randomUUID().slice(0, 8)}`, password: `pw-${randomUUID()}` };
    setLine(account.username, account.password);
    return account;
  },
  /** The password changed on the server (or an app-specific password revoked). */
  setPassword(account: CalDavAccount, password: string): CalDavAccount {
    setLine(account.username, password);
    return { ...account, password };
  },
  /** A calendar the person made themselves, straight in Radicale (MKCALENDAR), with its zone. */
  async makeCalendar(account: CalDavAccount, name: string, timeZone?: string): Promise<string> {
    const url = `${radicaleUrl()}/${account.username}/${name}/`;
    // The calendar's zone (RFC 4791 §5.2.2) as a VCALENDAR with its VTIMEZONE, from the runtime's tzdata.
    const year = new Date().getUTCFullYear();
    const zone = timeZone
      ? `<C:calendar-timezone>${stringifyCalendar(calendar([], [], [timeZone], { from: year - 1, to: year + 3 }))}</C:calendar-timezone>`
      : '';
    const res = await fetch(url, {
      method: 'MKCALENDAR',
      headers: { ...auth(account), 'content-type': 'application/xml' },
      body: `<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${name}</D:displayname>${zone}</D:prop></D:set></C:mkcalendar>`,
    });
    if (res.status !== 201) throw new Error(`MKCALENDAR ${url}: ${res.status} ${await res.text()}`);
    return url;
  },
  async put(account: CalDavAccount, calendarUrl: string, name: string, ics: string): Promise<void> {
    const res = await fetch(`${calendarUrl}${name}.ics`, {
      method: 'PUT',
      headers: { ...auth(account), 'content-type': 'text/calendar; charset=utf-8' },
      body: ics,
    });
    if (res.status !== 201 && res.status !== 204) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
  },
  async remove(account: CalDavAccount, calendarUrl: string, name: string): Promise<void> {
    const res = await fetch(`${calendarUrl}${name}.ics`, { method: 'DELETE', headers: auth(account) });
    if (res.status !== 200 && res.status !== 204) throw new Error(`DELETE ${name}: ${res.status}`);
  },
  /** Whether a collection exists (PROPFIND depth 0). */
  async exists(account: CalDavAccount, url: string): Promise<boolean> {
    const res = await fetch(url.replace(process.env.CALDAV_PROXY_URL!, radicaleUrl()), {
      method: 'PROPFIND',
      headers: { ...auth(account), depth: '0' },
    });
    await res.body?.cancel();
    return res.status === 207;
  },
  /** Every resource of a calendar, read straight from Radicale: href → iCalendar text. */
  async resources(account: CalDavAccount, calendarUrl: string, range?: { start: string; end: string }) {
    const url = calendarUrl.replace(process.env.CALDAV_PROXY_URL!, radicaleUrl());
    const timeRange = range ? `<C:time-range start="${range.start}" end="${range.end}"/>` : '';
    const res = await fetch(url, {
      method: 'REPORT',
      headers: { ...auth(account), depth: '1', 'content-type': 'application/xml' },
      body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">${timeRange}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
    });
    if (res.status !== 207) throw new Error(`REPORT ${url}: ${res.status}`);
    const text = await res.text();
    const out = new Map<string, string>();
    for (const m of text.matchAll(/<D?:?response>([\s\S]*?)<\/D?:?response>/g)) {
      const href = m[1]!.match(/<(?:D:)?href>([^<]+)<\/(?:D:)?href>/)?.[1];
      const data = m[1]!.match(/<(?:C:)?calendar-data[^>]*>([\s\S]*?)<\/(?:C:)?calendar-data>/)?.[1];
      if (href && data)
        out.set(href, data.replace(/&#13;/g, '\r').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    }
    return out;
  },
  stats: (username: string) =>
    proxy<{ requests: number; writes: number; byMethod: Record<string, number> }>(
      'GET',
      `/_emulator/stats?user=${encodeURIComponent(username)}`,
    ),
  resetStats: (username: string) => proxy('POST', `/_emulator/stats/reset?user=${encodeURIComponent(username)}`),
  setFaults: (faults: Record<string, unknown>) => proxy('POST', '/_emulator/faults', faults),
  clearFaults: (username: string) => proxy('DELETE', `/_emulator/faults?user=${encodeURIComponent(username)}`),
};

/** Connects a staff member's CalDAV account through the API (through the proxy) and waits for the link's backfill. */
export async function staffWithCalDav(
  world: TenantWorld,
  staffId: string,
  account: CalDavAccount = caldav.createAccount(staffId),
): Promise<CalDavAccount & { staffId: string; linkId: string; calendarId: string }> {
  const staff = await world.call('PUT', `/v1/staff/${staffId}`, { name: `Staff ${staffId}` });
  if (staff.status !== 200) throw new Error(`staff: ${staff.status}`);
  const link = await world.call('POST', `/v1/staff/${staffId}/links/caldav`, {
    serverUrl: caldavServerUrl(),
    username: account.username,
    password: account.password,
  });
  if (link.status !== 201) throw new Error(`link: ${link.status} ${JSON.stringify(link.body)}`);
  await world.linkConnected(link.body.id);
  const ready = await waitUntil(
    'the dedicated calendar',
    async () => {
      const [l] = (await world.call('GET', `/v1/staff/${staffId}/links`)).body.links.filter(
        (x: any) => x.id === link.body.id,
      );
      return l.status === 'active' ? l : undefined;
    },
    20000,
  );
  return { ...account, staffId, linkId: link.body.id, calendarId: ready.calendarId };
}
