import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { requestDisconnect } from '../../lib/linkSignals';
import { HttpError } from '../validation';

/** Disconnecting a calendar link: stops its work, removes calsync's events (per setting), revokes and erases tokens. */
export function linkRoutes(db: Knex, temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.delete('/v1/links/:id', async (req, res) => {
    const linkId = String(req.params.id);
    const link = await db('calendar_links').where({ tenant_id: req.tenantId!, id: linkId }).first('id', 'staff_id', 'status');
    if (!link) throw new HttpError(404, 'not_found', `link ${linkId} not found`);
    if (link.status !== 'disconnected') {
      const tenant = await db('tenants').where({ id: req.tenantId! }).first('settings');
      const keepEvents = tenant?.settings?.onDisconnect === 'keep';
      // From here on appointment workflows stop targeting the link; its workflow does the rest.
      await db('calendar_links').where({ id: linkId }).whereNot('status', 'disconnected').update({ status: 'disconnecting', updated_at: db.fn.now() });
      await requestDisconnect(temporal, taskQueue, { tenantId: req.tenantId!, linkId, staffId: link.staff_id }, keepEvents);
    }
    res.status(202).json({ linkId, status: link.status === 'disconnected' ? 'disconnected' : 'disconnecting' });
  });

  return router;
}
