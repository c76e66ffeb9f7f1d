import { Router } from 'express';
import type { Knex } from 'knex';
import { DateTime, Info } from 'luxon';
import { mergeIntervals, type BusyInterval } from '../../lib/busy';
import { occurrenceSpans } from '../../lib/recurrence';
import type { AppointmentRecurrence } from '../../lib/types';
import { computeSlots, type BusySpan, type WorkingHours } from '../../lib/slots';
import {
  MAX_AVAILABILITY_STAFF,
  availabilityBodySchema,
  availabilityCheckSchema,
  busyQuerySchema,
  idSchema,
} from '../schemas';
import { HttpError, param, parse } from '../validation';
import { notEndedBy } from '../../lib/seriesQuery';

/**
 * Busy time a booking engine asks before offering a slot. Answers from PostgreSQL only, never from
 * a provider: calsync's own appointments and the busy time imported from staff calendars.
 */
async function busyIntervals(
  db: Knex,
  tenantId: string,
  staffId: string,
  from: Date,
  to: Date,
  excludeAppointmentId?: string,
): Promise<BusyInterval[]> {
  return (await busyByStaff(db, tenantId, [staffId], from, to, excludeAppointmentId)).get(staffId)!;
}

/** The same for several staff members at once (two queries in all), each person's list sorted by start. */
async function busyByStaff(
  db: Knex,
  tenantId: string,
  staffIds: string[],
  from: Date,
  to: Date,
  excludeAppointmentId?: string,
): Promise<Map<string, BusyInterval[]>> {
  const byStaff = await appointmentsByStaff(db, tenantId, staffIds, from, to, excludeAppointmentId);
  for (const i of await importedIntervals(db, tenantId, staffIds, from, to)) byStaff.get(i.staffId)!.push(i);
  for (const list of byStaff.values()) list.sort((a, b) => a.start.getTime() - b.start.getTime());
  return byStaff;
}

/** calsync's own appointments (series occurrences included) of each staff member in the window. */
async function appointmentsByStaff(
  db: Knex,
  tenantId: string,
  staffIds: string[],
  from: Date,
  to: Date,
  excludeAppointmentId?: string,
): Promise<Map<string, BusyInterval[]>> {
  const byStaff = new Map<string, BusyInterval[]>(staffIds.map((id) => [id, []]));
  const rows = await db('appointments')
    .where({ tenant_id: tenantId })
    .whereRaw('staff_ids && ?::text[]', [staffIds])
    .whereNull('deleted_at')
    .whereNot('status', 'cancelled')
    .where('start_at', '<', to)
    // A series reaches past its first occurrence: its occurrences in the window are counted below.
    .where(notEndedBy(from))
    .modify((q) => {
      if (excludeAppointmentId) q.whereNot('id', excludeAppointmentId);
    })
    .orderBy('start_at')
    .select(
      'id',
      'start_at',
      'end_at',
      'staff_ids',
      db.raw(`desired->'recurrence' as recurrence`),
      db.raw(`desired->>'timeZone' as time_zone`),
      db.raw(`coalesce((desired->>'allDay')::boolean, false) as all_day`),
    );
  for (const r of rows as (AppointmentRow & { staff_ids: string[] })[]) {
    const intervals = appointmentIntervals(r, from, to);
    for (const staffId of r.staff_ids) byStaff.get(staffId)?.push(...intervals);
  }
  return byStaff;
}

interface AppointmentRow {
  id: string;
  start_at: Date;
  end_at: Date;
  recurrence: AppointmentRecurrence | null;
  time_zone: string;
  all_day: boolean;
}

/** An appointment's busy time in the window: itself, or a series' occurrences there (exceptions applied). */
function appointmentIntervals(r: AppointmentRow, from: Date, to: Date): BusyInterval[] {
  const of = (start: Date, end: Date): BusyInterval => ({ start, end, source: 'appointment', appointmentId: r.id });
  if (!r.recurrence) return [of(r.start_at, r.end_at)];
  // An all-day series' occurrences are whole local days, 23 or 25 hours long across a DST change.
  const series = {
    start: r.start_at.toISOString(),
    end: r.end_at.toISOString(),
    timeZone: r.time_zone,
    allDay: r.all_day,
    recurrence: r.recurrence,
  };
  return occurrenceSpans(series, from.getTime(), to.getTime()).map((o) => of(new Date(o.startMs), new Date(o.endMs)));
}

