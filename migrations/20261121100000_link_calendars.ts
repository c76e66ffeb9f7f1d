import type { Knex } from 'knex';

/**
 * A link's target calendar: `calendar_owned` when calsync made it (a dedicated calendar, deleted as a
 * whole on disconnect); `calendar_ready` once the calendar is known (a new dedicated link starts
 * 'connecting' and its workflow provisions the calendar). Links from before are ready, not owned.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calendar_links', (t) => {
    t.boolean('calendar_owned').notNullable().defaultTo(false);
    t.boolean('calendar_ready').notNullable().defaultTo(true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calendar_links', (t) => {
    t.dropColumn('calendar_owned');
    t.dropColumn('calendar_ready');
  });
}
