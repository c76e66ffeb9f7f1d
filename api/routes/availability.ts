import { Router } from 'express';
import type { Knex } from 'knex';
import { DateTime, Info } from 'luxon';
import { mergeIntervals, type BusyInterval } from '../../lib/busy';
import { occurrencesBetween } from '../../lib/recurrence';
import type { AppointmentRecurrence } from '../../lib/types';
import { availabilityCheckSchema, busyQuerySchema, idSchema } from '../schemas';
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
  const rows = await db('appointments')
    .where({ tenant_id: tenantId })
    .whereRaw('staff_ids @> ?::text[]', [[staffId]])
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
      db.raw(`desired->'recurrence' as recurrence`),
      db.raw(`desired->>'timeZone' as time_zone`),
      db.raw(`coalesce((desired->>'allDay')::boolean, false) as all_day`),
    );
  const own: BusyInterval[] = rows.flatMap((r: AppointmentRow) => appointmentIntervals(r, from, to));
  return [...own, ...(await importedIntervals(db, tenantId, staffId, from, to))].sort(
    (a, b) => a.start.getTime() - b.start.getTime(),
  );
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
  return occurrencesBetween(series, from.getTime(), to.getTime()).map((o) => of(new Date(o.start), new Date(o.end)));
}

/**
 * Busy time imported from the staff member's calendars: free events never block, links being
 * disconnected no longer count, and an event that is calsync's own (its remote id is one of
 * calsync's targets) is never counted twice, even if the import saw it before calsync stored its id.
 */
async function importedIntervals(
  db: Knex,
  tenantId: string,
  staffId: string,
  from: Date,
  to: Date,
): Promise<BusyInterval[]> {
  const rows = await db('imported_busy as b')
    .join('calendar_links as l', 'l.id', 'b.link_id')
    .where({ 'b.tenant_id': tenantId, 'b.staff_id': staffId })
    .where('b.start_at', '<', to)
    .where('b.end_at', '>', from)
    .whereNot('b.show_as', 'free')
    .whereIn('l.status', ['active', 'needs_reauth'])
    // An occurrence of calsync's own series carries the series' id.
    .whereNotExists(
      db('appointment_targets as t')
        .whereRaw('t.tenant_id = b.tenant_id and (t.remote_id = b.remote_id or t.remote_id = b.series_id)')
        .select(db.raw('1')),
    )
    .select('b.start_at', 'b.end_at', 'b.show_as', 'b.all_day', 'b.title', 'l.provider');
  return rows.map(
    (r: {
      start_at: Date;
      end_at: Date;
      show_as: string;
      all_day: boolean;
      title: string | null;
      provider: string;
    }) => ({
      start: r.start_at,
      end: r.end_at,
      source: 'imported' as const,
      provider: r.provider,
      showAs: r.show_as,
      allDay: r.all_day,
      ...(r.title ? { title: r.title } : {}),
    }),
  );
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

  return router;
}
