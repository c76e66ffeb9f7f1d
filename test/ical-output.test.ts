import ICAL from 'ical.js';
import { DateTime, IANAZone } from 'luxon';
import { renderStaffFeed } from '../lib/staffFeed';
import type { DesiredAppointment } from '../lib/types';
import { transitions, vtimezone } from '../lib/vtimezone';
import { renderIcs, renderInvitation, type InvitationInput } from '../providers/email/invitation';

/**
 * calsync's iCalendar read back by an independent reader (ical.js, Thunderbird's): the occurrences
 * it expands must be the instants the API was given, whatever zones are involved, and every name
 * must come back as written.
 */

/** A VCALENDAR parsed with only its own VTIMEZONEs (never a zone table of the reader's). */
function parse(ics: string): ICAL.Component {
  const first = new ICAL.Component(ICAL.parse(ics));
  for (const tz of first.getAllSubcomponents('vtimezone')) {
    // A zone registered by an earlier test must not answer for this calendar's own block.
    ICAL.TimezoneService.remove(tz.getFirstPropertyValue('tzid') as string);
    ICAL.TimezoneService.register(tz);
  }
  return new ICAL.Component(ICAL.parse(ics));
}

/** Every occurrence a calendar app shows, as UTC instants [start, end, summary]. */
function occurrences(ics: string, uid?: string): Array<[string, string, string]> {
  const vevents = parse(ics)
    .getAllSubcomponents('vevent')
    .filter((v) => !uid || v.getFirstPropertyValue('uid') === uid);
  const master = new ICAL.Event(
    vevents.find((v) => !v.hasProperty('recurrence-id'))!,
    {
      exceptions: vevents.filter((v) => v.hasProperty('recurrence-id')).map((v) => new ICAL.Event(v)),
    },
  );
  const iso = (t: ICAL.Time) => t.toJSDate().toISOString();
  if (!master.isRecurring()) return [[iso(master.startDate), iso(master.endDate), master.summary]];
  const out: Array<[string, string, string]> = [];
  const it = master.iterator();
  for (let next = it.next(); next && out.length < 100; next = it.next()) {
    const d = master.getOccurrenceDetails(next);
    out.push([iso(d.startDate), iso(d.endDate), d.item.summary]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

const appointment = (extra: Partial<DesiredAppointment>): DesiredAppointment =>
  ({
    tenantId: 't',
    appointmentId: 'a',
    revision: 1,
    type: 'appointment',
    status: 'confirmed',
    services: [],
    staffIds: [],
    deleted: false,
    title: 'Haircut',
    ...extra,
  }) as DesiredAppointment;

const invitation = (desired: DesiredAppointment, extra: Partial<InvitationInput> = {}): InvitationInput => ({
  method: 'REQUEST',
  update: false,
  uid: 'u@calsync',
  sequence: 0,
  desired,
  timeZone: desired.locationTimeZone ?? desired.timeZone,
  businessName: 'Barber',
  organizerEmail: 'desk@barber.test',
  attendeeEmail: 'client@client.test',
  language: 'en',
  ...extra,
});

const madrid = (local: string) => DateTime.fromISO(local, { zone: 'Europe/Madrid' }).toUTC().toISO()!;

describe('a series whose location is in another zone (Madrid appointment, client in Auckland)', () => {
  // Tuesdays 15:00 in Madrid from 2030-03-12: Madrid goes to summer time on 31 March, Auckland
  // back to standard time on 7 April. 26 March is cancelled, 9 April moved to Wednesday 10 April 17:30.
  const desired = appointment({
    start: madrid('2030-03-12T15:00'),
    end: madrid('2030-03-12T16:00'),
    timeZone: 'Europe/Madrid',
    locationTimeZone: 'Pacific/Auckland',
    recurrence: {
      rule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=6',
      exceptions: [
        { originalDate: '2030-03-26', cancelled: true },
        {
          originalDate: '2030-04-09',
          start: madrid('2030-04-10T17:30'),
          end: madrid('2030-04-10T18:30'),
          title: 'Haircut (moved)',
        },
      ],
    },
  });

  test('the client calendar shows each occurrence at the instant the API was given', () => {
    const ics = renderIcs(invitation(desired));
    const summary = 'Haircut – Barber';
    expect(occurrences(ics)).toEqual([
      [madrid('2030-03-12T15:00'), madrid('2030-03-12T16:00'), summary],
      [madrid('2030-03-19T15:00'), madrid('2030-03-19T16:00'), summary],
      [madrid('2030-04-02T15:00'), madrid('2030-04-02T16:00'), summary],
      [madrid('2030-04-10T17:30'), madrid('2030-04-10T18:30'), 'Haircut (moved) – Barber'],
      [madrid('2030-04-16T15:00'), madrid('2030-04-16T16:00'), summary],
    ]);
    // DTSTART, EXDATE and RECURRENCE-ID all in the zone the rule is expanded in.
    const tzids = ics
      .split('\r\n')
      .flatMap((l) => /^(DTSTART|DTEND|EXDATE|RECURRENCE-ID);TZID=([^:;]+)/.exec(l)?.[2] ?? []);
    expect(new Set(tzids)).toEqual(new Set(['Europe/Madrid']));
  });

  test('the text shows the time at the location too', () => {
    const { text } = renderInvitation(invitation(desired));
    expect(text).toContain('(Pacific/Auckland)');
    expect(text).toContain('15:00–16:00 (Europe/Madrid)');
  });
});

describe('zones the runtime knows better than a bundled table', () => {
  test.each([
    ['Africa/Casablanca', '2030-06-04T10:00'],
    ['Africa/Casablanca', '2030-01-08T10:00'],
    ['Asia/Kathmandu', '2030-06-04T10:00'],
    ['Africa/El_Aaiun', '2031-09-02T09:30'],
  ])('%s %s: the invitation and the feed give the instant the API was given', (zone, local) => {
    const start = DateTime.fromISO(local, { zone }).toUTC().toISO()!;
    const end = DateTime.fromISO(local, { zone }).plus({ minutes: 45 }).toUTC().toISO()!;
    const desired = appointment({ start, end, timeZone: zone, locationTimeZone: zone });
    expect(occurrences(renderIcs(invitation(desired)))).toEqual([[start, end, 'Haircut – Barber']]);
    const feed = renderStaffFeed({
      name: 'Nina',
      appointments: [{ desired, sequence: 0 }],
      detail: 'title',
      tenantId: 't',
    });
    expect(occurrences(feed)).toEqual([[start, end, 'Haircut']]);
  });

  /** The instants of [from, to) at which ical.js, reading only the block, gives another offset than the runtime. */
  function wrongOffsets(
    zone: string,
    block: ReturnType<typeof vtimezone> & object,
    from: DateTime,
    to: DateTime,
    everyDays = 5,
  ) {
    const tz = new ICAL.Timezone(new ICAL.Component(block as unknown as unknown[]));
    // As a reader does with DTSTART;TZID: the offset ical.js gives a wall-clock time of the zone,
    // against the runtime's offset at that instant.
    const iana = IANAZone.create(zone);
    const offsetsAgree = (ms: number) => {
      const offset = iana.offset(ms);
      const local = new Date(ms + offset * 60_000);
      const time = new ICAL.Time(
        {
          year: local.getUTCFullYear(),
          month: local.getUTCMonth() + 1,
          day: local.getUTCDate(),
          hour: local.getUTCHours(),
          minute: local.getUTCMinutes(),
          second: 0,
        },
        tz,
      );
      return tz.utcOffset(time) === offset * 60;
    };
    // About noon every few days (not the generator's weekly step: a missed short change shows),
    // and three hours either side of every transition of the runtime's (clear of the skipped or
    // repeated time).
    const points: number[] = [];
    const noon = from.setZone(zone).set({ hour: 12 }).toMillis();
    for (let ms = noon; ms < to.toMillis(); ms += everyDays * 86_400_000) points.push(ms);
    for (const t of transitions(zone, from.toMillis(), to.toMillis()))
      points.push(t.at - 10_800_000, t.at + 10_800_000);
    return points.filter((ms) => !offsetsAgree(ms));
  }

  test('every IANA zone: the generated VTIMEZONE gives the runtime offsets over the next 5 years', () => {
    const from = DateTime.utc().startOf('year');
    const to = from.plus({ years: 5 });
    const wrong = Intl.supportedValuesOf('timeZone').filter(
      (zone) => wrongOffsets(zone, vtimezone(zone, from.year, to.year)!, from, to).length > 0,
    );
    expect(wrong).toEqual([]);
  });

  // A reader may keep one definition per TZID and use it for every resource that names the zone
  // (vobject: Radicale's): the block written for one event must hold for other years too.
  test("every zone with a yearly rule or a steady offset: one year's VTIMEZONE is right from its first year to 20 years ahead", () => {
    const year = DateTime.utc().year;
    const irregular: string[] = [];
    const wrong: string[] = [];
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      const block = vtimezone(zone, year, year)!;
      const rules = block[2].filter((o) => o[1].some((p) => p[0] === 'rrule'));
      const future = transitions(zone, Date.now(), DateTime.utc(year + 20).toMillis());
      if (rules.length === 0 && future.length > 0) {
        irregular.push(zone);
        continue;
      }
      // From the rule's first year, or for a steady zone from the year after its last change (the
      // block lists that year's change). Every 11 days: the weekdays vary, and the run stays short.
      const since = rules.length
        ? DateTime.fromISO(rules[0]![1][0]![3] as string, { zone: 'utc' }).startOf('year')
        : DateTime.fromISO(block[2].at(-1)![1][0]![3] as string, { zone: 'utc' })
            .plus({ years: 1 })
            .startOf('year');
      if (wrongOffsets(zone, block, since, DateTime.utc(year + 20), 11).length) wrong.push(zone);
    }
    expect(wrong).toEqual([]);
    // Only zones whose changes follow no weekday rule (Ramadan, Palestine's year-by-year dates, Egypt's Friday after the last Thursday of October) are
    // listed transition by transition.
    expect(irregular.sort()).toEqual([
      'Africa/Cairo',
      'Africa/Casablanca',
      'Africa/El_Aaiun',
      'Asia/Gaza',
      'Asia/Hebron',
    ]);
    // The rules reach back as far as they held: Madrid's since 1996, New York's since 2007.
    const first = (zone: string) =>
      vtimezone(zone, year, year)![2].find((o) => o[1][1]?.[0] === 'rrule')![1][0]![3] as string;
    expect([first('Europe/Madrid'), first('America/New_York')]).toEqual(['1996-03-31T02:00:00', '2007-03-11T02:00:00']);
  });
});

describe('names and texts with every awkward character', () => {
  const awkward = 'Zoë "Z" O\'Brien; Smith, Jr. \\ ^ : line\nbreak\ttab';

  test('the feed name comes back as written; nothing is injected', () => {
    const desired = appointment({
      start: madrid('2030-03-12T15:00'),
      end: madrid('2030-03-12T16:00'),
      timeZone: 'Europe/Madrid',
    });
    const name = `${awkward}\nEND:VCALENDAR\nBEGIN:VEVENT`;
    const feed = renderStaffFeed({ name, appointments: [{ desired, sequence: 0 }], detail: 'title', tenantId: 't' });
    const calendar = parse(feed);
    expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe(name);
    expect(calendar.getFirstPropertyValue('name')).toBe(name);
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(1);
    expect(feed.split('\r\n').filter((l) => l === 'END:VCALENDAR')).toHaveLength(1);
  });

  test('CN parameters are RFC 6868 quoted: the names come back as written', () => {
    const desired = appointment({
      start: madrid('2030-03-12T15:00'),
      end: madrid('2030-03-12T16:00'),
      timeZone: 'Europe/Madrid',
      clientName: awkward,
      title: `${awkward}\u0007`,
    });
    const ics = renderIcs(invitation(desired, { businessName: awkward }));
    const event = parse(ics).getFirstSubcomponent('vevent')!;
    // Tab survives; the line break of a parameter is ^n (RFC 6868).
    expect(event.getFirstProperty('organizer')!.getParameter('cn')).toBe(awkward);
    expect(event.getFirstProperty('attendee')!.getParameter('cn')).toBe(awkward);
    expect(ics).toContain(`CN="Zoë ^'Z^' O'Brien; Smith, Jr. \\ ^^ : line^nbreak\ttab"`);
    // Text values: escaped, control characters (other than tab) gone.
    expect(event.getFirstPropertyValue('summary')).toBe(`${awkward} – ${awkward}`);
    const { subject, text } = renderInvitation(invitation(desired));
    expect(subject).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  test('SEQUENCE must be a 32-bit INTEGER', () => {
    const desired = appointment({
      start: madrid('2030-03-12T15:00'),
      end: madrid('2030-03-12T16:00'),
      timeZone: 'Europe/Madrid',
    });
    expect(() => renderIcs(invitation(desired, { sequence: 1796526000000 }))).toThrow(/32-bit/);
  });
});
