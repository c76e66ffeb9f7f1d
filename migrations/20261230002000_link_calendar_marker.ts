import type { Knex } from 'knex';

/**
 * A link's own calendar marker: an unguessable value written into the dedicated calendar calsync
 * makes for it (Google: its description; Graph: an extended property). calsync adopts and deletes only
 * a calendar carrying its link's marker, so one tenant can never take or delete another's calendar
 * by giving its business the same name. Links from before it have none: their calendars are never deleted.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calendar_links', (t) => {
    t.text('calendar_marker');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calendar_links', (t) => {
    t.dropColumn('calendar_marker');
  });
}
