import type { Knex } from 'knex';

/** Request ids carried from the API to every sync attempt, and when each API key was last used (rotation aid). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sync_log', (t) => {
    t.text('request_id');
  });
  await knex.schema.alterTable('api_keys', (t) => {
    t.timestamp('last_used_at', { useTz: true });
    t.index(['tenant_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropIndex(['tenant_id']);
    t.dropColumn('last_used_at');
  });
  await knex.schema.alterTable('sync_log', (t) => {
    t.dropColumn('request_id');
  });
}
