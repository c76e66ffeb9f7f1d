import { DateTime } from 'luxon';
import {
  createMicrosoftEmulator,
  ensureEmulatorCertificate,
  type RunningMicrosoftEmulator,
} from '../emulators/microsoft/server';
import { MicrosoftBusyReader } from '../providers/microsoft/busy';
import { ianaZoneOf } from '../providers/microsoft/zones';
import { controlCall } from './helpers/emulator';

/**
 * Busy time read from Outlook as Graph really answers: occurrences in calendarView/delta carry
 * only their times (free/busy, all-day and the owner's response live on the series master), events
 * made in Outlook carry Windows zone names, and an occurrence deleted from a series is not
 * reported on its own.
 */
let msEmu: RunningMicrosoftEmulator;
const control = controlCall(() => msEmu.url);

beforeAll(async () => {
  msEmu = await createMicrosoftEmulator({
    tls: await ensureEmulatorCertificate(process.env.MICROSOFT_EMULATOR_CERT_DIR!),
  }).listen(0);
});
afterAll(async () => {
  await msEmu.close();
});

const window = { start: new Date(Date.now() - 86400000), end: new Date(Date.now() + 60 * 86400000) };
const day = (n: number) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
const at = (d: number, h: string, timeZone = 'UTC') => ({ dateTime: `${day(d)}T${h}:00`, timeZone });
const midnight = (date: string, zone: string) => DateTime.fromISO(date, { zone }).toJSDate();

async function mailbox(email: string) {
  const user = await control('POST', '/_emulator/users', { email });
  const events = `/_emulator/users/${user.email}/calendars/calendar/events`;
  const reader = new MicrosoftBusyReader({ baseUrl: msEmu.url, accessToken: user.accessToken });
  const stats = async () => {
    const s = await control('GET', `/_emulator/stats?user=${encodeURIComponent(user.email)}`);
    return s as { requests: number; byOperation: Record<string, { total: number }> };
  };
  return { user, events, reader, stats };
}

const weekly = (first: number, count: number) => ({
  pattern: { type: 'daily', interval: 7 },
  range: { type: 'numbered', startDate: day(first), numberOfOccurrences: count },
});

