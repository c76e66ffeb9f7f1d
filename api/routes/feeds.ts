import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Knex } from 'knex';
import { renderStaffFeed, type FeedDetail } from '../../lib/staffFeed';
import type { DesiredAppointment } from '../../lib/types';
import { idSchema } from '../schemas';
import { HttpError, param } from '../validation';
import { notEndedBy } from '../../lib/seriesQuery';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const FEED_PAST_DAYS = 30;
const FEED_FUTURE_DAYS = 366;

/** Staff subscription feeds: tenant-managed tokens, and the public .ics they unlock. */
export function feedRoutes(db: Knex, publicApiUrl: string): { managed: Router; published: Router } {
  const managed = Router();

  managed.post('/v1/staff/:id/feeds', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    if (!(await db('staff').where({ tenant_id: req.tenantId!, id: staffId }).first('id')))
      throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
    // 32 random bytes: unguessable; only the hash is kept, so the URL is shown once.
    const token = `cf_${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    await db('feed_tokens').insert({ id, tenant_id: req.tenantId!, staff_id: staffId, token_hash: hashToken(token) });
    res.status(201).json({ id, staffId, url: `${publicApiUrl}/feeds/${token}.ics` });
  });

  managed.get('/v1/staff/:id/feeds', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const rows = await db('feed_tokens').where({ tenant_id: req.tenantId!, staff_id: staffId }).orderBy('created_at');
    res.json({ feeds: rows.map((r) => ({ id: r.id, createdAt: r.created_at, revokedAt: r.revoked_at ?? null })) });
  });

  managed.delete('/v1/staff/:id/feeds/:feedId', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const changed = await db('feed_tokens')
      .where({ tenant_id: req.tenantId!, staff_id: staffId, id: String(req.params.feedId) })
      .whereNull('revoked_at')
      .update({ revoked_at: db.fn.now() });
    if (changed === 0) throw new HttpError(404, 'not_found', 'no such active feed');
    res.status(204).end();
  });

  const published = Router();
  published.get('/feeds/:file', async (req, res) => {
    const file = String(req.params.file);
    const token = file.endsWith('.ics') ? file.slice(0, -4) : '';
    const feed = token
      ? await db('feed_tokens')
          .where({ token_hash: hashToken(token) })
          .whereNull('revoked_at')
          .first()
      : undefined;
    if (!feed) throw new HttpError(404, 'not_found', 'no such feed');
    const [staff, tenant, rows] = await Promise.all([
      db('staff').where({ tenant_id: feed.tenant_id, id: feed.staff_id }).first('name'),
      db('tenants').where({ id: feed.tenant_id }).first('settings'),
      db('appointments')
        .where({ tenant_id: feed.tenant_id })
        .whereRaw('staff_ids @> ?::text[]', [[feed.staff_id]])
        .whereNull('deleted_at')
        .whereNot('status', 'cancelled')
        // A series reaches past its first occurrence.
        .where(notEndedBy(new Date(Date.now() - FEED_PAST_DAYS * 86400000)))
        .where('start_at', '<', new Date(Date.now() + FEED_FUTURE_DAYS * 86400000))
        .orderBy('start_at')
        .select('desired', 'sequence'),
    ]);
    const detail: FeedDetail = tenant?.settings?.feedDetail ?? 'title';
    const body = renderStaffFeed({
      name: staff?.name ?? 'Appointments',
      appointments: rows.map((r: { desired: DesiredAppointment; sequence: number }) => ({
        desired: r.desired,
        sequence: r.sequence,
      })),
      detail,
      tenantId: feed.tenant_id,
    });
    res.setHeader('content-type', 'text/calendar; charset=utf-8');
    res.setHeader('cache-control', 'private, max-age=300');
    res.send(body);
  });

  return { managed, published };
}
