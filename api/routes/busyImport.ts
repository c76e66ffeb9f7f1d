import { createHash, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router, type Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Logger } from '../../lib/logger';
import { requestImportSync } from '../../workflows/busyImport/client';
import type { SyncNowRequest } from '../../workflows/busyImport/contract';
import { importCalendarsOf, type ProviderRegistry } from '../../providers/registry';
import { idSchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
function secretMatches(given: string | undefined, storedHash: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(sha256(given), Buffer.from(storedHash, 'hex'));
}

interface ChannelRow {
  id: string;
  tenant_id: string;
  link_id: string;
  calendar_id: string;
  secret_hash: string;
}

/** Tells the link's import workflow to sync now; a workflow that is not running has nothing to sync. */
async function syncNow(temporal: Client, logger: Logger, channel: ChannelRow, request: SyncNowRequest): Promise<void> {
  if (!(await requestImportSync(temporal, channel.tenant_id, channel.link_id, request)))
    logger.info({ linkId: channel.link_id }, 'push for a link that is not importing');
}

/** Distinct channels one notification request may name: a real batch names a handful. */
const MAX_CHANNELS = 50;

const rejected = (res: Response) =>
  res.status(403).json({ error: 'forbidden', message: 'unknown channel or wrong token' });

/**
 * Push notifications from the providers (no API key: each notice carries its channel's secret,
 * compared with the SHA-256 stored when the channel was made). The provider's module reads its own
 * protocol; a notice says only "something changed", and the import workflow then runs a pass.
 */
export function importWebhookRoutes(db: Knex, temporal: Client, logger: Logger, providers: ProviderRegistry): Router {
  const router = Router();
  router.post('/webhooks/:provider', async (req, res) => {
    const provider = providers.find(String(req.params.provider));
    if (!provider?.push) {
      res.status(404).json({ error: 'not_found', message: 'no such webhook' });
      return;
    }
    const request = provider.push.parse({
      header: (name) => req.get(name),
      query: req.query as Record<string, unknown>,
      body: req.body,
    });
    if (request.kind === 'handshake') {
      res.status(request.status).type(request.contentType).send(request.body);
      return;
    }
    // Bounded work whoever sends it: one indexed lookup for at most MAX_CHANNELS distinct channels.
    const ids = [...new Set(request.notices.map((n) => n.channelId).filter((id) => id.length <= 200))].slice(
      0,
      MAX_CHANNELS,
    );
    const rows: ChannelRow[] = ids.length
      ? await db('import_channels').whereIn('id', ids).where({ provider: provider.name })
      : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    let verified = 0;
    // What the verified notices ask, gathered per channel first: at most two writes per channel however many notices repeat it.
    const asked = new Map<
      string,
      { channel: ChannelRow; removed: boolean; renew: boolean; full: boolean; sync: boolean }
    >();
    for (const notice of request.notices) {
      const found = byId.get(notice.channelId);
      if (!found || !secretMatches(notice.secret, found.secret_hash)) continue;
      verified++;
      const a = asked.get(found.id) ?? { channel: found, removed: false, renew: false, full: false, sync: false };
      a.removed ||= Boolean(notice.channelRemoved);
      a.renew ||= Boolean(notice.renewChannel);
      a.full ||= Boolean(notice.fullPassNeeded);
      a.sync ||= notice.changed;
      asked.set(found.id, a);
    }
    const toSync = new Map<string, { channel: ChannelRow; checkPush: boolean; fullPass: string[] }>();
    for (const a of asked.values()) {
      const { channel } = a;
      // A removed channel is made again at the push check the signal asks for.
      if (a.removed) await db('import_channels').where({ id: channel.id }).delete();
      // Due now: the push check renews it (Graph: PATCH expirationDateTime).
      else if (a.renew) await db('import_channels').where({ id: channel.id }).update({ expires_at: new Date() });
      const checkPush = a.removed || a.renew;
      if (!a.sync && !checkPush && !a.full) continue;
      const prior = toSync.get(channel.link_id) ?? { channel, checkPush: false, fullPass: [] };
      prior.checkPush ||= checkPush;
      // Changes may have been lost: the workflow makes that calendar's next pass a full one.
      if (a.full && !prior.fullPass.includes(channel.calendar_id)) prior.fullPass.push(channel.calendar_id);
      toSync.set(channel.link_id, prior);
    }
    if (verified === 0) return rejected(res);
    for (const { channel, checkPush, fullPass } of toSync.values())
      await syncNow(temporal, logger, channel, {
        ...(checkPush ? { checkPush } : {}),
        ...(fullPass.length ? { fullPass } : {}),
      });
    res.status(request.ackStatus).end();
  });
  return router;
}

export const importSelectionSchema = z
  .object({
    /** Calendar ids of the account to import busy time from (Google `primary`, Graph `calendar`: the main one). */
    calendarIds: z.array(z.string().min(1).max(1024)).min(1).max(20),
  })
  .strict();

function importCalendarsOfLink(
  providers: ProviderRegistry,
  link: { provider: string; import_calendar_ids: string[] | null },
): string[] {
  const provider = providers.find(link.provider);
  return provider ? importCalendarsOf(provider, link.import_calendar_ids) : (link.import_calendar_ids ?? []);
}

/** Which calendars of a link count as busy time, and how their import stands. */
export function importRoutes(db: Knex, temporal: Client, providers: ProviderRegistry): Router {
  const router = Router();
  async function linkOf(tenantId: string, linkId: string) {
    const link = await db('calendar_links')
      .where({ tenant_id: tenantId, id: linkId })
      .first('id', 'provider', 'status', 'import_calendar_ids');
    if (!link) throw new HttpError(404, 'not_found', `link ${linkId} not found`);
    return link;
  }
  async function describe(link: {
    id: string;
    provider: string;
    status: string;
    import_calendar_ids: string[] | null;
  }) {
    const cursors = await db('import_cursors')
      .where({ link_id: link.id })
      .select('calendar_id', 'synced_at', 'full_synced_at', 'full_syncs', 'problems');
    const channels = await db('import_channels').where({ link_id: link.id }).select('calendar_id', 'expires_at');
    const events = await db('imported_busy').where({ link_id: link.id }).count<{ count: string }[]>('* as count');
    return {
      linkId: link.id,
      calendarIds: importCalendarsOfLink(providers, link),
      // How changes reach calsync: push notifications with polling behind them, or polling alone (CalDAV has no push).
      updates: providers.find(link.provider)?.push ? 'push' : 'polled',
      importedEvents: Number(events[0]?.count ?? 0),
      calendars: cursors.map((c) => ({
        calendarId: c.calendar_id,
        syncedAt: c.synced_at,
        fullSyncedAt: c.full_synced_at,
        fullSyncs: c.full_syncs,
        pushExpiresAt: channels.find((ch) => ch.calendar_id === c.calendar_id)?.expires_at ?? null,
        // Events whose busy time is missing or cut (a series beyond the expansion's bounds), and why.
        problems: Object.entries((c.problems ?? {}) as Record<string, string>).map(([remoteId, reason]) => ({
          remoteId,
          reason,
        })),
      })),
    };
  }

  router.get('/v1/links/:id/import', async (req, res) => {
    res.json(await describe(await linkOf(req.tenantId!, param(req, 'id', idSchema))));
  });
  router.put('/v1/links/:id/import', async (req, res) => {
    const linkId = param(req, 'id', idSchema);
    const body = parse(importSelectionSchema, req.body);
    const link = await linkOf(req.tenantId!, linkId);
    await db('calendar_links')
      .where({ id: link.id })
      .update({ import_calendar_ids: JSON.stringify(body.calendarIds) });
    await requestImportSync(temporal, req.tenantId!, link.id);
    res.json(await describe({ ...link, import_calendar_ids: body.calendarIds }));
  });
  return router;
}
