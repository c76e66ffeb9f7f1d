import type { Knex } from 'knex';

/**
 * What the attendees of an appointment's event were last told (by the provider, on calsync's
 * request), per target: a fingerprint of what they care about. A rewrite that changes none of it
 * (a new title template, a re-sync) tells them nothing, so bulk re-syncs send no invitation spam.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attendee_notices', (t) => {
    t.text('tenant_id').notNullable();
    t.text('appointment_id').notNullable();
    t.text('target_key').notNullable();
    t.text('fingerprint').notNullable();
    t.timestamp('notified_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'appointment_id', 'target_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('attendee_notices');
}
