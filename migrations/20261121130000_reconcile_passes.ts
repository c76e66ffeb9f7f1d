import type { Knex } from 'knex';

/**
 * Reconciliation of calsync's own events, one pass per calendar link at a time: what each pass
 * found and did (the counts support and the CRM read), and the appointments a running pass has
 * seen in the remote calendar (so a pass of any size pages without holding them in its workflow).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reconcile_passes', (t) => {
    t.uuid('id').primary();
    t.text('tenant_id').notNullable();
    t.text('link_id').notNullable();
    t.text('target_key').notNullable();
    /** `schedule` (the interval) or `request` (POST /v1/links/:id/reconcile). */
    t.text('trigger').notNullable();
    /** `running`, `completed`, `failed`, `skipped` (the link could not be read, e.g. needs_reauth). */
    t.text('state').notNullable();
    t.text('detail');
    t.boolean('restore').notNullable();
    t.integer('listed').notNullable().defaultTo(0);
    t.integer('in_step').notNullable().defaultTo(0);
    t.integer('changed').notNullable().defaultTo(0);
    t.integer('missing').notNullable().defaultTo(0);
    t.integer('restore_requested').notNullable().defaultTo(0);
    t.integer('drift_recorded').notNullable().defaultTo(0);
    t.integer('orphans_removed').notNullable().defaultTo(0);
    /** In step but without the owner tag (written before calsync tagged its events): rewritten with it. */
    t.integer('untagged').notNullable().defaultTo(0);
    /** Events whose target is being written right now: the appointment workflow has them in hand. */
    t.integer('in_flight').notNullable().defaultTo(0);
    t.integer('pages').notNullable().defaultTo(0);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['tenant_id', 'link_id', 'started_at']);
  });
  await knex.schema.createTable('reconcile_seen', (t) => {
    t.uuid('pass_id').notNullable().references('reconcile_passes.id').onDelete('CASCADE');
    t.text('appointment_id').notNullable();
    t.primary(['pass_id', 'appointment_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('reconcile_seen');
  await knex.schema.dropTableIfExists('reconcile_passes');
}
