import type { Knex } from 'knex';

/** Each staff member's working hours (weekly hours in their zone, date overrides, days off) for availability. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.jsonb('working_hours');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.dropColumn('working_hours');
  });
}
