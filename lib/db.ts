import knex, { Knex } from 'knex';
import path from 'node:path';

export function createDb(databaseUrl: string, pool = { min: 0, max: 10 }): Knex {
  return knex({ client: 'pg', connection: databaseUrl, pool });
}

export const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(__dirname, '..', 'migrations'),
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
};

/** Creates the database named in the URL when it does not exist yet (local development and tests). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const admin = knex({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
  try {
    const found = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if (found.rows.length === 0) await admin.raw('create database ??', [name]);
  } finally {
    await admin.destroy();
  }
}

export async function migrateLatest(db: Knex): Promise<void> {
  await db.migrate.latest(migrationConfig);
}
