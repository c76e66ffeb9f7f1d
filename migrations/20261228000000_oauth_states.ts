import type { Knex } from 'knex';

/**
 * One row per started OAuth authorization (connect a calendar): the PKCE verifier stays here,
 * sealed with lib/secretBox, never in the browser. The signed `state` names the row; used_at
 * makes it single-use.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oauth_states', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable();
    t.text('staff_id').notNullable();
    t.text('provider').notNullable();
    t.text('code_verifier_sealed').notNullable();
    t.text('return_url');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'staff_id']).references(['tenant_id', 'id']).inTable('staff').onDelete('CASCADE');
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('oauth_states');
}
