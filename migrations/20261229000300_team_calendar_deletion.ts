import type { Knex } from 'knex';

/**
 * A deleted team calendar is kept (deleted_at) until its events have left the remote calendar and
 * calsync's shares of it are taken back; saving it again brings it back.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('team_calendars', (t) => {
    t.timestamp('deleted_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('team_calendars', (t) => {
    t.dropColumn('deleted_at');
  });
}
