import type { Knex } from 'knex';

/**
 * Where calsync's shares of a team calendar were made (link and remote calendar), so that moving the
 * team calendar to another account or calendar takes them back there before sharing the new one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('team_calendars', (t) => {
    t.text('shared_link_id');
    t.text('shared_calendar_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('team_calendars', (t) => {
    t.dropColumn('shared_link_id');
    t.dropColumn('shared_calendar_id');
  });
}
