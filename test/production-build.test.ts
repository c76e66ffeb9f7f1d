import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import knex from 'knex';
import { ensureDatabase } from '../lib/db';
import { BUILD_DIR, ROOT, builtEntry } from '../scripts/stack';
import { googleEmulator } from './helpers/emulator';
import { startAppStack, type AppStack } from './helpers/stack';
import { TenantWorld, closeTestClients, testDb } from './helpers/world';

const run = promisify(execFile);

/**
 * What production runs: `npm run build`'s JavaScript (dist/) with plain node, no TypeScript loader.
 * The compiled migrations must find the history the sources wrote (and the other way round), and an
 * appointment must reach the calendar through the compiled API and worker, whose workflows are
 * bundled from the compiled code (not the test run's prebuilt bundle).
 */
describe('the production build', () => {
  let stack: AppStack | undefined;
  beforeAll(async () => {
    await rm(BUILD_DIR, { recursive: true, force: true });
    await run('npm', ['run', 'build'], { cwd: ROOT });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await closeTestClients();
  });

  const migrate = (databaseUrl: string, built: boolean) =>
    run(process.execPath, built ? [builtEntry('scripts/migrate.ts')] : ['--import', 'tsx', 'scripts/migrate.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
  const applied = async (databaseUrl: string) => {
    const db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
    try {
      return (await db('knex_migrations').orderBy('id').pluck('name')) as string[];
    } finally {
      await db.destroy();
    }
  };

  test('compiled migrations and the sources share one history, whichever ran first', async () => {
    // The test database was migrated from the sources: the build finds nothing to do.
    const before = await applied(process.env.DATABASE_URL!);
    expect((await migrate(process.env.DATABASE_URL!, true)).stdout).toContain('migrations: up to date');
    expect(await applied(process.env.DATABASE_URL!)).toEqual(before);

    // A database the build migrated first: the sources find nothing to do either.
    const fresh = new URL(process.env.DATABASE_URL!);
    const freshName = `${fresh.pathname.slice(1)}_built`;
    fresh.pathname = `/${freshName}`;
    const adminUrl = new URL(fresh);
    adminUrl.pathname = '/postgres';
    const admin = knex({ client: 'pg', connection: adminUrl.toString(), pool: { min: 0, max: 1 } });
    const dropFresh = () => admin.raw('drop database if exists ?? with (force)', [freshName]);
    await dropFresh();
    await ensureDatabase(fresh.toString());
    await migrate(fresh.toString(), true);
    const built = await applied(fresh.toString());
    expect(built).toEqual(before);
    await migrate(fresh.toString(), false);
    expect(await applied(fresh.toString())).toEqual(before);
    await dropFresh().finally(() => admin.destroy());
  }, 60_000);

  test('an appointment reaches the calendar through the compiled API and worker', async () => {
    stack = await startAppStack({ CALSYNC_WORKFLOW_BUNDLE: '' }, { built: true });
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('nora');
    expect((await world.put('built-1', { revision: 1, staffIds: ['nora'], title: 'Built' })).status).toBe(202);
    const synced = await world.waitSynced('built-1', 1, 60_000);
    const [event] = await googleEmulator.liveEvents(staff.calendarId);
    expect(event).toMatchObject({ id: synced.sync.targets[0].remoteId, summary: 'Built – Ana García' });
    const log = await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'built-1' });
    expect(log.map((r) => [r.action, r.result])).toEqual([['upsert', 'inserted']]);
  }, 120_000);
});
