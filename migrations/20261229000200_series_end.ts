import type { Knex } from 'knex';
import { seriesEnd } from '../lib/recurrence';

/**
 * When a recurring appointment's last occurrence ends (null: the series has no end). Until now a
 * series counted as never ended, so settings re-syncs, link backfills and reconciliation kept
 * touching series long finished.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('appointments', (t) => {
    t.timestamp('series_end_at', { useTz: true });
  });
  // The series accepted before: their ends, a batch at a time.
  let after = '';
  for (;;) {
    const rows = await knex('appointments')
      .whereRaw(`desired->'recurrence' is not null`)
      .whereRaw(`tenant_id || '/' || id > ?`, [after])
      .orderByRaw(`tenant_id || '/' || id`)
      .limit(500)
      .select('tenant_id', 'id', 'desired');
    if (rows.length === 0) break;
    for (const row of rows) {
      const end = seriesEnd(row.desired);
      if (end)
        await knex('appointments').where({ tenant_id: row.tenant_id, id: row.id }).update({ series_end_at: end });
    }
    after = `${rows.at(-1).tenant_id}/${rows.at(-1).id}`;
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('appointments', (t) => {
    t.dropColumn('series_end_at');
  });
}
