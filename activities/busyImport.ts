import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { CursorExpired, type BusyReader, type ImportPass, type ImportedEvent } from '../providers/busyTypes';
import { importCalendarsOf, providerRegistry } from '../providers/registry';
import { activityFailure } from './activityFailure';
import type { LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { actAsLink, isHeld } from './linkAccount';

export interface ImportLinkInput {
  tenantId: string;
  linkId: string;
}

export interface ImportRoundResult {
  /** active: imported; paused: the link needs re-authorisation; stopped: the link is gone (data erased). */
  status: 'active' | 'paused' | 'stopped';
  pollMs: number;
  pushEnabled: boolean;
  /** Per calendar: how the pass went (for the workflow's query and the logs). */
  calendars: Array<{ calendarId: string; full: boolean; upserts: number; removed: number }>;
}

type ImportLink = LinkRow & { import_calendar_ids: string[] | null };

/** Problems kept per calendar at most: enough to name what to fix, bounded whatever a calendar holds. */
const MAX_PROBLEMS = 20;

/**
 * What the calendar's import could not take in full after this pass: a full pass says it all; an
 * incremental one keeps the earlier problems of events it did not touch.
 */
function problemsAfter(
  saved: Record<string, string> | null | undefined,
  pass: ImportPass,
): Record<string, string> | null {
  const problems = new Map(pass.full ? [] : Object.entries(saved ?? {}));
  for (const id of [...pass.removed, ...pass.removedSeries, ...pass.upserts.flatMap((e) => [e.remoteId, e.seriesId])])
    if (id) problems.delete(id);
  for (const p of [...(pass.skipped ?? []), ...(pass.incomplete ?? [])]) {
    problems.delete(p.remoteId);
    problems.set(p.remoteId, p.reason);
  }
  const kept = [...problems].slice(-MAX_PROBLEMS);
  return kept.length ? Object.fromEntries(kept) : null;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Runs `work` with the link's busy-time reader. A dead grant answers 'needs_reauth' (the import
 * pauses until a reconnect); any other failure leaves as the activity's failure.
 */
async function withReader<T>(
  deps: ActivityDeps,
  link: LinkRow,
  work: (reader: BusyReader) => Promise<T>,
): Promise<T | 'needs_reauth'> {
  try {
    return await actAsLink(deps, link, async (account) => work(await account.busy()));
  } catch (err) {
    if (isHeld(err)) return 'needs_reauth';
    throw activityFailure(err);
  }
}

/** Imported rows of an event within the kept window; what lies outside is not kept. */
function rowsOf(
  link: LinkRow,
  calendarId: string,
  events: ImportedEvent[],
  window: { start: Date; end: Date },
  keepTitles: boolean,
) {
  return events
    .filter((e) => e.end > window.start && e.start < window.end && e.end > e.start)
    .map((e) => ({
      tenant_id: link.tenant_id,
      staff_id: link.staff_id,
      link_id: link.id,
      calendar_id: calendarId,
      remote_id: e.remoteId,
      series_id: e.seriesId ?? null,
      start_at: e.start,
      end_at: e.end,
      all_day: e.allDay,
      show_as: e.showAs,
      title: keepTitles ? (e.title ?? null) : null,
      updated_at: new Date(),
    }));
}

/** Applies one pass in one transaction: a full pass replaces the calendar's rows, an incremental one edits them. */
async function applyPass(
  db: Knex,
  link: LinkRow,
  calendarId: string,
  pass: ImportPass,
  window: { start: Date; end: Date },
  keepTitles: boolean,
): Promise<void> {
  await db.transaction(async (trx) => {
    const mine = () => trx('imported_busy').where({ link_id: link.id, calendar_id: calendarId });
    if (pass.full) {
      await mine().delete();
    } else {
      // An upsert outside the window (moved away) must drop the row it had inside.
      const gone = [...pass.removed, ...pass.upserts.map((e) => e.remoteId)];
      for (let i = 0; i < gone.length; i += 500)
        await mine()
          .whereIn('remote_id', gone.slice(i, i + 500))
          .delete();
      for (let i = 0; i < pass.removedSeries.length; i += 500)
        await mine()
          .whereIn('series_id', pass.removedSeries.slice(i, i + 500))
          .delete();
    }
    const rows = rowsOf(link, calendarId, pass.upserts, window, keepTitles);
    for (let i = 0; i < rows.length; i += 500) {
      await trx('imported_busy')
        .insert(rows.slice(i, i + 500))
        .onConflict(['link_id', 'calendar_id', 'remote_id'])
        .merge();
    }
  });
}

/**
 * Stops a link's push channels and forgets them (best effort: its grant may be gone already). Run
 * by the import as it stops and by the link's retirement before the grant is revoked, whichever
 * comes first: after the revocation nothing can stop them.
 */
export async function stopImportChannels(deps: ActivityDeps, link: LinkRow | undefined, linkId: string): Promise<void> {
  const channels = await deps.db('import_channels').where({ link_id: linkId });
  if (link?.refresh_token_sealed && channels.length > 0) {
    await withReader(deps, link, async (reader) => {
      for (const c of channels)
        await reader.stop({ id: c.id, resourceId: c.resource_id ?? undefined }).catch(() => undefined);
    }).catch(() => undefined);
  }
  await deps.db('import_channels').where({ link_id: linkId }).delete();
}

/** Erases what a link imported and stops its push channels. */
async function eraseImport(deps: ActivityDeps, link: LinkRow | undefined, linkId: string): Promise<void> {
  await stopImportChannels(deps, link, linkId);
  await deps.db('imported_busy').where({ link_id: linkId }).delete();
  await deps.db('import_cursors').where({ link_id: linkId }).delete();
}

/**
 * One import round for a link: an incremental pass per selected calendar (a full one the first
 * time, after the cursor expired, when the window must roll forward, or when the workflow asks),
 * applied to PostgreSQL.
 */
export async function importBusyTime(
  deps: ActivityDeps,
  input: ImportLinkInput & {
    stop?: boolean;
    /** Calendars whose pass is a full one whatever their cursor (the provider may have lost changes). */
    fullPass?: string[];
  },
): Promise<ImportRoundResult> {
  const cfg = deps.config.import;
  const result: ImportRoundResult = {
    status: 'active',
    pollMs: cfg.pollIntervalMs,
    pushEnabled: cfg.pushEnabled,
    calendars: [],
  };
  const link: ImportLink | undefined = await deps
    .db('calendar_links')
    .where({ id: input.linkId, tenant_id: input.tenantId })
    .first();
  if (input.stop || !link || link.status === 'disconnecting' || link.status === 'disconnected') {
    await eraseImport(deps, link, input.linkId);
    return { ...result, status: 'stopped' };
  }
  if (link.status !== 'active') return { ...result, status: 'paused' };
  const provider = providerRegistry(deps.config).find(link.provider);
  if (!provider?.busy) {
    // Nothing to read busy time from: the import ends (the link's own sync goes on).
    deps.logger.warn(
      { linkId: link.id, provider: link.provider, code: 'provider_unsupported' },
      'busy-time import is not available for this provider',
    );
    return { ...result, status: 'stopped' };
  }
  result.pushEnabled = cfg.pushEnabled && provider.push !== undefined;
  const tenant = await deps.db('tenants').where({ id: link.tenant_id }).first('settings');
  const keepTitles = tenant?.settings?.importTitles === true;
  const calendars = importCalendarsOf(provider, link.import_calendar_ids);
  // Calendars no longer selected: their busy time no longer counts.
  await deps.db('imported_busy').where({ link_id: link.id }).whereNotIn('calendar_id', calendars).delete();
  await deps.db('import_cursors').where({ link_id: link.id }).whereNotIn('calendar_id', calendars).delete();

  const now = Date.now();
  const window = { start: new Date(now - cfg.pastDays * 86400_000), end: new Date(now + cfg.horizonDays * 86400_000) };
  const outcome = await withReader(deps, link, async (reader) => {
    for (const calendarId of calendars) {
      const saved = await deps.db('import_cursors').where({ link_id: link.id, calendar_id: calendarId }).first();
      // Roll the window (Graph's delta window is fixed; Google's list is cut to it here) and heal.
      const stale =
        !saved?.full_synced_at || now - new Date(saved.full_synced_at).getTime() > cfg.fullResyncHours * 3600_000;
      const forced = input.fullPass?.includes(calendarId) ?? false;
      let cursor: string | undefined = saved?.cursor && !stale && !forced ? saved.cursor : undefined;
      let pass: ImportPass;
      try {
        pass = await reader.read(calendarId, cursor, window);
      } catch (err) {
        if (!(err instanceof CursorExpired)) throw err;
        deps.logger.info({ linkId: link.id, calendarId, reason: err.message }, 'import cursor expired; full resync');
        cursor = undefined;
        pass = await reader.read(calendarId, undefined, window);
      }
      for (const skip of pass.skipped ?? [])
        deps.logger.warn(
          { linkId: link.id, calendarId, remoteId: skip.remoteId, reason: skip.reason, code: 'import_event_skipped' },
          'busy-time import skipped an event',
        );
      for (const cut of pass.incomplete ?? [])
        deps.logger.warn(
          { linkId: link.id, calendarId, remoteId: cut.remoteId, reason: cut.reason, code: 'import_event_incomplete' },
          'busy-time import took only part of an event',
        );
      await applyPass(deps.db, link, calendarId, pass, window, keepTitles);
      const row = {
        link_id: link.id,
        calendar_id: calendarId,
        cursor: pass.cursor || null,
        synced_at: new Date(),
        problems: JSON.stringify(problemsAfter(saved?.problems, pass)),
        ...(pass.full ? { window_start: window.start, window_end: window.end, full_synced_at: new Date() } : {}),
      };
      await deps
        .db('import_cursors')
        .insert({ ...row, full_syncs: pass.full ? 1 : 0 })
        .onConflict(['link_id', 'calendar_id'])
        .merge({ ...row, full_syncs: deps.db.raw('import_cursors.full_syncs + ?', [pass.full ? 1 : 0]) });
      result.calendars.push({
        calendarId,
        full: pass.full,
        upserts: pass.upserts.length,
        removed: pass.removed.length,
      });
    }
  });
  if (outcome === 'needs_reauth') return { ...result, status: 'paused' };
  return result;
}

/**
 * Makes sure each imported calendar has a live push channel (Google) or subscription (Graph),
 * renewed or replaced `renewBeforeMs` before it expires. Answers when to check again.
 */
export async function ensureImportPush(deps: ActivityDeps, input: ImportLinkInput): Promise<{ nextCheckMs: number }> {
  const cfg = deps.config.import;
  const link: ImportLink | undefined = await deps
    .db('calendar_links')
    .where({ id: input.linkId, tenant_id: input.tenantId, status: 'active' })
    .first();
  const provider = link ? providerRegistry(deps.config).find(link.provider) : undefined;
  // A provider without push notifications is polled only.
  const push = provider?.push;
  if (!link || !provider || !push || !cfg.pushEnabled) return { nextCheckMs: cfg.pollIntervalMs };
  const calendars = importCalendarsOf(provider, link.import_calendar_ids);
  const lifetimeMs = push.channelLifetimeMs;
  const address = `${cfg.webhookBaseUrl}/webhooks/${link.provider}`;
  let nextCheck = Date.now() + lifetimeMs;
  await withReader(deps, link, async (reader) => {
    const existing = await deps.db('import_channels').where({ link_id: link.id });
    for (const c of existing.filter((row) => !calendars.includes(row.calendar_id))) {
      await reader.stop({ id: c.id, resourceId: c.resource_id ?? undefined }).catch(() => undefined);
      await deps.db('import_channels').where({ id: c.id }).delete();
    }
    for (const calendarId of calendars) {
      const current = existing
        .filter((c) => c.calendar_id === calendarId)
        .sort((a, b) => +new Date(b.expires_at) - +new Date(a.expires_at))[0];
      const expiresAt = new Date(Date.now() + lifetimeMs);
      if (current && new Date(current.expires_at).getTime() - cfg.renewBeforeMs > Date.now()) {
        nextCheck = Math.min(nextCheck, new Date(current.expires_at).getTime() - cfg.renewBeforeMs);
        continue;
      }
      const renewed = current
        ? await reader.renew({ id: current.id, resourceId: current.resource_id ?? undefined }, expiresAt)
        : false;
      if (renewed) {
        await deps.db('import_channels').where({ id: current.id }).update({ expires_at: renewed.expiresAt });
        nextCheck = Math.min(nextCheck, renewed.expiresAt.getTime() - cfg.renewBeforeMs);
        continue;
      }
      // A new channel first, then the old one stops: no gap in which a change goes unnoticed.
      const secret = randomBytes(32).toString('base64url');
      const channel = await reader.watch(calendarId, {
        channelId: `calsync-${randomUUID()}`,
        address,
        secret,
        expiresAt,
      });
      await deps.db('import_channels').insert({
        id: channel.id,
        tenant_id: link.tenant_id,
        link_id: link.id,
        calendar_id: calendarId,
        provider: link.provider,
        secret_hash: sha256(secret),
        resource_id: channel.resourceId ?? null,
        expires_at: channel.expiresAt,
      });
      nextCheck = Math.min(nextCheck, channel.expiresAt.getTime() - cfg.renewBeforeMs);
      if (current) {
        await reader.stop({ id: current.id, resourceId: current.resource_id ?? undefined }).catch(() => undefined);
        await deps.db('import_channels').where({ id: current.id }).delete();
      }
    }
  });
  return { nextCheckMs: Math.max(1000, nextCheck - Date.now()) };
}
