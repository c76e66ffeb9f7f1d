import { Router, type Response } from 'express';
import type { Knex } from 'knex';
import type { BusySpan, WorkingHours } from '../../lib/slots';
import { occurrenceBound, type AvailabilityInput, type BusyInput } from '../busyAnswers';
import { sendAnswer, type BusyReads } from '../busyReads';
import {
  MAX_AVAILABILITY_STAFF,
  availabilityBodySchema,
  availabilityCheckSchema,
  busyQuerySchema,
  idSchema,
} from '../schemas';
import { HttpError, param, parse } from '../validation';
import { compiledQuery } from '../../lib/compiledQuery';
import { notEndedBy } from '../../lib/seriesQuery';

/**
 * Busy time a booking engine asks before offering a slot. Answers from PostgreSQL only, never from
 * a provider: calsync's own appointments and the busy time imported from staff calendars. The rows
 * are read here; expanding series and writing the answer is api/busyAnswers.ts, inline or on a
 * thread (api/busyReads.ts).
 */

/** calsync's own appointments of the staff members that may be busy in the window (series not expanded). */
function appointmentsIn(
  db: Knex,
  tenantId: string,
  staffIds: string[],
  from: Date,
  to: Date,
  excludeAppointmentId?: string,
): Knex.QueryBuilder {
  return (
    db('appointments')
      .where({ tenant_id: tenantId })
      .whereRaw('staff_ids && ?::text[]', [staffIds])
      .whereNull('deleted_at')
      .whereNot('status', 'cancelled')
      .where('start_at', '<', to)
      // A series reaches past its first occurrence: its occurrences in the window are counted later.
      .where(notEndedBy(from))
      .modify((q) => {
        if (excludeAppointmentId) q.whereNot('id', excludeAppointmentId);
      })
  );
}

/**
 * The appointments as one JSON text (api/busyAnswers.ts `appointmentRowsOf` reads it, inline or on
 * a thread): decoding a row per appointment on the event loop cost more than the query. With how many
 * are series, for `occurrenceBound`.
 */
function appointmentRowsJson(query: Knex.QueryBuilder, db: Knex): Knex.QueryBuilder {
  return query.select(
    db.raw(
      `coalesce(json_agg(json_build_array(id, round(date_part('epoch', start_at) * 1000), round(date_part('epoch', end_at) * 1000), staff_ids, desired->'recurrence', desired->>'timeZone', coalesce((desired->>'allDay')::boolean, false)) order by start_at), '[]')::text as rows`,
    ),
    db.raw(`(count(*) filter (where jsonb_typeof(desired->'recurrence') = 'object'))::int as series`),
    db.raw('count(*)::int as appointments'),
  );
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
 * Busy time imported from the staff member's calendars, as one JSON text (`importedIntervalsOf`
 * reads it): free events never block, links being disconnected no longer count, and an event that
 * is calsync's own (its remote id is one of calsync's targets) is never counted twice, even if the
 * import saw it before calsync stored its id. Instants as epoch milliseconds.
 */
