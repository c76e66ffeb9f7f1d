import type { Knex } from 'knex';

/**
 * Appointments that have not ended by `instant`: a single one by its end, a series always (its
 * `end_at` is its first occurrence's end; a series may run on without end). For `where(…)` of a
 * query on `appointments` (or its alias).
 */
export function notEndedBy(instant: Date, alias?: string): (q: Knex.QueryBuilder) => void {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  return (q) => {
    q.where(column('end_at'), '>', instant).orWhereRaw(`${column('desired')}->'recurrence' is not null`);
  };
}