/** The imported busy time that counts, for the staff members in the window (select to add). */
function countedImports(db: Knex, tenantId: string, staffIds: string[], from: Date, to: Date): Knex.QueryBuilder {
  return (
    db('imported_busy as b')
      .join('calendar_links as l', 'l.id', 'b.link_id')
      .where({ 'b.tenant_id': tenantId })
      .whereIn('b.staff_id', staffIds)
      .where('b.start_at', '<', to)
      .where('b.end_at', '>', from)
      .whereNot('b.show_as', 'free')
      .whereIn('l.status', ['active', 'needs_reauth'])
      // An occurrence of calsync's own series carries the series' id. Two lookups rather than one with
      // `or`: each is an index probe, where `or` made PostgreSQL scan the tenant's targets per event.
      .whereNotExists(
        db('appointment_targets as t')
          .whereRaw('t.tenant_id = b.tenant_id and t.remote_id = b.remote_id')
          .select(db.raw('1')),
      )
      .whereNotExists(
        db('appointment_targets as t')
          .whereRaw('t.tenant_id = b.tenant_id and t.remote_id = b.series_id')
          .select(db.raw('1')),
      )
  );
}

/**
 * Busy time imported from the staff member's calendars: free events never block, links being
 * disconnected no longer count, and an event that is calsync's own (its remote id is one of
 * calsync's targets) is never counted twice, even if the import saw it before calsync stored its id.
 */
async function importedIntervals(
  db: Knex,
  tenantId: string,
  staffIds: string[],
  from: Date,
  to: Date,
): Promise<(BusyInterval & { staffId: string })[]> {
  const rows = await countedImports(db, tenantId, staffIds, from, to)
    // Instants as epoch milliseconds: parsing thousands of timestamp strings into Dates costs more than the query.
    .select(
      'b.staff_id',
      db.raw(`round(date_part('epoch', b.start_at) * 1000) as start_ms`),
      db.raw(`round(date_part('epoch', b.end_at) * 1000) as end_ms`),
      'b.show_as',
      'b.all_day',
      'b.title',
      'l.provider',
    );
  return rows.map(
    (r: {
      staff_id: string;
      start_ms: number;
      end_ms: number;
      show_as: string;
      all_day: boolean;
      title: string | null;
      provider: string;
    }) => ({
      staffId: r.staff_id,
      start: new Date(r.start_ms),
      end: new Date(r.end_ms),
      source: 'imported' as const,
      provider: r.provider,
      showAs: r.show_as,
      allDay: r.all_day,
      ...(r.title ? { title: r.title } : {}),
    }),
  );
}

/**
 * The same busy time as instants only, for availability: per staff member and `showAs`, two arrays
 * of epoch milliseconds, so thousands of events come back as a few rows.
 */
async function importedSpans(
  db: Knex,
  tenantId: string,
  staffIds: string[],
  from: Date,
  to: Date,
): Promise<Map<string, BusySpan[]>> {
  const rows = await countedImports(db, tenantId, staffIds, from, to)
    .groupBy('b.staff_id', 'b.show_as')
    .select(
      'b.staff_id',
      'b.show_as',
      db.raw(`array_agg(round(date_part('epoch', b.start_at) * 1000)) as starts`),
      db.raw(`array_agg(round(date_part('epoch', b.end_at) * 1000)) as ends`),
    );
  const byStaff = new Map<string, BusySpan[]>(staffIds.map((id) => [id, []]));
  for (const r of rows as { staff_id: string; show_as: string; starts: number[]; ends: number[] }[]) {
    const list = byStaff.get(r.staff_id)!;
    for (let i = 0; i < r.starts.length; i++) list.push({ start: r.starts[i]!, end: r.ends[i]!, showAs: r.show_as });
  }
  return byStaff;
}

/** One interval as answered: times in the caller's zone, the source and what is known about it. */
function describeInterval(i: BusyInterval, zone: string) {
  return {
    start: inZone(i.start, zone),
    end: inZone(i.end, zone),
    source: i.source,
    ...(i.appointmentId !== undefined ? { appointmentId: i.appointmentId } : {}),
    ...(i.provider !== undefined ? { provider: i.provider, showAs: i.showAs, allDay: i.allDay } : {}),
    ...(i.title !== undefined ? { title: i.title } : {}),
  };
}

/**
 * An instant as ISO 8601 in `zone`, exactly as luxon's toISO({ suppressMilliseconds }) writes it, at
 * a fraction of its cost: a month of busy time is hundreds of intervals per answer.
 */
