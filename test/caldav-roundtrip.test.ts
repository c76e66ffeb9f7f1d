import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { waitUntil } from './helpers/api';
import { useAppStackWithSmtp, type TestSmtpServer } from './helpers/smtp';
import { calendar, dateTimeProp, ruleProp, stampProp, stringifyCalendar, textProp } from '../lib/ical';
import { TenantWorld } from './helpers/world';

/**
 * calsync's iCalendar through a real CalDAV server (Radicale, started by globalSetup): every feed
 * event and every invitation's VEVENT set is PUT as a calendar object resource, and Radicale's own
 * recurrence evaluation (python's vobject/dateutil, nobody's code of ours) must find each
 * occurrence at the instant the API was given, and nothing where a cancelled or moved one was.
 */

const radicale = () => process.env.RADICALE_URL!;
const auth = { authorization: `Basic ${Buffer.from('calsync:x').toString('base64')}` };
const utc = (d: DateTime) => d.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");

async function makeCalendar(name: string): Promise<string> {
  const url = `${radicale()}/calsync/${name}/`;
  const res = await fetch(url, {
    method: 'MKCOL',
    headers: { ...auth, 'content-type': 'application/xml' },
    body: `<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`,
  });
  expect(res.status).toBe(201);
  return url;
}

/**
 * One resource per UID (RFC 4791: the master and its overrides together, with their VTIMEZONEs);
 * an iTIP message's METHOD is dropped, as a client does when it files the invitation.
 */
