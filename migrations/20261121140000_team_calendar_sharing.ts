import type { Knex } from 'knex';

/** Who calsync shared each team calendar with (so it only ever unshares its own shares), and how that went. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('team_calendars', (t) => {
    t.jsonb('shared_with').notNullable().defaultTo('[]');
    t.text('sharing_error');
    t.timestamp('shared_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('team_calendars', (t) => {
    t.dropColumn('shared_with');
    t.dropColumn('sharing_error');
    t.dropColumn('shared_at');
  });
}
