import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { waitUntil } from './helpers/api';
import { useAppStackWithSmtp, type TestSmtpServer } from './helpers/smtp';
import { TenantWorld } from './helpers/world';

const ZONE = 'Europe/Madrid';
let smtp: TestSmtpServer;

/**
 * The occurrences a calendar client would show for a received invitation: ical.js expands the
 * series (RRULE, EXDATE) and puts each RECURRENCE-ID event in its occurrence's place.
 */
function occurrencesOf(ics: string): Array<[start: string, summary: string]> {
  return expandedOccurrences(ics).map(([start, summary]) => [
    DateTime.fromJSDate(start.toJSDate()).setZone(ZONE).toFormat("yyyy-MM-dd'T'HH:mm"),
    summary,
  ]);
}

/** The same for an all-day series: each occurrence's date, as the client's calendar shows it. */
function allDayOccurrencesOf(ics: string): Array<[date: string, summary: string]> {
  return expandedOccurrences(ics).map(([start, summary]) => {
    if (!start.isDate) throw new Error(`an all-day occurrence with a time: ${start.toString()}`);
    return [start.toString(), summary];
  });
}

function expandedOccurrences(ics: string): Array<[start: ICAL.Time, summary: string]> {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  for (const tz of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  const reparsed = new ICAL.Component(ICAL.parse(ics));
  const vevents = reparsed.getAllSubcomponents('vevent');
  const master = new ICAL.Event(
    vevents.find((v) => !v.hasProperty('recurrence-id'))!,
    { exceptions: vevents.filter((v) => v.hasProperty('recurrence-id')).map((v) => new ICAL.Event(v)) },
  );
  const out: Array<[ICAL.Time, string]> = [];
  const it = master.iterator();
  for (let next = it.next(); next && out.length < 20; next = it.next()) {
    const details = master.getOccurrenceDetails(next);
    out.push([details.startDate, details.item.summary]);
  }
  return out;
}

/** API → appointmentSync → sendClientInvitation → a real SMTP server: the client's invitation of a series. */
describe('client invitations of a recurring appointment', () => {
  const mail = useAppStackWithSmtp('Calsync <invitations@calsync.test>');
  const stack = mail.stack;
  beforeAll(() => {
    smtp = mail.server();
  });

  test('the invitation carries the rule, the cancelled occurrence and the moved one', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      clientInvitations: { enabled: true },
      businessName: 'Barber',
      organizerEmail: 'desk@barber.test',
    });
    await world.staffWithGoogle('sam');
    const client = 'ana.series@client.test';
    const first = DateTime.now()
      .setZone(ZONE)
      .plus({ days: 7 })
      .set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    const day = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'][first.weekday];
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const moved = first.plus({ weeks: 1, days: 1 }).set({ hour: 16 });
    const put = await world.call('PUT', '/v1/appointments/s-1', {
      revision: 1,
      start: fmt(first),
      end: fmt(first.plus({ hours: 1 })),
      timeZone: ZONE,
      locationTimeZone: ZONE,
      clientEmail: client,
      title: 'Haircut',
      staffIds: ['sam'],
      recurrence: {
        rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=4`,
        exceptions: [
          {
            originalStart: first.plus({ weeks: 1 }).toISODate(),
            start: fmt(moved),
            end: fmt(moved.plus({ hours: 1 })),
            title: 'Haircut (moved)',
          },
          { originalStart: first.plus({ weeks: 2 }).toISODate(), cancelled: true },
        ],
      },
    });
    expect(put.status).toBe(202);
    await world.waitSynced('s-1', 1);
    const [mail] = await waitUntil('the invitation', async () =>
      smtp.to(client).length ? smtp.to(client) : undefined,
    );
    const ics = mail!.parsed.attachments.find((a) => a.contentType === 'text/calendar')!.content.toString('utf8');
    expect(occurrencesOf(ics)).toEqual([
      [fmt(first), 'Haircut – Barber'],
      [fmt(moved), 'Haircut (moved) – Barber'],
      [fmt(first.plus({ weeks: 3 })), 'Haircut – Barber'],
    ]);
  });

  test('a Madrid series for a client in Auckland: every occurrence at the instant the API was given, across both DST changes', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      clientInvitations: { enabled: true },
      businessName: 'Barber',
      organizerEmail: 'desk@barber.test',
    });
    await world.staffWithGoogle('sam');
    const client = 'kiri.series@client.test';
    // Tuesdays 15:00 in Madrid from three weeks before Madrid's spring change (last Sunday of
    // March); Auckland leaves summer time the Sunday after. Week 2 cancelled, week 4 moved to Wednesday 17:30.
    const year = DateTime.now().year + 1;
    const lastSunday = DateTime.fromObject({ year, month: 3, day: 31 }, { zone: ZONE });
    const changeDay = lastSunday.minus({ days: lastSunday.weekday % 7 });
    const first = changeDay.minus({ days: 19 }).set({ hour: 15 });
    expect(first.weekday).toBe(2);
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const moved = first.plus({ weeks: 3, days: 1 }).set({ hour: 17, minute: 30 });
    const put = await world.call('PUT', '/v1/appointments/s-tz', {
      revision: 1,
      start: fmt(first),
      end: fmt(first.plus({ hours: 1 })),
      timeZone: ZONE,
      locationTimeZone: 'Pacific/Auckland',
      clientEmail: client,
      title: 'Haircut',
      staffIds: ['sam'],
      recurrence: {
        rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=6',
        exceptions: [
          { originalStart: first.plus({ weeks: 1 }).toISODate(), cancelled: true },
          {
            originalStart: first.plus({ weeks: 3 }).toISODate(),
            start: fmt(moved),
            end: fmt(moved.plus({ hours: 1 })),
            title: 'Haircut (moved)',
          },
        ],
      },
    });
    expect(put.status).toBe(202);
    await world.waitSynced('s-tz', 1);
    const [mail] = await waitUntil('the invitation', async () =>
      smtp.to(client).length ? smtp.to(client) : undefined,
    );
    const ics = mail!.parsed.attachments.find((a) => a.contentType === 'text/calendar')!.content.toString('utf8');
    const instant = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true });
    expect(
      expandedOccurrences(ics).map(([start, summary]) => [instant(DateTime.fromJSDate(start.toJSDate())), summary]),
    ).toEqual([
      [instant(first), 'Haircut – Barber'],
      [instant(first.plus({ weeks: 2 })), 'Haircut – Barber'],
      [instant(moved), 'Haircut (moved) – Barber'],
      [instant(first.plus({ weeks: 4 })), 'Haircut – Barber'],
      [instant(first.plus({ weeks: 5 })), 'Haircut – Barber'],
    ]);
    // The text shows the client's own zone beside the appointment's.
    expect(mail!.parsed.text).toContain('(Pacific/Auckland)');
    expect(mail!.parsed.text).toContain('15:00–16:00 (Europe/Madrid)');
  });

  test('an all-day series is dates: DTSTART, EXDATE and RECURRENCE-ID', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      clientInvitations: { enabled: true },
      businessName: 'Spa',
      organizerEmail: 'desk@spa.test',
    });
    await world.staffWithGoogle('sam');
    const client = 'ana.allday@client.test';
    const first = DateTime.now().setZone(ZONE).plus({ days: 7 }).startOf('day');
    const day = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'][first.weekday];
    const date = (d: DateTime) => d.toISODate()!;
    const moved = first.plus({ weeks: 1, days: 2 });
    // The location's zone is far from the appointment's: all-day dates must not move with it.
    const put = await world.call('PUT', '/v1/appointments/s-2', {
      revision: 1,
      allDay: true,
      start: date(first),
      end: date(first.plus({ days: 1 })),
      timeZone: ZONE,
      locationTimeZone: 'America/Los_Angeles',
      clientEmail: client,
      title: 'Spa day',
      staffIds: ['sam'],
      recurrence: {
        rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=4`,
        exceptions: [
          { originalStart: date(first.plus({ weeks: 1 })), start: date(moved), title: 'Spa day (moved)' },
          { originalStart: date(first.plus({ weeks: 2 })), cancelled: true },
        ],
      },
    });
    expect(put.status).toBe(202);
    await world.waitSynced('s-2', 1);
    const [mail] = await waitUntil('the invitation', async () =>
      smtp.to(client).length ? smtp.to(client) : undefined,
    );
    const ics = mail!.parsed.attachments
      .find((a) => a.contentType === 'text/calendar')!
      .content.toString('utf8')
      .replace(/\r\n /g, '');
    expect(ics).toContain(`EXDATE;VALUE=DATE:${first.plus({ weeks: 2 }).toFormat('yyyyMMdd')}`);
    expect(ics).toContain(`RECURRENCE-ID;VALUE=DATE:${first.plus({ weeks: 1 }).toFormat('yyyyMMdd')}`);
    expect(allDayOccurrencesOf(ics)).toEqual([
      [date(first), 'Spa day – Spa'],
      [date(moved), 'Spa day (moved) – Spa'],
      [date(first.plus({ weeks: 3 })), 'Spa day – Spa'],
    ]);
    expect(mail!.parsed.subject).toContain(`${first.setLocale('en').toLocaleString(DateTime.DATE_HUGE)}, all day`);
  });
});
