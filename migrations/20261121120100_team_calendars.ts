import type { Knex } from 'knex';

/**
 * Team calendars: a tenant's own calendars (one per department, office or technician), each backed
 * by one connected account (a calendar link) and one remote calendar in it, with members.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('team_calendars', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('id').notNullable();
    t.text('name').notNullable();
    t.text('link_id').notNullable();
    /** The remote calendar in the link's account; the link's own calendar when null. */
    t.text('remote_calendar_id');
    t.jsonb('members').notNullable().defaultTo('[]');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'id']);
    t.index(['link_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('team_calendars');
}
