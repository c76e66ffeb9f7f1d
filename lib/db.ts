import knex, { Knex } from 'knex';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export function createDb(databaseUrl: string, pool = { min: 0, max: 10 }): Knex {
  return knex({ client: 'pg', connection: databaseUrl, pool });
}

const MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');

/**
 * The migrations next to this module: TypeScript when run from the sources (tsx), JavaScript when
 * run from the production build (dist/). Each is named by its TypeScript file whatever runs it, as
 * knex_migrations has always recorded them, so either way of running finds the same history.
 */
class MigrationFiles implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    const files = await readdir(MIGRATIONS_DIR);
    return files.filter((f) => /^\d+_[\w-]+\.(ts|js)$/.test(f)).sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.js$/, '.ts');
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    return import(path.join(MIGRATIONS_DIR, file));
  }
}

export const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new MigrationFiles(),
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
