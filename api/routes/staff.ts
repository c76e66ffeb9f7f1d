import { randomUUID } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { startLinkWorkflow } from '../../lib/linkSignals';
import type { SecretBox } from '../../lib/secretBox';
import { MICROSOFT_DEFAULT_CALENDAR } from '../../providers/microsoft/eventMapping';
import { googleLinkBodySchema, idSchema, microsoftLinkBodySchema, staffBodySchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

export function publicLink(row: any) {
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

export interface NewLink {
  tenantId: string;
  staffId: string;
  provider: 'google' | 'microsoft';
  accountEmail: string;
  calendarId?: string;
  /** Sealed before it is stored; never logged, never answered. */
  refreshToken: string;
}

/** Where a link's events go without a calendarId. */
export function defaultCalendarOf(provider: 'google' | 'microsoft', accountEmail: string): string {
  // Google: the primary calendar's id is the account's address. Microsoft: `calendar` stands for
  // the mailbox's default calendar (`/me/calendar`).
  return provider === 'google' ? accountEmail : MICROSOFT_DEFAULT_CALENDAR;
}

export interface LinkDeps {
  db: Knex;
  secrets: SecretBox;
  temporal: Client;
  taskQueue: string;
}

/**
 * Stores a calendar link (refresh token sealed) and starts its workflow, which backfills the staff
 * member's future appointments into it: the attach endpoints and the OAuth callback.
 */
export async function createLink({ db, secrets, temporal, taskQueue }: LinkDeps, link: NewLink): Promise<any> {
  if (!(await db('staff').where({ tenant_id: link.tenantId, id: link.staffId }).first('id'))) {
    throw new HttpError(404, 'not_found', `staff member ${link.staffId} not found`);
  }
  const [row] = await db('calendar_links')
    .insert({
      id: randomUUID(),
      tenant_id: link.tenantId,
      staff_id: link.staffId,
      provider: link.provider,
      account_email: link.accountEmail,
      calendar_id: link.calendarId ?? defaultCalendarOf(link.provider, link.accountEmail),
      refresh_token_sealed: secrets.seal(link.refreshToken),
    })
    .returning('*');
  await startLinkWorkflow(temporal, taskQueue, { tenantId: link.tenantId, linkId: row.id, staffId: link.staffId });
  return row;
}

/** Staff members and their calendar links (tokens attached directly, or by OAuth: routes/oauth.ts). */
export function staffRoutes(deps: LinkDeps): Router {
  const { db } = deps;
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

  /** Attaches an account by its refresh token. */
  const attachLink = (provider: 'google' | 'microsoft', schema: typeof googleLinkBodySchema): RequestHandler => async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const body = parse(schema, req.body);
    const row = await createLink(deps, { tenantId: req.tenantId!, staffId, provider, accountEmail: body.accountEmail, calendarId: body.calendarId, refreshToken: body.refreshToken });
    res.status(201).json(publicLink(row));
  };
  router.post('/v1/staff/:id/links/google', attachLink('google', googleLinkBodySchema));
  router.post('/v1/staff/:id/links/microsoft', attachLink('microsoft', microsoftLinkBodySchema));

  return router;
}
