import type { Knex } from 'knex';

/**
 * Per remote account (provider + address): the next free request slot. Every worker process reserves
 * its slots here, so calsync keeps within a provider's per-user limits per account, not per process.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('account_pacing', (t) => {
    t.text('account_key').primary();
    t.timestamp('next_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('account_pacing');
}
