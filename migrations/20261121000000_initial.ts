import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    // Tenant settings (cancelled-event display, ...); validated by the API before they are stored.
    t.jsonb('settings').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    // Only the SHA-256 of the key is kept; the key itself is shown once, at creation.
    t.text('key_hash').notNullable().unique();
    t.text('scope').notNullable().defaultTo('tenant');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });

  await knex.schema.createTable('staff', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('id').notNullable();
    t.text('name').notNullable();
    t.text('email');
    t.text('time_zone');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'id']);
  });

  await knex.schema.createTable('calendar_links', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable();
    t.text('staff_id').notNullable();
    t.text('provider').notNullable();
    t.text('account_email').notNullable();
    t.text('calendar_id').notNullable();
    t.text('status').notNullable().defaultTo('active');
    t.text('status_reason');
    // Sealed with lib/secretBox (AES-256-GCM, key id inside the value).
    t.text('refresh_token_sealed');
    t.text('access_token_sealed');
    t.timestamp('access_token_expires_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'staff_id']).references(['tenant_id', 'id']).inTable('staff').onDelete('CASCADE');
    t.index(['tenant_id', 'staff_id']);
  });

  // The appointment projection: the latest desired state the CRM sent, for status, feeds and backfill.
  await knex.schema.createTable('appointments', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('id').notNullable();
    t.bigInteger('revision').notNullable();
    t.text('content_hash').notNullable();
    t.text('entity_type').notNullable();
    t.text('status').notNullable();
    t.timestamp('start_at', { useTz: true }).notNullable();
    t.timestamp('end_at', { useTz: true }).notNullable();
    t.specificType('staff_ids', 'text[]').notNullable();
    t.jsonb('desired').notNullable();
    t.timestamp('deleted_at', { useTz: true });
    t.timestamp('accepted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'id']);
    t.index(['tenant_id', 'end_at']);
  });
  await knex.raw('create index appointments_staff_idx on appointments using gin (staff_ids)');

  // Where each appointment stands on each remote target (one staff calendar link, ...).
  await knex.schema.createTable('appointment_targets', (t) => {
    t.text('tenant_id').notNullable();
    t.text('appointment_id').notNullable();
    t.text('target_key').notNullable();
    t.text('provider').notNullable();
    t.text('link_id');
    t.text('calendar_id');
    t.text('remote_id');
    t.boolean('remote_exists').notNullable().defaultTo(false);
    t.bigInteger('applied_revision');
    t.text('applied_mode');
    t.text('state').notNullable();
    t.text('last_error_code');
    t.text('last_error_message');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'appointment_id', 'target_key']);
    t.index(['state']);
  });

  // One row per attempt per target: the audit trail support reads and replays from.
  await knex.schema.createTable('sync_log', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable();
    t.text('appointment_id').notNullable();
    t.text('target_key').notNullable();
    t.text('provider').notNullable();
    t.text('action').notNullable();
    t.text('result').notNullable();
    t.text('error_code');
    t.text('error_message');
    t.text('remote_id');
    t.bigInteger('revision');
    t.integer('attempt');
    t.integer('duration_ms');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'appointment_id', 'id']);
    t.index(['result', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'sync_log',
    'appointment_targets',
    'appointments',
    'calendar_links',
    'api_keys',
    'staff',
    'tenants',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
