import type { Knex } from 'knex';

/** Subscription feed tokens: unguessable, revocable, stored only as their SHA-256. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feed_tokens', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable();
    t.text('staff_id').notNullable();
    t.text('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
    t.foreign(['tenant_id', 'staff_id']).references(['tenant_id', 'id']).inTable('staff').onDelete('CASCADE');
    t.index(['tenant_id', 'staff_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('feed_tokens');
}
