import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { caldav, staffWithCalDav, type CalDavAccount } from './helpers/caldav';
import { waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient } from './helpers/world';

/**
 * API → appointmentSync → the CalDAV provider (tsdav) → the fault proxy → Radicale, a real CalDAV
 * server: what Radicale stores is read back straight from it, not through calsync.
 */

/** The VEVENTs of each resource in a calendar, as Radicale has them. */
async function stored(account: CalDavAccount, calendarUrl: string) {
  const out: Array<{ href: string; summary: string; transp: string; tag: string; vevents: ICAL.Component[] }> = [];
  for (const [href, ics] of await caldav.resources(account, calendarUrl)) {
    const vevents = new ICAL.Component(ICAL.parse(ics)).getAllSubcomponents('vevent');
    const master = vevents.find((v) => !v.hasProperty('recurrence-id'))!;
    out.push({
      href,
      summary: String(master.getFirstPropertyValue('summary')),
      transp: String(master.getFirstPropertyValue('transp') ?? 'OPAQUE'),
      tag: String(master.getFirstPropertyValue('x-calsync-id')),
      vevents,
    });
  }
  return out;
}

const utc = (d: DateTime) => d.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");

describe('appointments in CalDAV calendars (Radicale)', () => {
  const stack = useAppStack({ SYNC_ACTIVITY_MAX_ATTEMPTS: '12', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  const settings = { calendarMode: 'dedicated', consentAccounts: 'any', cancelledEvents: 'keep' };

  test('create → 10 rapid updates (≤ 2 writes) → reassign → cancel (kept) → delete → re-create', async () => {
    const world = await TenantWorld.create(stack.apiUrl, settings);
    const ola = await staffWithCalDav(world, 'ola');
    const ben = await staffWithCalDav(world, 'ben');
    expect(ola.calendarId).toMatch(/\/calsync-[A-Za-z0-9_-]+\/$/);

    await world.put('visit-1', { revision: 1, staffIds: ['ola'] });
    await world.waitSynced('visit-1', 1);
    const [created, ...none] = await stored(ola, ola.calendarId);
    expect(none).toEqual([]);
    expect(created).toMatchObject({
      summary: 'Haircut – Ana García',
      transp: 'OPAQUE',
      tag: `${world.tenantId}:visit-1`,
    });

    // Ten quick updates: one or two PUTs of the same resource, counted at the proxy.
    await caldav.resetStats(ola.username);
    for (let revision = 2; revision <= 11; revision++)
      expect((await world.put('visit-1', { revision, staffIds: ['ola'], title: `Haircut v${revision}` })).status).toBe(
        202,
      );
    await world.waitSynced('visit-1', 11);
    const burst = await caldav.stats(ola.username);
    expect(burst.writes).toBeGreaterThanOrEqual(1);
    expect(burst.writes).toBeLessThanOrEqual(2);
    expect(burst.byMethod.DELETE ?? 0).toBe(0);
    const updated = await stored(ola, ola.calendarId);
    expect(updated.map((e) => [e.href, e.summary])).toEqual([[created!.href, 'Haircut v11 – Ana García']]);

    // Reassign: out of Ola's calendar, into Ben's.
    await world.put('visit-1', { revision: 12, staffIds: ['ben'], title: 'Haircut v12' });
    await world.waitSynced('visit-1', 12);
    expect(await stored(ola, ola.calendarId)).toEqual([]);
    expect((await stored(ben, ben.calendarId)).map((e) => e.summary)).toEqual(['Haircut v12 – Ana García']);

    // Cancel, kept: marked and free (transparent), the same resource.
    const cancelled = await world.call('POST', '/v1/appointments/visit-1/cancel', {});
    await world.waitSynced('visit-1', cancelled.body.revision);
    expect((await stored(ben, ben.calendarId)).map((e) => [e.summary, e.transp])).toEqual([
      ['Cancelled: Haircut v12 – Ana García', 'TRANSPARENT'],
    ]);

    // Delete: nothing anywhere, and the workflow closes.
    expect((await world.call('DELETE', '/v1/appointments/visit-1')).status).toBe(202);
    await world.waitSynced('visit-1', cancelled.body.revision + 1);
    expect(await stored(ben, ben.calendarId)).toEqual([]);
    expect(await stored(ola, ola.calendarId)).toEqual([]);
    const client = await temporalClient();
    await waitUntil('workflow to close', async () => {
      const d = await client.workflow.getHandle(`appt:${world.tenantId}:visit-1`).describe();
      return d.status.name === 'COMPLETED';
    });

    // Re-create under the same id: one resource again.
    await world.put('visit-1', { revision: 100, staffIds: ['ola'], title: 'Back' });
    await world.waitSynced('visit-1', 100);
    expect((await stored(ola, ola.calendarId)).map((e) => e.summary)).toEqual(['Back – Ana García']);
    expect(await stored(ben, ben.calendarId)).toEqual([]);
  });

  test('a weekly series with a moved and a cancelled occurrence, and an all-day day in Auckland, found by time-range REPORTs', async () => {
    const world = await TenantWorld.create(stack.apiUrl, settings);
    const kai = await staffWithCalDav(world, 'kai');
    const ZONE = 'Europe/Madrid';
    const year = DateTime.now().year + 1;
    // Across Madrid's spring change: Tuesdays at 15:00, week 2 cancelled, week 4 moved to Wednesday 17:30.
    const march31 = DateTime.fromObject({ year, month: 3, day: 31 }, { zone: ZONE });
    const first = march31.minus({ days: (march31.weekday % 7) + 19 }).set({ hour: 15 });
    const moved = first.plus({ weeks: 3, days: 1 }).set({ hour: 17, minute: 30 });
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const hour = { hours: 1 };
    const series = await world.call('PUT', '/v1/appointments/series', {
      revision: 1,
      start: fmt(first),
      end: fmt(first.plus(hour)),
      timeZone: ZONE,
      title: 'Cut',
      staffIds: ['kai'],
      recurrence: {
        rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=6',
        exceptions: [
          { originalStart: first.plus({ weeks: 1 }).toISODate(), cancelled: true },
          { originalStart: first.plus({ weeks: 3 }).toISODate(), start: fmt(moved), end: fmt(moved.plus(hour)) },
        ],
      },
    });
    expect(series.status).toBe(202);
    const day = DateTime.fromObject({ year, month: 7, day: 14 }, { zone: 'Pacific/Auckland' });
    const allDay = await world.call('PUT', '/v1/appointments/offsite', {
      revision: 1,
      start: day.toISODate(),
      end: day.plus({ days: 1 }).toISODate(),
      allDay: true,
      timeZone: 'Pacific/Auckland',
      title: 'Offsite',
      staffIds: ['kai'],
    });
    expect([allDay.status, allDay.body]).toEqual([202, expect.anything()]);
    await world.waitSynced('series', 1);
    await world.waitSynced('offsite', 1);

    const found = async (from: DateTime, to: DateTime) =>
      [...(await caldav.resources(kai, kai.calendarId, { start: utc(from), end: utc(to) })).keys()].length;
    const expected = [first, first.plus({ weeks: 2 }), moved, first.plus({ weeks: 4 }), first.plus({ weeks: 5 })];
    // Radicale's own recurrence evaluation: each occurrence where the API put it, none where it was.
    for (const at of expected) expect(await found(at, at.plus(hour))).toBe(1);
    for (const at of [first.plus({ weeks: 1 }), first.plus({ weeks: 3 })])
      expect(await found(at, at.plus(hour))).toBe(0);
    // The all-day appointment is the Auckland date, as a DATE (a floating day, RFC 5545 §3.3.4): written
    // from the instant of Auckland's midnight in UTC it would be the 13th. Radicale evaluates a
    // floating day in UTC when the query names no zone (RFC 4791 §9.9): the 14th, nothing either side.
    const floating = DateTime.fromISO(day.toISODate()!, { zone: 'utc' });
    expect(await found(floating.plus({ hours: 1 }), floating.plus({ hours: 2 }))).toBe(1);
    expect(await found(floating.minus({ minutes: 30 }), floating.minus({ minutes: 1 }))).toBe(0);
    expect(await found(floating.plus({ days: 1, minutes: 1 }), floating.plus({ days: 1, minutes: 30 }))).toBe(0);
    const resources = await stored(kai, kai.calendarId);
    expect(resources).toHaveLength(2);
    // One resource per UID: the series and its moved occurrence together.
    expect(resources.find((r) => r.summary.startsWith('Cut'))!.vevents).toHaveLength(2);
    const offsite = resources.find((r) => r.summary.startsWith('Offsite'))!.vevents[0]!;
    expect(String(offsite.getFirstPropertyValue('dtstart'))).toBe(day.toISODate());
    expect(String(offsite.getFirstPropertyValue('dtend'))).toBe(day.plus({ days: 1 }).toISODate());
  });

  test('"apply, then answer 500" and 503 with Retry-After duplicate nothing and lose nothing', async () => {
    const world = await TenantWorld.create(stack.apiUrl, settings);
    const dana = await staffWithCalDav(world, 'dana');
    await caldav.setFaults({ user: dana.username, applyThenFail: 'always' });
    try {
      await world.put('dup-0', { revision: 1, staffIds: ['dana'], title: 'dup-0' });
      // Every write is applied and answered 500: the retry finds the resource (412 on If-None-Match) and stops there.
      await waitUntil('the event in Radicale', async () => (await stored(dana, dana.calendarId)).length === 1);
    } finally {
      await caldav.clearFaults(dana.username);
    }
    await world.waitSynced('dup-0', 1, 60000);
    await caldav.setFaults({ user: dana.username, errorRate: 0.5, errorStatuses: [503, 429], retryAfterSeconds: 1 });
    try {
      const ids = Array.from({ length: 4 }, (_, i) => `busy-${i}`);
      await Promise.all(ids.map((id) => world.put(id, { revision: 1, staffIds: ['dana'], title: id })));
      await Promise.all(ids.map((id) => world.waitSynced(id, 1, 90000)));
    } finally {
      await caldav.clearFaults(dana.username);
    }
    expect((await stored(dana, dana.calendarId)).map((e) => e.summary).sort()).toEqual(
      ['busy-0', 'busy-1', 'busy-2', 'busy-3', 'dup-0'].map((t) => `${t} – Ana García`),
    );
  });

  test('backfill on connect, and a resource changed by hand restored by reconciliation', async () => {
    const world = await TenantWorld.create(stack.apiUrl, settings);
    await world.call('PUT', '/v1/staff/rea', { name: 'Rea' });
    // Booked before the account is connected: the link's backfill writes it.
    await world.put('early', { revision: 1, staffIds: ['rea'], title: 'Early' });
    const rea = await staffWithCalDav(world, 'rea');
    await world.waitSynced('early', 1, 60000);
    const [before] = await caldav.resources(rea, rea.calendarId);
    expect(before![1]).toContain('SUMMARY:Early – Ana García');

    // Retitled by hand in the person's calendar app (their own PUT, tags kept): reconciliation puts it back.
    const [href, ics] = before!;
    await caldav.put(
      rea,
      rea.calendarId.replace(process.env.CALDAV_PROXY_URL!, process.env.RADICALE_URL!),
      decodeURIComponent(href.split('/').at(-1)!).replace(/\.ics$/, ''),
      ics.replace('SUMMARY:Early – Ana García', 'SUMMARY:Lunch'),
    );
    expect([...(await caldav.resources(rea, rea.calendarId)).values()][0]).toContain('SUMMARY:Lunch');
    expect((await world.call('POST', `/v1/links/${rea.linkId}/reconcile`)).status).toBe(202);
    await waitUntil(
      'the title restored',
      async () =>
        [...(await caldav.resources(rea, rea.calendarId)).values()][0]?.includes('SUMMARY:Early – Ana García'),
      30000,
    );
    expect(await caldav.resources(rea, rea.calendarId)).toHaveProperty('size', 1);
  });
});
