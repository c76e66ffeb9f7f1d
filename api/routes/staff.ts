import { randomUUID } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Knex } from 'knex';
import type { SecretBox } from '../../lib/secretBox';
import { MICROSOFT_DEFAULT_CALENDAR } from '../../providers/microsoft/eventMapping';
import { googleLinkBodySchema, idSchema, microsoftLinkBodySchema, staffBodySchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

function publicLink(row: any) {
  return {
    id: row.id,
    staffId: row.staff_id,
    provider: row.provider,
    accountEmail: row.account_email,
    calendarId: row.calendar_id,
    status: row.status,
    statusReason: row.status_reason ?? null,
    createdAt: row.created_at,
  };
}

/** Staff members and their calendar links (tokens attached directly until OAuth lands). */
export function staffRoutes(db: Knex, secrets: SecretBox): Router {
  const router = Router();

  router.put('/v1/staff/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const body = parse(staffBodySchema, req.body);
    const row = { tenant_id: req.tenantId!, id, name: body.name, email: body.email ?? null, time_zone: body.timeZone ?? null };
    await db('staff').insert(row).onConflict(['tenant_id', 'id']).merge(['name', 'email', 'time_zone']);
    res.json({ id, name: body.name, email: body.email ?? null, timeZone: body.timeZone ?? null });
  });

  router.get('/v1/staff/:id/links', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const rows = await db('calendar_links').where({ tenant_id: req.tenantId!, staff_id: id }).orderBy('created_at');
    res.json({ links: rows.map(publicLink) });
  });

  /** Attaches an account by its refresh token; `defaultCalendar` is where events go without a calendarId. */
  const attachLink = (provider: 'google' | 'microsoft', schema: typeof googleLinkBodySchema, defaultCalendar: (accountEmail: string) => string): RequestHandler => async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const body = parse(schema, req.body);
    if (!(await db('staff').where({ tenant_id: req.tenantId!, id: staffId }).first('id'))) {
      throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
    }
    const [row] = await db('calendar_links')
      .insert({
        id: randomUUID(),
        tenant_id: req.tenantId!,
        staff_id: staffId,
        provider,
        account_email: body.accountEmail,
        calendar_id: body.calendarId ?? defaultCalendar(body.accountEmail),
        refresh_token_sealed: secrets.seal(body.refreshToken),
      })
      .returning('*');
    res.status(201).json(publicLink(row));
  };
  // Google: the primary calendar's id is the account's address.
  router.post('/v1/staff/:id/links/google', attachLink('google', googleLinkBodySchema, (email) => email));
  // Microsoft: `calendar` stands for the mailbox's default calendar (`/me/calendar`).
  router.post('/v1/staff/:id/links/microsoft', attachLink('microsoft', microsoftLinkBodySchema, () => MICROSOFT_DEFAULT_CALENDAR));

  return router;
}
