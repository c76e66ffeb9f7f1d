import { DateTime } from 'luxon';
import { computeSlots, type SlotOptions, type StaffSlotInput, type WorkingHours } from '../lib/slots';

/** The slot module: pure interval arithmetic, times in milliseconds. */
const ms = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toMillis();
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const nineToFive = (timeZone: string): WorkingHours => ({
  timeZone,
  weekly: Object.fromEntries(
    (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((d) => [d, [{ start: '09:00', end: '17:00' }]]),
  ),
});

const day = '2030-06-04'; // a Tuesday
const base: SlotOptions = {
  from: ms(`${day}T09:00:00Z`),
  to: ms(`${day}T12:00:00Z`),
  now: ms('2030-06-01T00:00:00Z'),
  timeZone: 'UTC',
  durationMinutes: 60,
  slotIntervalMinutes: 60,
  mode: 'any',
  maxSlots: 1000,
};
const person = (staffId: string, busy: StaffSlotInput['busy'] = [], extra: Partial<StaffSlotInput> = {}) => ({
  staffId,
  busy,
  ...extra,
});
const starts = (staff: StaffSlotInput[], opts: Partial<SlotOptions> = {}) =>
  computeSlots(staff, { ...base, ...opts }).slots.map((s) => iso(s.start));
const busy = (start: string, end: string, extra: { showAs?: string; allDay?: boolean } = {}) => ({
  start: ms(start),
  end: ms(end),
  ...extra,
});

describe('slots', () => {
  test('busy time takes out the slots it overlaps, and only those', () => {
    const slots = computeSlots([person('a', [busy(`${day}T10:00:00Z`, `${day}T10:30:00Z`)])], base).slots;
    expect(slots.map((s) => [iso(s.start), iso(s.end), s.staffIds])).toEqual([
      [`${day}T09:00:00Z`, `${day}T10:00:00Z`, ['a']],
      [`${day}T11:00:00Z`, `${day}T12:00:00Z`, ['a']],
    ]);
  });

  test('buffers keep room before and after busy time', () => {
    const staff = [person('a', [busy(`${day}T10:00:00Z`, `${day}T10:30:00Z`)])];
    const opts = { slotIntervalMinutes: 15, durationMinutes: 30 };
    expect(starts(staff, opts)).toContain(`${day}T10:30:00Z`);
    expect(starts(staff, opts)).toContain(`${day}T09:30:00Z`);
    // 15 minutes after busy time: the first start is 10:45; 15 minutes before: the last one ending before it is 09:15.
    const buffered = starts(staff, { ...opts, bufferBeforeMinutes: 15, bufferAfterMinutes: 15 });
    expect(buffered).not.toContain(`${day}T10:30:00Z`);
    expect(buffered).not.toContain(`${day}T09:30:00Z`);
    expect(buffered).toContain(`${day}T10:45:00Z`);
    expect(buffered).toContain(`${day}T09:15:00Z`);
    // A buffer only guards against busy time: the window's own edges are not pushed in.
    expect(buffered[0]).toBe(`${day}T09:00:00Z`);
  });

  test('slot starts follow slotIntervalMinutes from local midnight in the zone asked', () => {
    expect(starts([person('a')], { slotIntervalMinutes: 15, durationMinutes: 60 })).toHaveLength(9);
    expect(starts([person('a')], { slotIntervalMinutes: 45, durationMinutes: 30 })).toEqual([
      `${day}T09:00:00Z`,
      `${day}T09:45:00Z`,
      `${day}T10:30:00Z`,
      `${day}T11:15:00Z`,
    ]);
    // Kolkata is UTC+05:30: hourly starts fall on its whole hours, i.e. at half past in UTC.
    expect(starts([person('a')], { timeZone: 'Asia/Kolkata' })).toEqual([`${day}T09:30:00Z`, `${day}T10:30:00Z`]);
  });

  test('minimum notice counts from now', () => {
    const now = ms(`${day}T08:50:00Z`);
    expect(starts([person('a')], { now })).toEqual([`${day}T09:00:00Z`, `${day}T10:00:00Z`, `${day}T11:00:00Z`]);
    expect(starts([person('a')], { now, minimumNoticeMinutes: 60 })).toEqual([`${day}T10:00:00Z`, `${day}T11:00:00Z`]);
    expect(starts([person('a')], { now: ms(`${day}T10:01:00Z`), slotIntervalMinutes: 15 })).toEqual([
      `${day}T10:15:00Z`,
      `${day}T10:30:00Z`,
      `${day}T10:45:00Z`,
      `${day}T11:00:00Z`,
    ]);
  });

  test.each([
    // Madrid moves from +01:00 to +02:00 on 28 March 2027; New York from -05:00 to -04:00 on 14 March 2027.
    ['Europe/Madrid', '2027-03-26', '2027-03-29', ['2027-03-26T08:00:00Z', '2027-03-29T07:00:00Z']],
    ['America/New_York', '2027-03-12', '2027-03-15', ['2027-03-12T14:00:00Z', '2027-03-15T13:00:00Z']],
  ])('working hours in %s stay 09:00–17:00 local across its DST change', (zone, friday, monday, firstStarts) => {
    const hours: WorkingHours = {
      timeZone: zone,
      weekly: { mon: [{ start: '09:00', end: '17:00' }], fri: [{ start: '09:00', end: '17:00' }] },
    };
    const slots = computeSlots([person('a', [], { workingHours: hours })], {
      ...base,
      from: ms(`${friday}T00:00:00Z`),
      to: ms(`${monday}T23:59:00Z`),
      now: ms('2027-01-01T00:00:00Z'),
      timeZone: zone,
    }).slots;
    const local = slots.map((s) => DateTime.fromMillis(s.start, { zone }).toFormat('ccc HH:mm'));
    expect(local).toEqual(
      [...['09', '10', '11', '12', '13', '14', '15', '16'].map((h) => `Fri ${h}:00`)].concat(
        ['09', '10', '11', '12', '13', '14', '15', '16'].map((h) => `Mon ${h}:00`),
      ),
    );
    expect([iso(slots[0]!.start), iso(slots[8]!.start)]).toEqual(firstStarts);
  });

  test('on the DST day itself, hours that span the change are an hour shorter or longer', () => {
    const spans = (zone: string, date: string, start: string, end: string) => {
      const hours: WorkingHours = { timeZone: zone, weekly: {}, overrides: [{ date, hours: [{ start, end }] }] };
      return computeSlots([person('a', [], { workingHours: hours })], {
        ...base,
        from: ms(`${date}T00:00:00Z`) - 86400000,
        to: ms(`${date}T00:00:00Z`) + 2 * 86400000,
        now: 0,
        timeZone: 'UTC',
        slotIntervalMinutes: 60,
      }).slots.map((s) => iso(s.start));
    };
    // Madrid springs forward at 02:00 on 28 March 2027: 01:00–04:00 local is two hours, 00:00Z–02:00Z.
    expect(spans('Europe/Madrid', '2027-03-28', '01:00', '04:00')).toEqual([
      '2027-03-28T00:00:00Z',
      '2027-03-28T01:00:00Z',
    ]);
    expect(spans('Europe/Madrid', '2027-03-28', '09:00', '10:00')).toEqual(['2027-03-28T07:00:00Z']);
    // New York falls back at 02:00 on 7 November 2027: 00:00–03:00 local is four hours, 04:00Z–08:00Z.
    expect(spans('America/New_York', '2027-11-07', '00:00', '03:00')).toEqual([
      '2027-11-07T04:00:00Z',
      '2027-11-07T05:00:00Z',
      '2027-11-07T06:00:00Z',
      '2027-11-07T07:00:00Z',
    ]);
    expect(spans('America/New_York', '2027-11-07', '22:00', '24:00')).toEqual([
      '2027-11-08T03:00:00Z',
      '2027-11-08T04:00:00Z',
    ]);
  });

  test('a day with its own hours, and a day off, replace the weekly hours', () => {
    const hours: WorkingHours = {
      ...nineToFive('Europe/Madrid'),
      overrides: [{ date: '2030-06-04', hours: [{ start: '13:00', end: '15:00' }] }],
      daysOff: ['2030-06-05'],
    };
    const opts = { from: ms('2030-06-04T00:00:00Z'), to: ms('2030-06-07T00:00:00Z'), timeZone: 'Europe/Madrid' };
    const local = computeSlots([person('a', [], { workingHours: hours })], { ...base, ...opts }).slots.map((s) =>
      DateTime.fromMillis(s.start, { zone: 'Europe/Madrid' }).toFormat('MM-dd HH:mm'),
    );
    expect(local.filter((l) => l.startsWith('06-04'))).toEqual(['06-04 13:00', '06-04 14:00']);
    expect(local.filter((l) => l.startsWith('06-05'))).toEqual([]);
    expect(local.filter((l) => l.startsWith('06-06'))).toHaveLength(8);
    // An override with no hours is a day off too.
    const off = { ...hours, overrides: [{ date: '2030-06-06', hours: [] }] };
    expect(
      computeSlots([person('a', [], { workingHours: off })], { ...base, ...opts }).slots.filter((s) =>
        iso(s.start).startsWith('2030-06-06'),
      ),
    ).toEqual([]);
  });

  test('any lists who is free; all only offers times when everyone is', () => {
    const staff = [
      person('a', [busy(`${day}T09:00:00Z`, `${day}T10:00:00Z`)]),
      person('b', [busy(`${day}T11:00:00Z`, `${day}T12:00:00Z`)]),
    ];
    expect(computeSlots(staff, base).slots.map((s) => [iso(s.start), s.staffIds])).toEqual([
      [`${day}T09:00:00Z`, ['b']],
      [`${day}T10:00:00Z`, ['a', 'b']],
      [`${day}T11:00:00Z`, ['a']],
    ]);
    expect(computeSlots(staff, { ...base, mode: 'all' }).slots.map((s) => [iso(s.start), s.staffIds])).toEqual([
      [`${day}T10:00:00Z`, ['a', 'b']],
    ]);
  });

  test('balanced names the least-booked person who is free; maxSlots caps the answer', () => {
    const staff = [
      person('a', [], { booked: 3 }),
      person('b', [busy(`${day}T10:00:00Z`, `${day}T11:00:00Z`)], { booked: 1 }),
    ];
    expect(computeSlots(staff, { ...base, pick: 'balanced' }).slots.map((s) => s.staffIds)).toEqual([
      ['b'],
      ['a'],
      ['b'],
    ]);
    expect(computeSlots(staff, { ...base, maxSlots: 2 })).toEqual({
      slots: [
        expect.objectContaining({ start: ms(`${day}T09:00:00Z`) }),
        expect.objectContaining({ start: ms(`${day}T10:00:00Z`) }),
      ],
      truncated: true,
    });
    expect(computeSlots(staff, { ...base, maxSlots: 3 }).truncated).toBe(false);
  });

  test('an all-day busy event blocks the whole day; an all-day free one blocks nothing', () => {
    const allDay = busy(`${day}T00:00:00Z`, '2030-06-05T00:00:00Z', { showAs: 'busy', allDay: true });
    expect(starts([person('a', [allDay])])).toEqual([]);
    expect(starts([person('a', [{ ...allDay, showAs: 'free' }])])).toHaveLength(3);
  });

  test('tentative time blocks by default, and not when the tenant says so', () => {
    const staff = [person('a', [busy(`${day}T10:00:00Z`, `${day}T11:00:00Z`, { showAs: 'tentative' })])];
    expect(starts(staff)).toEqual([`${day}T09:00:00Z`, `${day}T11:00:00Z`]);
    expect(starts(staff, { tentativeBlocks: false })).toHaveLength(3);
  });

  test('no staff, or a window shorter than the duration, gives no slots', () => {
    expect(computeSlots([], base)).toEqual({ slots: [], truncated: false });
    expect(starts([person('a')], { durationMinutes: 240 })).toEqual([]);
  });
});
