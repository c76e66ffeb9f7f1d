import { IMPORT_OPERATIONS, googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient } from './helpers/world';
import { waitUntil } from './helpers/api';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
async function cli(world: TenantWorld, ...args: string[]) {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', 'bin', 'calsync.ts'), ...args],
    {
      env: { ...process.env, CALSYNC_API_URL: world.apiUrl, CALSYNC_API_KEY: world.key },
    },
  );
  return stdout;
}

/** Support's tools: the sync log, the failures list, replays, and Temporal UI's search attributes. */
describe('sync log, failures and replay', () => {
  const stack = useAppStack();

  async function waitState(world: TenantWorld, id: string, state: string) {
    return waitUntil(`${id} ${state}`, async () => {
      const s = await world.status(id);
      return s.sync.state === state ? s : undefined;
    });
  }

  test('a forced failure is listed and logged with its code; one batch replay fixes all, a second makes no remote call', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const broken = await world.staffWithGoogle('pia');
    await world.staffWithGoogle('quinn');
    await googleEmulator.forbidCalendar(broken.calendarId, true);

    const failing = ['f-1', 'f-2', 'f-3', 'f-4', 'f-5'];
    await Promise.all(failing.map((id) => world.put(id, { revision: 1, staffIds: ['pia'], title: id })));
    await world.put('ok-1', { revision: 1, staffIds: ['quinn'] });
    await Promise.all(failing.map((id) => waitState(world, id, 'failed')));
    await world.waitSynced('ok-1', 1);

    // The appointment's log: the attempt, the provider's code.
    const log = await world.call('GET', '/v1/appointments/f-1/log');
    expect(log.status).toBe(200);
    expect(log.body.entries).toEqual([
      expect.objectContaining({
        action: 'upsert',
        result: 'error',
        errorCode: 'forbidden',
        provider: 'google',
        revision: 1,
        attempt: 1,
      }),
    ]);

    // The failures list, filtered and paged with a cursor.
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/sync-failures?limit=2&staff=pia&code=forbidden${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await world.call('GET', q);
      expect(page.status).toBe(200);
      expect(page.body.failures.length).toBeLessThanOrEqual(2);
      all.push(...page.body.failures);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.map((f) => f.appointmentId).sort()).toEqual(failing);
    expect(all.every((f) => f.errorCode === 'forbidden' && f.staffId === 'pia' && f.provider === 'google')).toBe(true);
    expect((await world.call('GET', '/v1/sync-failures?staff=quinn')).body.failures).toEqual([]);
    expect((await world.call('GET', '/v1/sync-failures?code=rateLimitExceeded')).body.failures).toEqual([]);

    // Temporal UI's filter finds exactly the failed workflows.
    const client = await temporalClient();
    const failedIds = await waitUntil(
      'visibility to catch up',
      async () => {
        const ids: string[] = [];
        for await (const wf of client.workflow.list({
          query: `CalsyncTenant="${world.tenantId}" AND CalsyncState="failed"`,
        }))
          ids.push(wf.workflowId);
        return ids.length === failing.length ? ids : undefined;
      },
      15000,
      300,
    );
    expect(failedIds.sort()).toEqual(failing.map((id) => `appt:${world.tenantId}:${id}`).sort());

    // Fix the calendar, replay the batch.
    await googleEmulator.forbidCalendar(broken.calendarId, false);
    const replay = await world.call('POST', '/v1/sync-failures/replay', { staff: 'pia', ratePerSecond: 2 });
    expect(replay.status).toBe(202);
    const done = await waitUntil(
      'replay to complete',
      async () => {
        const p = await world.call('GET', `/v1/sync-failures/replays/${replay.body.replayId}`);
        return p.body.state === 'completed' ? p.body : undefined;
      },
      30000,
      300,
    );
    expect(done).toMatchObject({ total: failing.length, replayed: failing.length });
    await Promise.all(failing.map((id) => world.waitSynced(id, 1)));
    expect((await googleEmulator.liveEvents(broken.calendarId)).map((e) => e.summary).sort()).toEqual(
      failing.map((id) => `${id} – Ana García`),
    );
    expect((await world.call('GET', '/v1/sync-failures')).body.failures).toEqual([]);

    // A second replay, and a resync of a synced appointment, touch nothing remotely.
    await googleEmulator.resetStats(broken.email);
    const again = await world.call('POST', '/v1/sync-failures/replay', {});
    await waitUntil(
      'second replay',
      async () =>
        (await world.call('GET', `/v1/sync-failures/replays/${again.body.replayId}`)).body.state === 'completed',
      20000,
      300,
    );
    expect((await world.call('POST', '/v1/appointments/f-1/resync', {})).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    // Busy-time import may read the calendar (after a push); sync itself must not touch it.
    const byOperation = (await googleEmulator.stats(broken.email)).byOperation;
    expect(Object.keys(byOperation).filter((op) => !IMPORT_OPERATIONS.includes(op))).toEqual([]);

    // Forced, it rewrites the event (one write), still without duplicating it.
    expect((await world.call('POST', '/v1/appointments/f-1/resync', { force: true })).status).toBe(202);
    await waitUntil('forced write', async () => (await googleEmulator.stats(broken.email)).writes === 1, 10000);
    expect(await googleEmulator.liveEvents(broken.calendarId)).toHaveLength(failing.length);
  });

  test('a staff member without a calendar is a warning in the log, not a silent skip', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.staffWithGoogle('rosa');
    await world.call('PUT', '/v1/staff/sam', { name: 'Sam' });
    await world.put('w-1', { revision: 1, staffIds: ['rosa', 'sam'] });
    await world.waitSynced('w-1', 1);
    const log = await waitUntil('warning', async () => {
      const l = await world.call('GET', '/v1/appointments/w-1/log');
      return l.body.warnings.length > 0 ? l.body : undefined;
    });
    expect(log.warnings).toEqual([
      expect.objectContaining({ result: 'warning', errorCode: 'staff_without_calendar', targetKey: 'staff:sam' }),
    ]);
  });

  test('a resync restarts a closed workflow for an appointment in the past', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('tom');
    const start = new Date(Date.now() - 3 * 3600_000).toISOString();
    const end = new Date(Date.now() - 2 * 3600_000).toISOString();
    await googleEmulator.forbidCalendar(staff.calendarId, true);
    // Over long ago (more than the close delay): the workflow fails the write and stays for retries.
    await world.put('past-1', { revision: 1, staffIds: ['tom'], start, end, timeZone: 'UTC' });
    await waitState(world, 'past-1', 'failed');
    const client = await temporalClient();
    await client.workflow.getHandle(`appt:${world.tenantId}:past-1`).terminate('simulating a workflow that has closed');
    await googleEmulator.forbidCalendar(staff.calendarId, false);
    expect((await world.call('POST', '/v1/appointments/past-1/resync', {})).status).toBe(202);
    await world.waitSynced('past-1', 1);
    expect(await googleEmulator.liveEvents(staff.calendarId)).toHaveLength(1);
  });

  test('the calsync command line lists failures and replays them', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('uma');
    await googleEmulator.forbidCalendar(staff.calendarId, true);
    await world.put('cli-1', { revision: 1, staffIds: ['uma'] });
    await waitState(world, 'cli-1', 'failed');

    const listed = await cli(world, 'failures', '--staff', 'uma');
    expect(listed).toMatch(/cli-1 .*staff=uma .*forbidden/);
    expect(listed).toContain('1 failed target(s)');
    expect(await cli(world, 'log', 'cli-1')).toMatch(/r1 .*upsert .*error .*forbidden/);

    await googleEmulator.forbidCalendar(staff.calendarId, false);
    const replayed = await cli(world, 'replay', '--staff', 'uma');
    expect(replayed).toContain('completed: 1/1 appointments replayed');
    await world.waitSynced('cli-1', 1);
    expect(await cli(world, 'failures')).toContain('0 failed target(s)');
  });

  test('bad filters are 400s naming the field', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    expect((await world.call('GET', '/v1/sync-failures?since=yesterday')).body.message).toMatch(/^query\.since:/);
    expect((await world.call('GET', '/v1/sync-failures?provider=yahoo')).body.message).toMatch(/^query\.provider:/);
    expect((await world.call('GET', '/v1/sync-failures?cursor=nonsense')).body.message).toMatch(/^query\.cursor:/);
    expect((await world.call('POST', '/v1/sync-failures/replay', { provider: 'yahoo' })).body.message).toMatch(
      /^provider:/,
    );
    expect((await world.call('GET', '/v1/sync-failures?provider=email')).status).toBe(200);
    expect((await world.call('POST', '/v1/sync-failures/replay', { ratePerSecond: 1000 })).body.message).toMatch(
      /^ratePerSecond:/,
    );
    expect((await world.call('POST', '/v1/appointments/nope/resync', {})).status).toBe(404);
  });
});
