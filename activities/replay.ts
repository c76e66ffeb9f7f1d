import { requestResync } from '../workflows/appointmentSync/client';
import { countFailedAppointments, listFailures, type FailureFilter } from '../lib/failures';
import type { DesiredAppointment } from '../lib/types';
import type { ActivityDeps } from './deps';

export async function countFailures(
  deps: ActivityDeps,
  input: { tenantId: string; filter: FailureFilter },
): Promise<number> {
  return countFailedAppointments(deps.db, input.tenantId, input.filter);
}

/** The next page of failed appointments (ids only: the workflow needs nothing personal). */
export async function nextFailedAppointments(
  deps: ActivityDeps,
  input: { tenantId: string; filter: FailureFilter; cursor?: string; limit: number },
) {
  const page = await listFailures(deps.db, input.tenantId, input.filter, { limit: input.limit, cursor: input.cursor });
  return { appointmentIds: [...new Set(page.failures.map((f) => f.appointmentId))], nextCursor: page.nextCursor };
}

/**
 * Asks each appointment's workflow (restarting a closed one) to retry its targets that are not in
 * step; with `force`, to rewrite every target (their content depends on settings that changed).
 */
export async function resyncAppointments(
  deps: ActivityDeps,
  input: { tenantId: string; appointmentIds: string[]; force?: boolean },
): Promise<number> {
  const rows = await deps
    .db('appointments')
    .where({ tenant_id: input.tenantId })
    .whereIn('id', input.appointmentIds)
    .select('desired');
  const routing = { taskQueue: deps.config.taskQueue, policy: deps.config.sync };
  await Promise.all(
    rows.map((r: { desired: DesiredAppointment }) =>
      requestResync(deps.temporal, routing, r.desired, input.force ? { force: true } : {}),
    ),
  );
  return rows.length;
}
