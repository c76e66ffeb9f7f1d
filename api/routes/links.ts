import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { requestDisconnect } from '../../workflows/calendarLink/client';
import { nudgeReconcile } from '../../workflows/reconcileLink/client';
import { HttpError } from '../validation';

/**
 * Disconnects one of the tenant's links: appointment workflows stop targeting it at once; its
 * workflow removes calsync's events (per the `onDisconnect` setting), revokes and erases the tokens.
 * The API route and the connect page's Disconnect button both come here.
 */
export async function disconnectLink(
  db: Knex,
  temporal: Client,
  taskQueue: string,
  tenantId: string,
  linkId: string,
): Promise<'disconnecting' | 'disconnected'> {
  const link = await db('calendar_links').where({ tenant_id: tenantId, id: linkId }).first('id', 'staff_id', 'status');
  if (!link) throw new HttpError(404, 'not_found', `link ${linkId} not found`);
  if (link.status === 'disconnected') return 'disconnected';
  const tenant = await db('tenants').where({ id: tenantId }).first('settings');
  const keepEvents = tenant?.settings?.onDisconnect === 'keep';
  await db('calendar_links')
    .where({ id: linkId })
    .whereNot('status', 'disconnected')
    .update({ status: 'disconnecting', updated_at: db.fn.now() });
  await requestDisconnect(temporal, taskQueue, { tenantId, linkId, staffId: link.staff_id }, keepEvents);
  // Its reconciliation ends as soon as it sees the link going away.
  await nudgeReconcile(temporal, { tenantId, linkId });
  return 'disconnecting';
}

/** Disconnecting a calendar link: stops its work, removes calsync's events (per setting), revokes and erases tokens. */
export function linkRoutes(db: Knex, temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.delete('/v1/links/:id', async (req, res) => {
    const linkId = String(req.params.id);
    const status = await disconnectLink(db, temporal, taskQueue, req.tenantId!, linkId);
    res.status(202).json({ linkId, status });
  });

  return router;
}
