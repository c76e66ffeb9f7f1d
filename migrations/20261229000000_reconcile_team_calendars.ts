import type { Knex } from 'knex';

/**
 * A link's reconciliation pass covers every remote calendar calsync writes through the link: its
 * own calendar and the team calendars it backs. The pass keeps that list (fixed when the pass
 * begins), and what it has seen is kept per calendar.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('reconcile_passes', (t) => {
    /** `[{ calendarId, targetKey, teamCalendarId? }]`; null for passes before this change (the link's own calendar). */
    t.jsonb('calendars');
  });
  await knex.schema.alterTable('reconcile_seen', (t) => {
    t.dropPrimary();
  });
  await knex.schema.alterTable('reconcile_seen', (t) => {
    t.text('target_key').notNullable().defaultTo('');
    t.primary(['pass_id', 'target_key', 'appointment_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('reconcile_seen').delete();
  await knex.schema.alterTable('reconcile_seen', (t) => {
    t.dropPrimary();
    t.dropColumn('target_key');
  });
  await knex.schema.alterTable('reconcile_seen', (t) => {
    t.primary(['pass_id', 'appointment_id']);
  });
  await knex.schema.alterTable('reconcile_passes', (t) => {
    t.dropColumn('calendars');
  });
}
