import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { DEFAULT_RESYNC_RATE_PER_SECOND } from '../../lib/crmSettings';
import { startCalendarResync } from '../../workflows/settingsResync/client';
import { startCalendarSharing } from '../../workflows/teamCalendarSharing/client';
import { teamCalendarBodySchema } from '../crmSchemas';
import { idSchema } from '../schemas';
import type { ProviderRegistry } from '../../providers/registry';
import { HttpError, param, parse } from '../validation';

function publicCalendar(row: any) {
  return {
    id: row.id,
    name: row.name,
    linkId: row.link_id,
    remoteCalendarId: row.remote_calendar_id ?? null,
    members: row.members,
    updatedAt: row.updated_at,
    // Where sharing with the members stands at the provider (teamCalendarSharing workflow).
    sharing: { sharedWith: row.shared_with ?? [], sharedAt: row.shared_at ?? null, error: row.sharing_error ?? null },
  };
}

/**
 * Team calendars (`PUT /v1/calendars/:id`): appointments name them in `calendarIds` and land in
 * each one's remote calendar, besides their staff members' own calendars.
 */
export function teamCalendarRoutes(db: Knex, temporal: Client, taskQueue: string, providers: ProviderRegistry): Router {
  const router = Router();

  /** Its future appointments re-planned in the background: they follow the calendar's new backing, or leave it. */
  async function resyncAppointmentsOf(tenantId: string, id: string, why: string) {
    await startCalendarResync(
      temporal,
      taskQueue,
      { tenantId, endsAfter: new Date().toISOString(), calendarId: id, ratePerSecond: DEFAULT_RESYNC_RATE_PER_SECOND },
      why,
    );
  }

  /** The remote calendar's sharing made to match the members (none once deleted); a newer save replaces a run still going. */
  async function shareWithMembers(tenantId: string, id: string) {
    await startCalendarSharing(temporal, taskQueue, tenantId, id);
  }

  const live = (tenantId: string) => db('team_calendars').where({ tenant_id: tenantId }).whereNull('deleted_at');

  router.put('/v1/calendars/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const body = parse(teamCalendarBodySchema, req.body);
    const link = await db('calendar_links')
      .where({ tenant_id: req.tenantId!, id: body.linkId })
      .whereNot('status', 'disconnected')
      .first('id', 'provider');
    if (!link)
      throw new HttpError(400, 'invalid_request', 'linkId: unknown or disconnected calendar link', {
        issues: [{ field: 'linkId', message: 'unknown or disconnected calendar link' }],
      });
    // A provider without sharing (CalDAV has no standard one) cannot give members access: say so, not fail later.
    const provider = providers.find(link.provider);
    if (body.members.length > 0 && !provider?.sharing) {
      const message = `${provider?.displayName ?? link.provider} calendars cannot be shared by calsync (there is no standard sharing): leave members empty and share the calendar from the account's own app`;
      throw new HttpError(400, 'invalid_request', `members: ${message}`, { issues: [{ field: 'members', message }] });
    }
    const staffIds = body.members.map((m) => m.staffId);
    const known = new Set(
      (await db('staff').where({ tenant_id: req.tenantId! }).whereIn('id', staffIds).pluck('id')) as string[],
    );
    const unknown = staffIds.findIndex((s) => !known.has(s));
    if (unknown >= 0) {
      throw new HttpError(
        400,
        'invalid_request',
        `members[${unknown}].staffId: unknown staff member "${staffIds[unknown]}"`,
        { issues: [{ field: `members[${unknown}].staffId`, message: 'unknown staff member' }] },
      );
    }
    const before = await db('team_calendars')
      .where({ tenant_id: req.tenantId!, id })
      .first('link_id', 'remote_calendar_id', 'deleted_at');
    const [row] = await db('team_calendars')
      .insert({
        tenant_id: req.tenantId!,
        id,
        name: body.name,
        link_id: body.linkId,
        remote_calendar_id: body.remoteCalendarId ?? null,
        members: JSON.stringify(body.members),
      })
      .onConflict(['tenant_id', 'id'])
      .merge({
        name: body.name,
        link_id: body.linkId,
        remote_calendar_id: body.remoteCalendarId ?? null,
        members: JSON.stringify(body.members),
        updated_at: db.fn.now(),
        deleted_at: null,
      })
      .returning('*');
    // Another account or calendar behind it: its future appointments move there, in the background.
    const moved = before && (before.link_id !== row.link_id || before.remote_calendar_id !== row.remote_calendar_id);
    if (moved) await resyncAppointmentsOf(req.tenantId!, id, 'move to its new calendar');
    // Saved again after a delete: the appointments that still name it come back to it.
    else if (before?.deleted_at) await resyncAppointmentsOf(req.tenantId!, id, 'come back to it');
    // The members get read or write access to the remote calendar (again, if it moved).
    await shareWithMembers(req.tenantId!, id);
    res.json({ ...publicCalendar(row), ...(moved ? { moving: true } : {}) });
  });

  router.get('/v1/calendars', async (req, res) => {
    res.json({ calendars: (await live(req.tenantId!).orderBy('id')).map(publicCalendar) });
  });

  router.get('/v1/calendars/:id', async (req, res) => {
    const row = await live(req.tenantId!)
      .where({ id: param(req, 'id', idSchema) })
      .first();
    if (!row) throw new HttpError(404, 'not_found', 'team calendar not found');
    res.json(publicCalendar(row));
  });

  /**
   * The team calendar goes: its future appointments leave its remote calendar (they keep their other
   * calendars), and its members lose the access calsync gave them. Appointments can no longer name it.
   */
  router.delete('/v1/calendars/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const [row] = await live(req.tenantId!)
      .where({ id })
      .update({ deleted_at: db.fn.now(), updated_at: db.fn.now() })
      .returning('*');
    if (!row) throw new HttpError(404, 'not_found', 'team calendar not found');
    await resyncAppointmentsOf(req.tenantId!, id, 'leave it (deleted)');
    await shareWithMembers(req.tenantId!, id);
    res.status(202).json({ id, deleted: true });
  });

  return router;
}