async function putEvents(calendarUrl: string, ics: string): Promise<Map<string, string>> {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  calendar.removeAllProperties('method');
  const byUid = new Map<string, ICAL.Component[]>();
  for (const v of calendar.getAllSubcomponents('vevent')) {
    const uid = v.getFirstPropertyValue('uid') as string;
    byUid.set(uid, [...(byUid.get(uid) ?? []), v]);
  }
  const hrefs = new Map<string, string>();
  for (const [uid, vevents] of byUid) {
    const one = new ICAL.Component(['vcalendar', [], []]);
    for (const p of calendar.getAllProperties()) one.addProperty(ICAL.Property.fromString(p.toICALString()));
    for (const tz of calendar.getAllSubcomponents('vtimezone')) one.addSubcomponent(new ICAL.Component(tz.toJSON()));
    for (const v of vevents) one.addSubcomponent(new ICAL.Component(v.toJSON()));
    const name = `${createHash('sha256').update(uid).digest('hex').slice(0, 20)}.ics`;
    const res = await fetch(`${calendarUrl}${name}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'text/calendar; charset=utf-8' },
      body: one.toString(),
    });
    expect([res.status, await res.text()]).toEqual([201, '']);
    hrefs.set(uid, new URL(`${calendarUrl}${name}`).pathname);
  }
  return hrefs;
}

/** The resources Radicale finds with an event in [start, end): a calendar-query time-range REPORT. */
async function inRange(calendarUrl: string, start: DateTime, end: DateTime): Promise<string[]> {
  const res = await fetch(calendarUrl, {
    method: 'REPORT',
    headers: { ...auth, depth: '1', 'content-type': 'application/xml' },
    body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${utc(start)}" end="${utc(end)}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
  });
  expect(res.status).toBe(207);
  return [...(await res.text()).matchAll(/<href>([^<]+)<\/href>/g)].map((m) => m[1]!).sort();
}

/** What Radicale stored for a resource, expanded by ical.js: [start, end] instants. */
async function storedOccurrences(href: string): Promise<Array<[string, string]>> {
  const text = await (await fetch(`${radicale()}${href}`, { headers: auth })).text();
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const tz of calendar.getAllSubcomponents('vtimezone')) {
    ICAL.TimezoneService.remove(tz.getFirstPropertyValue('tzid') as string);
    ICAL.TimezoneService.register(tz);
  }
  const vevents = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents('vevent');
  const master = new ICAL.Event(
    vevents.find((v) => !v.hasProperty('recurrence-id'))!,
    {
      exceptions: vevents.filter((v) => v.hasProperty('recurrence-id')).map((v) => new ICAL.Event(v)),
    },
  );
  const iso = (t: ICAL.Time) => DateTime.fromJSDate(t.toJSDate()).toUTC().toISO()!;
  if (!master.isRecurring()) return [[iso(master.startDate), iso(master.endDate)]];
  const out: Array<[string, string]> = [];
  const it = master.iterator();
  for (let next = it.next(); next && out.length < 50; next = it.next()) {
    const d = master.getOccurrenceDetails(next);
    out.push([iso(d.startDate), iso(d.endDate)]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

describe('iCalendar round trip through a real CalDAV server (Radicale)', () => {
  const mail = useAppStackWithSmtp('Calsync <invitations@calsync.test>');
  const stack = mail.stack;
  let smtp: TestSmtpServer;
  beforeAll(() => {
    smtp = mail.server();
  });

  test('feed events and invitations: occurrences where the API put them, none where they were cancelled or moved from', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      clientInvitations: { enabled: true },
      businessName: 'Barber "B" \\ Co; Ltd, ^',
      organizerEmail: 'desk@barber.test',
    });
    await world.staffWithGoogle('zoe');
    const name = 'Zoë "Z" O\'Brien; Smith, Jr. \\ ^ :\tx';
    expect((await world.call('PUT', '/v1/staff/zoe', { name })).status).toBe(200);

    // A Madrid Tuesday 15:00 weekly series for a client in Auckland, across Madrid's spring change
    // and Auckland's autumn one: week 2 cancelled, week 4 moved to Wednesday 17:30.
    const ZONE = 'Europe/Madrid';
    const year = DateTime.now().year + 1;
    const march31 = DateTime.fromObject({ year, month: 3, day: 31 }, { zone: ZONE });
    const first = march31.minus({ days: (march31.weekday % 7) + 19 }).set({ hour: 15 });
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const moved = first.plus({ weeks: 3, days: 1 }).set({ hour: 17, minute: 30 });
    const hour = { hours: 1 };
    expect(
      (
        await world.call('PUT', '/v1/appointments/series', {
          revision: 1796526000000,
          start: fmt(first),
          end: fmt(first.plus(hour)),
          timeZone: ZONE,
          locationTimeZone: 'Pacific/Auckland',
          clientEmail: 'kiri@client.test',
          clientName: name,
          title: `Cut; "trim", \\ ^`,
          staffIds: ['zoe'],
          recurrence: {
            rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=6',
            exceptions: [
              { originalStart: first.plus({ weeks: 1 }).toISODate(), cancelled: true },
              { originalStart: first.plus({ weeks: 3 }).toISODate(), start: fmt(moved), end: fmt(moved.plus(hour)) },
            ],
          },
        })
      ).status,
    ).toBe(202);
    // Single appointments in zones a stale table gets wrong (Casablanca +01:00 outside Ramadan).
    const singles = [
      [
        'casablanca',
        'Africa/Casablanca',
        DateTime.fromObject({ year, month: 6, day: 8, hour: 10 }, { zone: 'Africa/Casablanca' }),
      ],
      [
        'kathmandu',
        'Asia/Kathmandu',
        DateTime.fromObject({ year, month: 6, day: 8, hour: 9, minute: 15 }, { zone: 'Asia/Kathmandu' }),
      ],
    ] as const;
    for (const [id, zone, at] of singles) {
      const res = await world.call('PUT', `/v1/appointments/${id}`, {
        revision: 1,
        start: fmt(at),
        end: fmt(at.plus({ minutes: 45 })),
        timeZone: zone,
        locationTimeZone: zone,
        clientEmail: `${id}@client.test`,
        title: `Visit ${id}`,
        staffIds: ['zoe'],
      });
      expect(res.status).toBe(202);
    }

    const expectedSeries = [first, first.plus({ weeks: 2 }), moved, first.plus({ weeks: 4 }), first.plus({ weeks: 5 })];
    const gone = [first.plus({ weeks: 1 }), first.plus({ weeks: 3 })];
    const iso = (d: DateTime) => d.toUTC().toISO()!;

    // The staff feed.
    const feed = await world.call('POST', '/v1/staff/zoe/feeds', {});
    const feedIcs = await (await fetch(`${stack.apiUrl}${new URL(feed.body.url as string).pathname}`)).text();
    const feedCalendar = await makeCalendar(`feed-${world.tenantId}`);
    // Each resource carries the feed's NAME and X-WR-CALNAME (the awkward staff name): Radicale
    // refuses a resource it cannot parse, as it did the raw line break of a name.
    const feedHrefs = await putEvents(feedCalendar, feedIcs);
    expect(feedHrefs.size).toBe(3);

    // The invitations, as each client received them.
    const invitationCalendar = await makeCalendar(`invites-${world.tenantId}`);
    const inviteHrefs = new Map<string, string>();
    for (const to of ['kiri@client.test', 'casablanca@client.test', 'kathmandu@client.test']) {
      const [received] = await waitUntil(`the invitation to ${to}`, async () =>
        smtp.to(to).length ? smtp.to(to) : undefined,
      );
      const ics = received!.parsed.attachments.find((a) => a.contentType === 'text/calendar')!.content.toString('utf8');
      const [href] = [...(await putEvents(invitationCalendar, ics)).values()];
      inviteHrefs.set(to, href!);
    }

    for (const [calendarUrl, href] of [
      [feedCalendar, feedHrefs.get(`series@${world.tenantId}.calsync`)!],
      [invitationCalendar, inviteHrefs.get('kiri@client.test')!],
    ] as const) {
      // Radicale's own recurrence evaluation: each occurrence found where it is, none where it was.
      for (const at of expectedSeries) expect(await inRange(calendarUrl, at, at.plus(hour))).toContain(href);
      for (const at of gone) expect(await inRange(calendarUrl, at, at.plus(hour))).not.toContain(href);
      // And what it stored reads back as the same occurrences.
      expect(await storedOccurrences(href)).toEqual(expectedSeries.map((at) => [iso(at), iso(at.plus(hour))]));
    }
    for (const [id, , at] of singles) {
      const feedHref = feedHrefs.get(`${id}@${world.tenantId}.calsync`)!;
      const inviteHref = inviteHrefs.get(`${id}@client.test`)!;
      for (const [calendarUrl, href] of [
        [feedCalendar, feedHref],
        [invitationCalendar, inviteHref],
      ] as const) {
        expect(await inRange(calendarUrl, at, at.plus({ minutes: 45 }))).toContain(href);
        // An hour off (what a +00:00 Casablanca table gives) is not the appointment.
        expect(await inRange(calendarUrl, at.plus({ minutes: 50 }), at.plus({ minutes: 100 }))).not.toContain(href);
        expect(await inRange(calendarUrl, at.minus({ minutes: 60 }), at.minus({ minutes: 5 }))).not.toContain(href);
        expect(await storedOccurrences(href)).toEqual([[iso(at), iso(at.plus({ minutes: 45 }))]]);
      }
    }
  });
  // vobject (Radicale's reader) keeps one definition per TZID for the whole server: the VTIMEZONE it
  // parsed last answers for every resource that names the zone, whoever wrote it. Every VTIMEZONE
  // calsync writes must therefore be right for any year, not only for the years of its own event.
  test("a zone's definition written for one year's event is right for every other year's", async () => {
    const ZONE = 'Europe/Madrid';
    const one = (uid: string, at: DateTime) =>
      stringifyCalendar(
        calendar(
          [['prodid', {}, 'text', '-//calsync test//EN']],
          [
            [
              'vevent',
              [
                textProp('uid', uid),
                stampProp(),
                dateTimeProp('dtstart', at, ZONE),
                dateTimeProp('dtend', at.plus({ hours: 1 }), ZONE),
                // A series: Radicale evaluates it at each query, not once when it is written.
                ruleProp('FREQ=WEEKLY;COUNT=3'),
                textProp('summary', uid),
              ],
              [],
            ],
          ],
          [ZONE],
          { from: at.year - 1, to: at.year + 1 },
        ),
      );
    const year = DateTime.now().year;
    // The series' second week, in summer time.
    const summer = (y: number) => DateTime.fromObject({ year: y, month: 7, day: 1, hour: 15 }, { zone: ZONE });
    const second = (y: number) => summer(y).plus({ weeks: 1 });
    const put = async (calendarUrl: string, name: string, ics: string) => {
      const res = await fetch(`${calendarUrl}${name}.ics`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'text/calendar; charset=utf-8' },
        body: ics,
      });
      expect([201, 204]).toContain(res.status);
    };
    const suffix = Math.random().toString(36).slice(2, 8);
    const later = await makeCalendar(`tz-later-${suffix}`);
    const earlier = await makeCalendar(`tz-earlier-${suffix}`);
    await put(later, 'later', one('later', summer(year + 3)));
    for (const y of [year - 8, year + 3]) {
      // Radicale reads the other calendar's resource (and its VTIMEZONE) between the write and the query.
      await put(earlier, `y${y}`, one(`y${y}`, summer(y)));
      expect(await inRange(earlier, second(y), second(y).plus({ hours: 1 }))).toHaveLength(1);
      expect(await inRange(later, second(year + 3), second(year + 3).plus({ hours: 1 }))).toHaveLength(1);
      expect(await inRange(earlier, second(y), second(y).plus({ hours: 1 }))).toHaveLength(1);
    }
  });
});
