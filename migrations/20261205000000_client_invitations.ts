import type { Knex } from 'knex';

/**
 * Every iMIP message sent (or being sent) to a client, one row per SEQUENCE of the appointment's
 * invitation. A row is reserved before the SMTP call (sent_at null) and stamped after it, so a
 * retried activity never sends the same sequence twice as a new message, and the next SEQUENCE is
 * always max + 1, whatever happened to the workflow in between.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('client_invitations', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable();
    t.text('appointment_id').notNullable();
    t.text('email').notNullable();
    t.text('uid').notNullable();
    t.integer('sequence').notNullable();
    t.text('method').notNullable();
    t.text('message_id').notNullable();
    t.text('content_hash').notNullable();
    t.bigInteger('revision');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.unique(['tenant_id', 'appointment_id', 'sequence']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('client_invitations');
}
