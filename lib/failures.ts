import type { Knex } from 'knex';
import type { ProviderName } from './types';

/** Which failed targets support is looking at; every field narrows the list. */
export interface FailureFilter {
  since?: string;
  provider?: ProviderName;
  staff?: string;
  code?: string;
}

export interface FailurePage {
  failures: Failure[];
  nextCursor: string | null;
}

export interface Failure {
  appointmentId: string;
  targetKey: string;
  provider: string;
  linkId: string | null;
  staffId: string | null;
  calendarId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  appliedRevision: number | null;
  failedAt: string;
}

interface Cursor {
  u: string;
  a: string;
  t: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof c?.u === 'string' && typeof c?.a === 'string' && typeof c?.t === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

function filtered(db: Knex, tenantId: string, filter: FailureFilter) {
  return db('appointment_targets as t')
    .leftJoin('calendar_links as l', 'l.id', 't.link_id')
    .where('t.tenant_id', tenantId)
    .where('t.state', 'failed')
    .modify((q) => {
      if (filter.since) q.where('t.updated_at', '>=', filter.since);
      if (filter.provider) q.where('t.provider', filter.provider);
      if (filter.staff) q.where('l.staff_id', filter.staff);
      if (filter.code) q.where('t.last_error_code', filter.code);
    });
}

/**
 * Targets whose last attempt failed for good, newest first, with keyset pagination (the cursor
 * carries the full-precision timestamp, so rows updated in the same millisecond are not skipped).
 */
export async function listFailures(
  db: Knex,
  tenantId: string,
  filter: FailureFilter,
  page: { limit: number; cursor?: string },
): Promise<FailurePage> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  const rows = await filtered(db, tenantId, filter)
    .modify((q) => {
      if (after)
        q.whereRaw('(t.updated_at, t.appointment_id, t.target_key) < (?::timestamptz, ?, ?)', [
          after.u,
          after.a,
          after.t,
        ]);
    })
    .orderBy([
      { column: 't.updated_at', order: 'desc' },
      { column: 't.appointment_id', order: 'desc' },
      { column: 't.target_key', order: 'desc' },
    ])
    .limit(page.limit + 1)
    .select('t.*', 'l.staff_id', db.raw('t.updated_at::text as updated_key'));
  const failures = rows.slice(0, page.limit).map((r: any): Failure => ({
    appointmentId: r.appointment_id,
    targetKey: r.target_key,
    provider: r.provider,
    linkId: r.link_id,
    staffId: r.staff_id ?? null,
    calendarId: r.calendar_id,
    errorCode: r.last_error_code,
    errorMessage: r.last_error_message,
    attempts: r.attempts,
    appliedRevision: r.applied_revision === null ? null : Number(r.applied_revision),
    failedAt: new Date(r.updated_at).toISOString(),
  }));
  const last = rows[page.limit - 1];
  return {
    failures,
    nextCursor:
      rows.length > page.limit && last
        ? encodeCursor({ u: last.updated_key, a: last.appointment_id, t: last.target_key })
        : null,
  };
}

export async function countFailedAppointments(db: Knex, tenantId: string, filter: FailureFilter): Promise<number> {
  const [row] = await filtered(db, tenantId, filter).countDistinct<{ count: string }[]>('t.appointment_id as count');
  return Number(row?.count ?? 0);
}
