import { Router } from 'express';
import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { mergeIntervals, type BusyInterval } from '../../lib/busy';
import { availabilityCheckSchema, busyQuerySchema, idSchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

/**
 * Busy time a booking engine asks before offering a slot. Answers from PostgreSQL only, never from
 * a provider: calsync's own appointments now; imported busy time from staff calendars joins here.
 */
async function busyIntervals(db: Knex, tenantId: string, staffId: string, from: Date, to: Date, excludeAppointmentId?: string): Promise<BusyInterval[]> {
  const rows = await db('appointments')
    .where({ tenant_id: tenantId })
    .whereRaw('staff_ids @> ?::text[]', [[staffId]])
    .whereNull('deleted_at')
    .whereNot('status', 'cancelled')
    .where('start_at', '<', to)
    .where('end_at', '>', from)
    .modify((q) => {
      if (excludeAppointmentId) q.whereNot('id', excludeAppointmentId);
    })
    .orderBy('start_at')
    .select('id', 'start_at', 'end_at');
  return rows.map((r: { id: string; start_at: Date; end_at: Date }) => ({ start: r.start_at, end: r.end_at, source: 'appointment' as const, appointmentId: r.id }));
}

const inZone = (d: Date, zone: string) => DateTime.fromJSDate(d).setZone(zone).toISO({ suppressMilliseconds: true })!;

export function availabilityRoutes(db: Knex): Router {
  const router = Router();

  async function assertStaff(tenantId: string, staffId: string) {
    if (!(await db('staff').where({ tenant_id: tenantId, id: staffId }).first('id'))) throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
  }

  router.get('/v1/staff/:id/busy', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const q = parse(busyQuerySchema, req.query, 'query');
    await assertStaff(req.tenantId!, staffId);
    const merged = mergeIntervals(await busyIntervals(db, req.tenantId!, staffId, q.from, q.to));
    res.json({
      staffId,
      timeZone: q.timeZone,
      from: inZone(q.from, q.timeZone),
      to: inZone(q.to, q.timeZone),
      busy: merged.map((i) => ({ start: inZone(i.start, q.timeZone), end: inZone(i.end, q.timeZone) })),
    });
  });

  router.post('/v1/staff/:id/availability/check', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const b = parse(availabilityCheckSchema, req.body);
    await assertStaff(req.tenantId!, staffId);
    const conflicts = await busyIntervals(db, req.tenantId!, staffId, b.start, b.end, b.excludeAppointmentId);
    res.json({
      free: conflicts.length === 0,
      conflicts: conflicts.map((c) => ({ start: inZone(c.start, b.timeZone), end: inZone(c.end, b.timeZone), source: c.source, appointmentId: c.appointmentId })),
    });
  });

  return router;
}