function importedIntervalsJson(db: Knex, tenantId: string, staffIds: string[], from: Date, to: Date) {
  return countedImports(db, tenantId, staffIds, from, to).select(
    db.raw(
      `coalesce(json_agg(json_build_array(b.staff_id, round(date_part('epoch', b.start_at) * 1000), round(date_part('epoch', b.end_at) * 1000), b.show_as, b.all_day, b.title, l.provider)), '[]')::text as imported`,
    ),
    db.raw('count(*)::int as imported_count'),
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

interface BusyReadParams extends Record<string, unknown> {
  tenantId: string;
  staffId: string;
  from: Date;
  to: Date;
  excludeAppointmentId?: string;
}

/** `db;dur=…, <work>;dur=…;desc="inline|thread"`: the time reading PostgreSQL, then computing, and where. */
function serverTiming(began: number, read: number, work: string, on: string): string {
  return `db;dur=${(read - began).toFixed(1)}, ${work};dur=${(performance.now() - read).toFixed(1)};desc="${on}"`;
}

export function availabilityRoutes(db: Knex, reads: BusyReads): Router {
  const router = Router();

  /**
   * One person's rows and imported busy time in the window, read within the tenant's budget in one
   * statement (with whether the staff member exists: a round trip costs the event loop more than the
   * query costs PostgreSQL), then answered. Server-Timing: reading PostgreSQL (`db`), then the answer
   * (`answer`, inline or on a thread).
   */
  /** The statement of answerFor, compiled once (with and without an appointment left out). */
  const busyReadOf = (excluding: boolean) =>
    compiledQuery<BusyReadParams>(db, ['tenantId', 'staffId', 'from', 'to', 'excludeAppointmentId'], (p) =>
      db.raw(
        `select exists(?) as staff, a.rows, a.series, a.appointments, i.imported, i.imported_count from (?) a, (?) i`,
        [
          db('staff').where({ tenant_id: p.tenantId, id: p.staffId }).select(db.raw('1')),
          appointmentRowsJson(
            appointmentsIn(db, p.tenantId, [p.staffId], p.from, p.to, excluding ? p.excludeAppointmentId : undefined),
            db,
          ),
          importedIntervalsJson(db, p.tenantId, [p.staffId], p.from, p.to),
        ],
      ),
    );
  const busyRead = busyReadOf(false);
  const busyReadExcluding = busyReadOf(true);

  async function answerFor(
    res: Response,
    name: 'busyAnswer' | 'checkAnswer',
    tenantId: string,
    staffId: string,
    window: { from: Date; to: Date; timeZone: string; excludeAppointmentId?: string },
  ): Promise<void> {
    const answer = await reads.forTenant(tenantId, async () => {
      const began = performance.now();
      const { from, to } = window;
      const query = window.excludeAppointmentId ? busyReadExcluding : busyRead;
      const {
        rows: [found],
      } = await query({ tenantId, staffId, from, to, excludeAppointmentId: window.excludeAppointmentId });
      if (!found.staff) throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
      const read = performance.now();
      const input: BusyInput = {
        staffId,
        timeZone: window.timeZone,
        fromMs: from.getTime(),
        toMs: to.getTime(),
        rows: found.rows,
        imported: found.imported,
      };
      const bound = occurrenceBound(found.series, found.appointments, input.fromMs, input.toMs) + found.imported_count;
      const done = await reads.answer(tenantId, name, input, bound);
      res.setHeader('Server-Timing', serverTiming(began, read, 'answer', done.on));
      return done;
    });
    sendAnswer(res, answer);
  }

  router.get('/v1/staff/:id/busy', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const q = parse(busyQuerySchema, req.query, 'query');
    await answerFor(res, 'busyAnswer', req.tenantId!, staffId, q);
  });

  router.post('/v1/staff/:id/availability/check', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const b = parse(availabilityCheckSchema, req.body);
    const window = { from: b.start, to: b.end, timeZone: b.timeZone, excludeAppointmentId: b.excludeAppointmentId };
    await answerFor(res, 'checkAnswer', req.tenantId!, staffId, window);
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
    const body = await reads.forTenant(tenantId, async () => {
      const began = performance.now();
      const [appointments, imported, tenant, freshness] = await Promise.all([
        appointmentRowsJson(
          appointmentsIn(db, tenantId, staffIds, busyFrom, busyTo, b.excludeAppointmentId),
          db,
        ).first(),
        importedSpans(db, tenantId, staffIds, busyFrom, busyTo),
        db('tenants').where({ id: tenantId }).first('settings'),
        importFreshness(tenantId, staffIds),
      ]);
      const read = performance.now();
      const input: AvailabilityInput = {
        staff: staffIds.map((staffId) => ({
          staffId,
          workingHours: b.workingHours?.[staffId] ?? known.get(staffId) ?? undefined,
        })),
        busyFromMs: busyFrom.getTime(),
        busyToMs: busyTo.getTime(),
        rows: appointments.rows,
        imported,
        freshness,
        options: {
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
      };
      // The work: series' occurrences and imported spans, and the slot grid of each person.
      let spans = occurrenceBound(appointments.series, appointments.appointments, input.busyFromMs, input.busyToMs);
      for (const list of imported.values()) spans += list.length;
      const grid = ((b.to.getTime() - b.from.getTime()) / reach(b.slotIntervalMinutes)) * staffIds.length;
      const answer = await reads.answer(tenantId, 'availabilityAnswer', input, spans + grid);
      // Where the time went, for operators and the bench: reading PostgreSQL, and the slot arithmetic.
      res.setHeader('Server-Timing', serverTiming(began, read, 'slots', answer.on));
      return answer;
    });
    sendAnswer(res, body);
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
