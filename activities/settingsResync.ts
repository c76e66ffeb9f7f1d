import type { ActivityDeps } from './deps';
import { notEndedBy } from '../lib/seriesQuery';

export interface ResyncScope {
  tenantId: string;
  /** Appointments ending after this instant (the moment the settings changed) are re-synced. */
  endsAfter: string;
  /** Only these entity types (a change to their settings alone); all when absent. */
  types?: string[];
  /** Only appointments in this team calendar (its backing changed). */
  calendarId?: string;
}

function scoped(deps: ActivityDeps, scope: ResyncScope) {
  return deps
    .db('appointments')
    .where({ tenant_id: scope.tenantId })
    .whereNull('deleted_at')
    .where(notEndedBy(new Date(scope.endsAfter)))
    .modify((q) => {
      if (scope.types) q.whereIn('entity_type', scope.types);
      if (scope.calendarId) q.whereRaw(`desired->'calendarIds' @> ?::jsonb`, [JSON.stringify([scope.calendarId])]);
    });
}

export async function countResyncAppointments(deps: ActivityDeps, scope: ResyncScope): Promise<number> {
  const [row] = await scoped(deps, scope).count<{ count: string }[]>('* as count');
  return Number(row?.count ?? 0);
}

/** The next page of the appointments a settings change concerns (ids only), in id order. */
export async function resyncAppointmentsPage(
  deps: ActivityDeps,
  input: ResyncScope & { after?: string; limit: number },
): Promise<string[]> {
  return scoped(deps, input)
    .modify((q) => {
      if (input.after) q.where('id', '>', input.after);
    })
    .orderBy('id')
    .limit(input.limit)
    .pluck('id');
}
