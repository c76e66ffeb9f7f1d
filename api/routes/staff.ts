import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { signalReconnected, startLinkWorkflow } from '../../workflows/calendarLink/client';
import type { ReconcilePolicy } from '../../lib/config';
import { startReconcileWorkflow } from '../../workflows/reconcileLink/client';
import type { SecretBox } from '../../lib/secretBox';
import type { ProviderRegistry } from '../../providers/registry';
import { idSchema, linkBodySchema, providerNameSchema, staffBodySchema } from '../schemas';
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
  provider: string;
  accountEmail: string;
  calendarId?: string;
  /** Sealed before it is stored; never logged, never answered. */
  refreshToken: string;
}

export interface LinkDeps {
  db: Knex;
  secrets: SecretBox;
  temporal: Client;
  taskQueue: string;
  providers: ProviderRegistry;
  /** Each new link also gets its periodic reconciliation (workflows/reconcileLink/client.ts). */
  reconcile?: ReconcilePolicy;
}

/**
 * Stores a calendar link (refresh token sealed) and starts its workflow, which backfills the staff
 * member's future appointments into it: the attach endpoints and the OAuth callback.
 */
export async function createLink(
  { db, secrets, temporal, taskQueue, reconcile, providers }: LinkDeps,
  link: NewLink,
): Promise<any> {
  const provider = providers.find(link.provider);
  if (!provider) throw unknownProvider(providers);
  if (!(await db('staff').where({ tenant_id: link.tenantId, id: link.staffId }).first('id'))) {
    throw new HttpError(404, 'not_found', `staff member ${link.staffId} not found`);
  }
  // The same account again while its link needs re-authorisation: that link takes the new grant and
  // comes back (same id, same calendar), and its workflow resumes the writes held meanwhile.
  const reconnected = await db('calendar_links')
    .where({
      tenant_id: link.tenantId,
      staff_id: link.staffId,
      provider: link.provider,
      account_email: link.accountEmail,
      status: 'needs_reauth',
    })
    .modify((q) => {
      if (link.calendarId) q.where({ calendar_id: link.calendarId });
    })
    .update({
      refresh_token_sealed: secrets.seal(link.refreshToken),
      access_token_sealed: null,
      access_token_expires_at: null,
      status: db.raw("case when calendar_ready then 'active' else 'connecting' end"),
      status_reason: null,
      updated_at: db.fn.now(),
    })
    .returning('*');
  for (const row of reconnected)
    await signalReconnected(temporal, taskQueue, {
      tenantId: link.tenantId,
      linkId: row.id,
      staffId: link.staffId,
      ratePerSecond: provider.backfillRatePerSecond,
    });
  if (reconnected[0]) return reconnected[0];
  // Without a calendar named, the tenant's calendarMode decides: the primary calendar now, or a
  // dedicated one that the link's workflow provisions first (the link is 'connecting' until then).
  const tenant = await db('tenants').where({ id: link.tenantId }).first('settings');
  const provision = !link.calendarId && (tenant?.settings?.calendarMode ?? 'dedicated') === 'dedicated';
  const [row] = await db('calendar_links')
    .insert({
      id: randomUUID(),
      tenant_id: link.tenantId,
      staff_id: link.staffId,
      provider: link.provider,
      account_email: link.accountEmail,
      calendar_id: link.calendarId ?? provider.defaultCalendarId(link.accountEmail),
      status: provision ? 'connecting' : 'active',
      calendar_ready: !provision,
      refresh_token_sealed: secrets.seal(link.refreshToken),
    })
    .returning('*');
  await startLinkWorkflow(temporal, taskQueue, {
    tenantId: link.tenantId,
    linkId: row.id,
    staffId: link.staffId,
    ratePerSecond: provider.backfillRatePerSecond,
  });
  if (reconcile)
    await startReconcileWorkflow(temporal, taskQueue, reconcile, { tenantId: link.tenantId, linkId: row.id });
  return row;
}

/** Staff members and their calendar links (tokens attached directly, or by OAuth: routes/oauth.ts). */
export function staffRoutes(deps: LinkDeps): Router {
  const { db } = deps;
  const router = Router();

  router.put('/v1/staff/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const body = parse(staffBodySchema, req.body);
    const row = {
      tenant_id: req.tenantId!,
      id,
      name: body.name,
      email: body.email ?? null,
      time_zone: body.timeZone ?? null,
      working_hours: body.workingHours ? JSON.stringify(body.workingHours) : null,
    };
    // Working hours left out of the body stay as stored (a CRM that does not send them keeps them).
    const merged = ['name', 'email', 'time_zone', ...(body.workingHours !== undefined ? ['working_hours'] : [])];
    const [saved] = await db('staff')
      .insert(row)
      .onConflict(['tenant_id', 'id'])
      .merge(merged)
      .returning(['working_hours']);
    res.json({
      id,
      name: body.name,
      email: body.email ?? null,
      timeZone: body.timeZone ?? null,
      workingHours: saved.working_hours ?? null,
    });
  });

  router.get('/v1/staff/:id/links', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const rows = await db('calendar_links').where({ tenant_id: req.tenantId!, staff_id: id }).orderBy('created_at');
    res.json({ links: rows.map(publicLink) });
  });

  /** Attaches an account by its refresh token (without calendarId: the tenant's calendarMode decides). */
  router.post('/v1/staff/:id/links/:provider', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const provider = param(req, 'provider', providerNameSchema);
    if (!deps.providers.find(provider)) throw unknownProvider(deps.providers);
    const body = parse(linkBodySchema, req.body);
    const row = await createLink(deps, {
      tenantId: req.tenantId!,
      staffId,
      provider,
      accountEmail: body.accountEmail,
      calendarId: body.calendarId,
      refreshToken: body.refreshToken,
    });
    res.status(201).json(publicLink(row));
  });

  return router;
}

/** A provider name calsync has no module for: a 400 naming the field and what it may be. */
function unknownProvider(providers: ProviderRegistry): HttpError {
  const names = providers
    .all()
    .map((p) => p.name)
    .join(', ');
  return new HttpError(400, 'invalid_request', `provider: must be one of ${names}`, {
    issues: [{ field: 'provider', message: `must be one of ${names}` }],
  });
}