const offsetCache = new Map<string, Map<number, number>>();
// Bounded over all zones together (a few MB at most): cleared when full.
const OFFSET_CACHE_LIMIT = 100_000;
let offsetCacheSize = 0;

/** The zone's UTC offset in minutes at `ms`; zone offsets change on whole minutes, so per minute is exact. */
function offsetAt(zone: string, z: ReturnType<typeof Info.normalizeZone>, ms: number): number {
  let byMinute = offsetCache.get(zone);
  if (!byMinute) offsetCache.set(zone, (byMinute = new Map()));
  const minute = Math.floor(ms / 60_000);
  let offset = byMinute.get(minute);
  if (offset === undefined) {
    if (offsetCacheSize >= OFFSET_CACHE_LIMIT) {
      for (const m of offsetCache.values()) m.clear();
      offsetCacheSize = 0;
    }
    byMinute.set(minute, (offset = z.offset(minute * 60_000)));
    offsetCacheSize += 1;
  }
  return offset;
}

function inZone(d: Date, zone: string): string {
  const z = Info.normalizeZone(zone);
  const ms = d.getTime();
  const offset = z.isValid ? offsetAt(zone, z, ms) : NaN;
  if (!z.isValid || !Number.isFinite(offset))
    return DateTime.fromJSDate(d).setZone(zone).toISO({ suppressMilliseconds: true })!;
  const local = new Date(ms + offset * 60_000).toISOString();
  const wall = local.endsWith('.000Z') ? local.slice(0, -5) : local.slice(0, -1);
  if (z.isUniversal && offset === 0) return `${wall}Z`;
  const abs = Math.abs(offset);
  return `${wall}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function availabilityRoutes(db: Knex): Router {
  const router = Router();

  async function assertStaff(tenantId: string, staffId: string) {
    if (!(await db('staff').where({ tenant_id: tenantId, id: staffId }).first('id')))
      throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
  }

  router.get('/v1/staff/:id/busy', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const q = parse(busyQuerySchema, req.query, 'query');
    await assertStaff(req.tenantId!, staffId);
    const intervals = await busyIntervals(db, req.tenantId!, staffId, q.from, q.to);
    const merged = mergeIntervals(intervals);
    res.json({
      staffId,
      timeZone: q.timeZone,
      from: inZone(q.from, q.timeZone),
      to: inZone(q.to, q.timeZone),
      busy: merged.map((i) => ({ start: inZone(i.start, q.timeZone), end: inZone(i.end, q.timeZone) })),
      // Before merging, each with its source: calsync's appointments and imported busy time.
      intervals: intervals.map((i) => describeInterval(i, q.timeZone)),
    });
  });

  router.post('/v1/staff/:id/availability/check', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const b = parse(availabilityCheckSchema, req.body);
    await assertStaff(req.tenantId!, staffId);
    const conflicts = await busyIntervals(db, req.tenantId!, staffId, b.start, b.end, b.excludeAppointmentId);
    res.json({
      free: conflicts.length === 0,
      conflicts: conflicts.map((c) => describeInterval(c, b.timeZone)),
    });
  });

  router.post('/v1/availability', async (req, res) => {
    const b = parse(availabilityBodySchema, req.body);
    const tenantId = req.tenantId!;
    const staffIds = b.staffIds ?? (await teamMembers(tenantId, b.calendarId!));
    const known = new Map<string, WorkingHours | null>(
      (await db('staff').where({ tenant_id: tenantId }).whereIn('id', staffIds).select('id', 'working_hours')).map(
        (r: { id: string; working_hours: WorkingHours | null }) => [r.id, r.working_hours],
      ),
    );
    const unknown = staffIds.findIndex((id) => !known.has(id));
    if (unknown >= 0) {
      const field = b.staffIds ? `staffIds[${unknown}]` : 'calendarId';
      throw new HttpError(400, 'invalid_request', `${field}: unknown staff member "${staffIds[unknown]}"`, {
        issues: [{ field, message: 'unknown staff member' }],
      });
    }
    const stray = Object.keys(b.workingHours ?? {}).find((id) => !known.has(id) || !staffIds.includes(id));
    if (stray !== undefined)
      throw new HttpError(400, 'invalid_request', `workingHours.${stray}: not one of the staff asked for`, {
        issues: [{ field: `workingHours.${stray}`, message: 'not one of the staff asked for' }],
      });

    // Busy time just outside the window still matters to the buffers of slots at its edges.
    const reach = (m: number) => m * 60_000;
    const busyFrom = new Date(b.from.getTime() - reach(b.bufferBeforeMinutes));
    const busyTo = new Date(b.to.getTime() + reach(b.bufferAfterMinutes));
    const began = performance.now();
    const [appointments, imported, tenant, freshness] = await Promise.all([
      appointmentsByStaff(db, tenantId, staffIds, busyFrom, busyTo, b.excludeAppointmentId),
      importedSpans(db, tenantId, staffIds, busyFrom, busyTo),
      db('tenants').where({ id: tenantId }).first('settings'),
      importFreshness(tenantId, staffIds),
    ]);
    const read = performance.now();
    const { slots, truncated } = computeSlots(
      staffIds.map((staffId) => {
        const own = appointments.get(staffId)!;
        return {
          staffId,
          workingHours: b.workingHours?.[staffId] ?? known.get(staffId) ?? undefined,
          busy: [...own.map((i) => ({ start: i.start.getTime(), end: i.end.getTime() })), ...imported.get(staffId)!],
          booked: own.length,
        };
      }),
      {
        from: b.from.getTime(),
        to: b.to.getTime(),
        now: Date.now(),
        timeZone: b.timeZone,
        durationMinutes: b.durationMinutes,
        slotIntervalMinutes: b.slotIntervalMinutes,
        bufferBeforeMinutes: b.bufferBeforeMinutes,
        bufferAfterMinutes: b.bufferAfterMinutes,
        minimumNoticeMinutes: b.minimumNoticeMinutes,
        mode: b.mode,
        pick: b.pick,
        maxSlots: b.maxSlots,
        tentativeBlocks: tenant?.settings?.tentativeBlocks !== false,
      },
    );
    // Where the time went, for operators and the bench: reading PostgreSQL, and the slot arithmetic.
    res.setHeader(
      'Server-Timing',
      `db;dur=${(read - began).toFixed(1)}, slots;dur=${(performance.now() - read).toFixed(1)}`,
    );
    res.json({
      timeZone: b.timeZone,
      slots: slots.map((slot) => ({
        start: inZone(new Date(slot.start), b.timeZone),
        end: inZone(new Date(slot.end), b.timeZone),
        staffIds: slot.staffIds,
      })),
      truncated,
      staff: staffIds.map((staffId) => ({
        staffId,
        ...(freshness.get(staffId) ?? { importedAsOf: null, needsReauth: false }),
      })),
    });
  });

  /** A team calendar's members (this tenant's, not deleted), as many as one request may ask about. */
  async function teamMembers(tenantId: string, calendarId: string): Promise<string[]> {
    const row = await db('team_calendars')
      .where({ tenant_id: tenantId, id: calendarId })
      .whereNull('deleted_at')
      .first('members');
    if (!row) throw new HttpError(404, 'not_found', `team calendar ${calendarId} not found`);
    const members = (row.members as { staffId: string }[]).map((m) => m.staffId);
    if (members.length === 0 || members.length > MAX_AVAILABILITY_STAFF) {
      const message =
        members.length === 0
          ? 'the team calendar has no members'
          : `the team calendar has more than ${MAX_AVAILABILITY_STAFF} members`;
      throw new HttpError(400, 'invalid_request', `calendarId: ${message}`, {
        issues: [{ field: 'calendarId', message }],
      });
    }
    return members;
  }

  /**
   * How current each person's imported busy time is: the oldest last pass over their linked
   * calendars (null while one has never been read, or without a link), and whether a link needs
   * re-authorisation (its import is paused, so what is stored grows stale).
   */
  async function importFreshness(tenantId: string, staffIds: string[]) {
    const rows = await db('calendar_links as l')
      .leftJoin('import_cursors as c', 'c.link_id', 'l.id')
      .where({ 'l.tenant_id': tenantId })
      .whereIn('l.staff_id', staffIds)
      .whereIn('l.status', ['active', 'needs_reauth'])
      .groupBy('l.staff_id')
      .select(
        'l.staff_id',
        db.raw(`bool_or(l.status = 'needs_reauth') as needs_reauth`),
        db.raw('bool_or(c.synced_at is null) as never_read'),
        db.raw('min(c.synced_at) as as_of'),
      );
    return new Map(
      rows.map((r: { staff_id: string; needs_reauth: boolean; never_read: boolean; as_of: Date | null }) => [
        r.staff_id,
        { importedAsOf: r.never_read || !r.as_of ? null : r.as_of.toISOString(), needsReauth: r.needs_reauth },
      ]),
    );
  }

  return router;
}
