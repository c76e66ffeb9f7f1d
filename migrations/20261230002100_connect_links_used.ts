import type { Knex } from 'knex';

/** Connect-page URLs already opened: each works once (its nonce is kept until the URL would have expired). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('connect_links_used', (t) => {
    t.text('nonce').primary();
    t.text('tenant_id').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('connect_links_used');
}
