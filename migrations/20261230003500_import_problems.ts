import type { Knex } from 'knex';

/**
 * What an import pass could not take in full, per calendar: remote id → why (a series cut at a
 * bound, an event that cannot be read). Shown with the calendar's import status; null: nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('import_cursors', (t) => {
    t.jsonb('problems');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('import_cursors', (t) => {
    t.dropColumn('problems');
  });
}
