import type { Knex } from 'knex';

/** The API's request counts per key and window, shared by every API replica. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_rate_limits', (t) => {
    /** `key:<hash of the API key>` or `ip:<client address>`: never the key itself. */
    t.text('key').primary();
    t.integer('hits').notNullable();
    t.timestamp('resets_at', { useTz: true }).notNullable();
    t.index(['resets_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_rate_limits');
}
