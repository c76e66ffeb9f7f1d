import type { Knex } from 'knex';

/**
 * Appointments that have not ended by `instant`: a single one by its end, a series by its last
 * occurrence's end (`series_end_at`), one without an end (null there) never. For `where(…)` of a
 * query on `appointments` (or its alias).
 */
export function notEndedBy(instant: Date, alias?: string): (q: Knex.QueryBuilder) => void {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  return (q) => {
    q.where(column('end_at'), '>', instant).orWhere((series) => {
      series
        .whereRaw(`${column('desired')}->'recurrence' is not null`)
        .andWhere((end) => end.whereNull(column('series_end_at')).orWhere(column('series_end_at'), '>', instant));
    });
  };
}