describe('Microsoft busy import reads occurrences from their series master', () => {
  test('the emulator answers delta with sparse occurrences, as Graph does', async () => {
    const { user, events } = await mailbox('sparse@contoso.test');
    await control('POST', events, {
      subject: 'lunch',
      showAs: 'free',
      start: at(2, '12:00'),
      end: at(2, '13:00'),
      recurrence: weekly(2, 2),
    });
    const res = await fetch(
      `${msEmu.url}/v1.0/me/calendarView/delta?startDateTime=${window.start.toISOString()}&endDateTime=${window.end.toISOString()}`,
      { headers: { authorization: `Bearer ${user.accessToken}` } },
    );
    const body = (await res.json()) as { value: Array<Record<string, unknown>> };
    expect(body.value).toHaveLength(2);
    for (const o of body.value) {
      expect(Object.keys(o).sort()).toEqual(
        ['@odata.etag', '@odata.type', 'end', 'id', 'seriesMasterId', 'start', 'type'].sort(),
      );
    }
  });

  test('a recurring free event, a declined weekly meeting and a recurring all-day event are read right; one master read each per pass', async () => {
    const { events, reader, stats } = await mailbox('recurring@contoso.test');
    const lunch = await control('POST', events, {
      subject: 'lunch',
      showAs: 'free',
      start: at(2, '12:00'),
      end: at(2, '13:00'),
      recurrence: weekly(2, 3),
    });
    const declined = await control('POST', events, {
      subject: 'status meeting',
      isOrganizer: false,
      responseStatus: 'declined',
      organizer: { emailAddress: { name: 'Boss', address: 'boss@contoso.test' } },
      start: at(3, '09:00'),
      end: at(3, '10:00'),
      recurrence: weekly(3, 3),
    });
    const holiday = await control('POST', events, {
      subject: 'on leave',
      asOutlook: true,
      isAllDay: true,
      showAs: 'oof',
      start: { dateTime: `${day(4)}T00:00:00`, timeZone: 'Europe/Berlin' },
      end: { dateTime: `${day(5)}T00:00:00`, timeZone: 'Europe/Berlin' },
      recurrence: weekly(4, 2),
    });
    expect(holiday.start.timeZone).toBe('W. Europe Standard Time');
    await control('POST', '/_emulator/stats/reset');
    const pass = await reader.read('calendar', undefined, window);
    const of = (id: string) => pass.upserts.filter((e) => e.seriesId === id);
    expect(of(lunch.id).map((e) => [e.showAs, e.allDay])).toEqual([
      ['free', false],
      ['free', false],
      ['free', false],
    ]);
    expect(of(declined.id).map((e) => e.showAs)).toEqual(['free', 'free', 'free']);
    expect(of(holiday.id).map((e) => ({ start: e.start, end: e.end, allDay: e.allDay, showAs: e.showAs }))).toEqual([
      { start: midnight(day(4), 'Europe/Berlin'), end: midnight(day(5), 'Europe/Berlin'), allDay: true, showAs: 'oof' },
      {
        start: midnight(day(11), 'Europe/Berlin'),
        end: midnight(day(12), 'Europe/Berlin'),
        allDay: true,
        showAs: 'oof',
      },
    ]);
    // One delta page and one read of each of the three masters.
    const s = await stats();
    expect(s.byOperation['events.get']?.total).toBe(3);
    expect(s.requests).toBe(4);
  });

  test('all-day events made in Outlook in "Eastern Standard Time" and "Tokyo Standard Time" cover their own local days', async () => {
    const { events, reader } = await mailbox('zones@contoso.test');
    const ny = await control('POST', events, {
      subject: 'conference',
      isAllDay: true,
      start: { dateTime: `${day(6)}T00:00:00`, timeZone: 'Eastern Standard Time' },
      end: { dateTime: `${day(7)}T00:00:00`, timeZone: 'Eastern Standard Time' },
    });
    const tokyo = await control('POST', events, {
      subject: 'trip',
      isAllDay: true,
      start: { dateTime: `${day(8)}T00:00:00`, timeZone: 'Tokyo Standard Time' },
      end: { dateTime: `${day(10)}T00:00:00`, timeZone: 'Tokyo Standard Time' },
    });
    const pass = await reader.read('calendar', undefined, window);
    const byId = new Map(pass.upserts.map((e) => [e.remoteId, e]));
    expect(byId.get(ny.id)).toMatchObject({
      start: midnight(day(6), 'America/New_York'),
      end: midnight(day(7), 'America/New_York'),
      allDay: true,
    });
    expect(byId.get(tokyo.id)).toMatchObject({
      start: midnight(day(8), 'Asia/Tokyo'),
      end: midnight(day(10), 'Asia/Tokyo'),
      allDay: true,
    });
    expect(pass.skipped ?? []).toEqual([]);
  });

  test('Windows zone names map through CLDR; an unknown zone is no zone (never UTC)', () => {
    expect(ianaZoneOf('Eastern Standard Time')).toBe('America/New_York');
    expect(ianaZoneOf('Tokyo Standard Time')).toBe('Asia/Tokyo');
    expect(ianaZoneOf('Romance Standard Time')).toBe('Europe/Paris');
    expect(ianaZoneOf('Europe/Madrid')).toBe('Europe/Madrid');
    expect(ianaZoneOf('tzone://Microsoft/Custom')).toBeUndefined();
    expect(ianaZoneOf(undefined)).toBeUndefined();
  });

  test('an occurrence deleted from a series goes from the import by itself; the rest of the series stays', async () => {
    const { user, events, reader } = await mailbox('deleted-occurrence@contoso.test');
    const series = await control('POST', events, {
      subject: 'gym',
      start: at(2, '18:00'),
      end: at(2, '19:00'),
      recurrence: weekly(2, 3),
    });
    const full = await reader.read('calendar', undefined, window);
    const ids = full.upserts.filter((e) => e.seriesId === series.id).map((e) => e.remoteId);
    expect(ids).toHaveLength(3);
    const res = await fetch(`${msEmu.url}/v1.0/me/events/${encodeURIComponent(ids[1]!)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(res.status).toBe(204);
    const next = await reader.read('calendar', full.cursor, window);
    // Stored rows of the series are replaced by what it shows now: the deleted one is not among them.
    expect(next.removedSeries).toEqual([series.id]);
    expect(next.upserts.map((e) => e.remoteId).sort()).toEqual([ids[0], ids[2]].sort());
  });
});
