import type { Knex } from 'knex';

/**
 * Busy time imported from staff calendars: only intervals and their free/busy status (titles only
 * when the tenant asks), where each calendar's incremental sync stands, and the push channels.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('imported_busy', (t) => {
    t.text('tenant_id').notNullable();
    t.text('staff_id').notNullable();
    t.text('link_id').notNullable().references('calendar_links.id').onDelete('CASCADE');
    t.text('calendar_id').notNullable();
    // The provider's id of the event, or of the occurrence of a recurring series.
    t.text('remote_id').notNullable();
    t.text('series_id');
    t.timestamp('start_at', { useTz: true }).notNullable();
    t.timestamp('end_at', { useTz: true }).notNullable();
    t.boolean('all_day').notNullable().defaultTo(false);
    // busy | tentative | oof | free (transparent, working elsewhere, declined): free never blocks.
    t.text('show_as').notNullable();
    t.text('title');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['link_id', 'calendar_id', 'remote_id']);
    t.index(['tenant_id', 'staff_id', 'start_at']);
  });

  await knex.schema.createTable('import_cursors', (t) => {
    t.text('link_id').notNullable().references('calendar_links.id').onDelete('CASCADE');
    t.text('calendar_id').notNullable();
    // Google's nextSyncToken or Graph's deltaLink; null: the next pass is a full sync.
    t.text('cursor');
    t.timestamp('window_start', { useTz: true });
    t.timestamp('window_end', { useTz: true });
    t.timestamp('full_synced_at', { useTz: true });
    t.timestamp('synced_at', { useTz: true });
    t.integer('full_syncs').notNullable().defaultTo(0);
    t.primary(['link_id', 'calendar_id']);
  });

  await knex.schema.createTable('import_channels', (t) => {
    // Google's channel id or Graph's subscription id: what a notification names.
    t.text('id').primary();
    t.text('tenant_id').notNullable();
    t.text('link_id').notNullable().references('calendar_links.id').onDelete('CASCADE');
    t.text('calendar_id').notNullable();
    t.text('provider').notNullable();
    // SHA-256 of the channel token / clientState: compared on every notification.
    t.text('secret_hash').notNullable();
    t.text('resource_id');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['link_id']);
  });

  // The calendars a link imports busy time from; null: the account's primary calendar.
  await knex.schema.alterTable('calendar_links', (t) => {
    t.jsonb('import_calendar_ids');
  });
  // Imported events that are calsync's own (found by remote id) are never counted twice.
  await knex.schema.alterTable('appointment_targets', (t) => {
    t.index(['tenant_id', 'remote_id'], 'appointment_targets_remote_id_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('appointment_targets', (t) =>
    t.dropIndex(['tenant_id', 'remote_id'], 'appointment_targets_remote_id_idx'),
  );
  await knex.schema.alterTable('calendar_links', (t) => t.dropColumn('import_calendar_ids'));
  for (const table of ['import_channels', 'import_cursors', 'imported_busy'])
    await knex.schema.dropTableIfExists(table);
}
