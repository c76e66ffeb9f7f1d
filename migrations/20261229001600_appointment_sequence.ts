import type { Knex } from 'knex';

/**
 * calsync's own count of accepted changes per appointment: the SEQUENCE of staff feeds (an RFC 5545
 * INTEGER is 32-bit; the CRM's revision may be epoch milliseconds). Starts at 0, +1 per accepted
 * revision, and stops at 2^31 − 1.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('appointments', (t) => {
    t.integer('sequence').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('appointments', (t) => {
    t.dropColumn('sequence');
  });
}
