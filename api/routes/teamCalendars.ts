import { Router } from 'express';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { DEFAULT_RESYNC_RATE_PER_SECOND } from '../../lib/crmSettings';
import { calendarResyncWorkflowId, type settingsResync } from '../../workflows/settingsResync';
import { calendarSharingWorkflowId, type teamCalendarSharing } from '../../workflows/teamCalendarSharing';
import { teamCalendarBodySchema } from '../crmSchemas';
import { idSchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

function publicCalendar(row: any) {
  return {
    id: row.id, name: row.name, linkId: row.link_id, remoteCalendarId: row.remote_calendar_id ?? null, members: row.members, updatedAt: row.updated_at,
    // Where sharing with the members stands at the provider (teamCalendarSharing workflow).
    sharing: { sharedWith: row.shared_with ?? [], sharedAt: row.shared_at ?? null, error: row.sharing_error ?? null },
  };
}

/**
 * Team calendars (`PUT /v1/calendars/:id`): appointments name them in `calendarIds` and land in
 * each one's remote calendar, besides their staff members' own calendars.
 */
export function teamCalendarRoutes(db: Knex, temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.put('/v1/calendars/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const body = parse(teamCalendarBodySchema, req.body);
    const link = await db('calendar_links').where({ tenant_id: req.tenantId!, id: body.linkId }).whereNot('status', 'disconnected').first('id');
    if (!link) throw new HttpError(400, 'invalid_request', 'linkId: unknown or disconnected calendar link', { issues: [{ field: 'linkId', message: 'unknown or disconnected calendar link' }] });
    const staffIds = body.members.map((m) => m.staffId);
    const known = new Set((await db('staff').where({ tenant_id: req.tenantId! }).whereIn('id', staffIds).pluck('id')) as string[]);
    const unknown = staffIds.findIndex((s) => !known.has(s));
    if (unknown >= 0) {
      throw new HttpError(400, 'invalid_request', `members[${unknown}].staffId: unknown staff member "${staffIds[unknown]}"`, { issues: [{ field: `members[${unknown}].staffId`, message: 'unknown staff member' }] });
    }
    const before = await db('team_calendars').where({ tenant_id: req.tenantId!, id }).first('link_id', 'remote_calendar_id');
    const [row] = await db('team_calendars')
      .insert({ tenant_id: req.tenantId!, id, name: body.name, link_id: body.linkId, remote_calendar_id: body.remoteCalendarId ?? null, members: JSON.stringify(body.members) })
      .onConflict(['tenant_id', 'id'])
      .merge({ name: body.name, link_id: body.linkId, remote_calendar_id: body.remoteCalendarId ?? null, members: JSON.stringify(body.members), updated_at: db.fn.now() })
      .returning('*');
    // Another account or calendar behind it: its future appointments move there, in the background.
    const moved = before && (before.link_id !== row.link_id || before.remote_calendar_id !== row.remote_calendar_id);
    if (moved) {
      await temporal.workflow.start<typeof settingsResync>('settingsResync', {
        workflowId: calendarResyncWorkflowId(req.tenantId!, id),
        taskQueue,
        args: [{ tenantId: req.tenantId!, endsAfter: new Date().toISOString(), calendarId: id, ratePerSecond: DEFAULT_RESYNC_RATE_PER_SECOND }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
        staticSummary: `appointments of team calendar ${id} of tenant ${req.tenantId} move to its new calendar`,
      });
    }
    // The members get read or write access to the remote calendar (again, if it moved).
    await temporal.workflow.start<typeof teamCalendarSharing>('teamCalendarSharing', {
      workflowId: calendarSharingWorkflowId(req.tenantId!, id),
      taskQueue,
      args: [{ tenantId: req.tenantId!, calendarId: id }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
      staticSummary: `team calendar ${id} of tenant ${req.tenantId} shared with its members`,
    });
    res.json({ ...publicCalendar(row), ...(moved ? { moving: true } : {}) });
  });

  router.get('/v1/calendars', async (req, res) => {
    res.json({ calendars: (await db('team_calendars').where({ tenant_id: req.tenantId! }).orderBy('id')).map(publicCalendar) });
  });

  router.get('/v1/calendars/:id', async (req, res) => {
    const row = await db('team_calendars').where({ tenant_id: req.tenantId!, id: param(req, 'id', idSchema) }).first();
    if (!row) throw new HttpError(404, 'not_found', 'team calendar not found');
    res.json(publicCalendar(row));
  });

  return router;
}
