import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { appointmentBody, call, waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';

/** Busy time and availability for booking engines, and staff subscription feeds: PostgreSQL only. */
describe('busy time, availability and staff feeds', () => {
  const stack = useAppStack();
  const day = new Date(Date.now() + 5 * 86400000).toISOString().slice(0, 10);
  const at = (hh: string) => `${day}T${hh}:00`;
  let world: TenantWorld;

  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
    for (const id of ['nina', 'otto'])
      await world.call('PUT', `/v1/staff/${id}`, { name: id === 'nina' ? 'Nina' : 'Otto' });
    const put = (id: string, from: string, to: string, extra: Record<string, unknown> = {}) =>
      world.call('PUT', `/v1/appointments/${id}`, {
        ...appointmentBody({ revision: 1, staffIds: ['nina'] }),
        start: at(from),
        end: at(to),
        ...extra,
      });
    expect((await put('a', '10:00', '11:00', { title: 'Cut' })).status).toBe(202);
    await put('b', '10:30', '11:30', { title: 'Colour' });
    await put('c', '14:00', '15:00', { title: 'Beard' });
    await put('d', '16:00', '17:00', { title: 'Cancelled one' });
    await world.call('POST', '/v1/appointments/d/cancel', {});
    await put('e', '18:00', '19:00', { title: 'Deleted one' });
    await world.call('DELETE', '/v1/appointments/e');
    await put('f', '12:00', '13:00', { staffIds: ['otto'] });
  });

  test("busy intervals are merged and given in the caller's time zone", async () => {
    const res = await world.call(
      'GET',
      `/v1/staff/nina/busy?from=${at('00:00')}&to=${day}T23:59:00&timeZone=Europe/Madrid`,
    );
    expect(res.status).toBe(200);
    expect(res.body.busy).toEqual([
      { start: `${day}T10:00:00+01:00`, end: `${day}T11:30:00+01:00` },
      { start: `${day}T14:00:00+01:00`, end: `${day}T15:00:00+01:00` },
    ]);
    const utc = await world.call('GET', `/v1/staff/nina/busy?from=${day}T08:00:00Z&to=${day}T12:00:00Z`);
    expect(utc.body.busy).toEqual([{ start: `${day}T09:00:00Z`, end: `${day}T10:30:00Z` }]);
  });

  test('availability check answers free or the conflicts', async () => {
    const check = (start: string, end: string, extra = {}) =>
      world.call('POST', '/v1/staff/nina/availability/check', {
        start: at(start),
        end: at(end),
        timeZone: 'Europe/Madrid',
        ...extra,
      });
    expect((await check('11:00', '12:00')).body).toEqual({
      free: false,
      conflicts: [
        { start: `${day}T10:30:00+01:00`, end: `${day}T11:30:00+01:00`, source: 'appointment', appointmentId: 'b' },
      ],
    });
    expect((await check('11:30', '12:00')).body).toEqual({ free: true, conflicts: [] });
    expect((await check('16:00', '17:00')).body.free).toBe(true); // cancelled
    expect((await check('18:00', '19:00')).body.free).toBe(true); // deleted
    expect((await check('11:00', '12:00', { excludeAppointmentId: 'b' })).body.free).toBe(true); // moving b itself
  });

  test('bad windows are 400s naming the field; unknown or foreign staff are 404s', async () => {
    expect((await world.call('GET', `/v1/staff/nina/busy?from=${at('12:00')}&to=${at('11:00')}`)).body.message).toMatch(
      /^query\.to:/,
    );
    expect(
      (await world.call('GET', `/v1/staff/nina/busy?from=${at('12:00')}&to=2099-01-01T00:00:00`)).body.message,
    ).toMatch(/^query\.to: must be at most 62 days/);
    expect((await world.call('GET', `/v1/staff/nina/busy?from=soon&to=${at('11:00')}`)).body.message).toMatch(
      /^query\.from:/,
    );
    expect(
      (
        await world.call('POST', '/v1/staff/nina/availability/check', {
          start: at('10:00'),
          end: at('11:00'),
          timeZone: 'Nowhere/Land',
        })
      ).body.message,
    ).toMatch(/^timeZone:/);
    expect((await world.call('GET', `/v1/staff/ghost/busy?from=${at('10:00')}&to=${at('11:00')}`)).status).toBe(404);
    const other = await TenantWorld.create(stack.apiUrl);
    expect((await other.call('GET', `/v1/staff/nina/busy?from=${at('10:00')}&to=${at('11:00')}`)).status).toBe(404);
    expect((await other.call('POST', '/v1/staff/nina/feeds', {})).status).toBe(404);
  });

  test('a subscription feed carries the appointments with stable UIDs, and can be revoked', async () => {
    const created = await world.call('POST', '/v1/staff/nina/feeds', {});
    expect(created.status).toBe(201);
    const url: string = created.body.url;
    expect(url).toMatch(/\/feeds\/cf_[A-Za-z0-9_-]{43}\.ics$/);
    const path = new URL(url).pathname;

    const read = async () => {
      const res = await fetch(`${stack.apiUrl}${path}`);
      expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
      const vcal = new ICAL.Component(ICAL.parse(await res.text()));
      return { vcal, events: vcal.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v)) };
    };
    const first = await read();
    expect(first.events.map((e) => e.summary).sort()).toEqual(['Beard', 'Colour', 'Cut']);
    const cut = first.events.find((e) => e.summary === 'Cut')!;
    expect(cut.uid).toBe(`a@${world.tenantId}.calsync`);
    // SEQUENCE is calsync's own counter of accepted changes, never the CRM's revision.
    expect(cut.sequence).toBe(0);
    expect(cut.component.getFirstProperty('dtstart')!.getParameter('tzid')).toBe('Europe/Madrid');
    expect(cut.startDate.toString()).toBe(`${day}T10:00:00`);
    expect(first.vcal.getAllSubcomponents('vtimezone').map((z) => z.getFirstPropertyValue('tzid'))).toEqual([
      'Europe/Madrid',
    ]);
    expect(JSON.stringify(first.events.map((e) => [e.summary, e.description]))).not.toContain('Ana García');

    // A change updates the same event (same UID, higher SEQUENCE); "full" detail shows the client.
    await world.call('PUT', '/v1/appointments/a', {
      ...appointmentBody({ revision: 2, staffIds: ['nina'] }),
      start: at('10:00'),
      end: at('11:00'),
      title: 'Cut and wash',
    });
    await world.call('PUT', '/v1/settings', { feedDetail: 'full' });
    const second = await read();
    const updated = second.events.find((e) => e.uid === `a@${world.tenantId}.calsync`)!;
    expect([updated.summary, updated.sequence]).toEqual(['Cut and wash – Ana García', 1]);
    expect(updated.description).toBe('Prefers the window seat');

    await world.call('PUT', '/v1/settings', { feedDetail: 'busy' });
    const third = await read();
    expect(new Set(third.events.map((e) => e.summary))).toEqual(new Set(['Busy']));
    expect(third.events.every((e) => !e.location)).toBe(true);

    const list = await world.call('GET', '/v1/staff/nina/feeds');
    expect(JSON.stringify(list.body)).not.toContain(path.slice(7, 30));
    expect((await world.call('DELETE', `/v1/staff/nina/feeds/${created.body.id}`)).status).toBe(204);
    expect((await fetch(`${stack.apiUrl}${path}`)).status).toBe(404);
    expect((await call(stack.apiUrl, 'GET', '/feeds/cf_guess.ics')).status).toBe(404);

    // The token is the secret: request logs show the route, never the token.
    const apiLog = () => readFileSync(join(process.env.CALSYNC_TEST_TMP!, `api-${stack.taskQueue}.log`), 'utf8');
    await waitUntil('feed requests logged', async () => apiLog().includes('/feeds/[redacted].ics'));
    expect(apiLog()).not.toContain(path.slice('/feeds/'.length, -'.ics'.length));
  });

  test('a feed stays valid with an epoch-millisecond revision, awkward staff names and zones a stale table gets wrong', async () => {
    const name = 'Zoë "Z" O\'Brien; Smith, Jr. \\ ^ :\tx';
    expect((await world.call('PUT', '/v1/staff/zoe', { name })).status).toBe(200);
    const when = (zone: string, local: string) => DateTime.fromISO(`${day}T${local}`, { zone });
    const given = [
      ['cas', 'Africa/Casablanca', '10:00'],
      ['ktm', 'Asia/Kathmandu', '09:15'],
    ] as const;
    for (const [id, zone, local] of given) {
      const res = await world.call('PUT', `/v1/appointments/${id}`, {
        ...appointmentBody({ revision: 1796526000000, staffIds: ['zoe'] }),
        start: `${day}T${local}:00`,
        end: when(zone, local).plus({ minutes: 45 }).toFormat("yyyy-MM-dd'T'HH:mm:ss"),
        timeZone: zone,
        title: `Visit ${id}`,
      });
      expect(res.status).toBe(202);
    }
    // The test before leaves the tenant on "busy" detail: titles name the appointments here.
    expect((await world.call('PUT', '/v1/settings', { feedDetail: 'title' })).status).toBe(200);
    const created = await world.call('POST', '/v1/staff/zoe/feeds', {});
    const text = await (await fetch(`${stack.apiUrl}${new URL(created.body.url as string).pathname}`)).text();
    const vcal = new ICAL.Component(ICAL.parse(text));
    for (const tz of vcal.getAllSubcomponents('vtimezone')) {
      ICAL.TimezoneService.remove(tz.getFirstPropertyValue('tzid') as string);
      ICAL.TimezoneService.register(tz);
    }
    const reparsed = new ICAL.Component(ICAL.parse(text));
    // NAME (RFC 7986) and X-WR-CALNAME are TEXT: one line each, escaped, reading back as written.
    const lines = text.replace(/\r\n[ \t]/g, '').split('\r\n');
    const textType = ICAL.design.icalendar.value.text as { fromICAL: (v: string) => string };
    for (const prop of ['NAME', 'X-WR-CALNAME']) {
      const line = lines.find((l) => l.startsWith(`${prop}:`))!;
      expect(textType.fromICAL(line.slice(prop.length + 1))).toBe(name);
    }
    const events = reparsed.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    expect(events.map((e) => e.sequence)).toEqual([0, 0]);
    expect(text).not.toContain('1796526000000');
    for (const [id, zone, local] of given) {
      const event = events.find((e) => e.summary === `Visit ${id}`)!;
      expect(event.startDate.toJSDate().toISOString()).toBe(when(zone, local).toUTC().toISO());
    }
  });
});
