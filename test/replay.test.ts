import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { calsyncDataConverter } from '../lib/payloadCodec';
import { googleEmulator } from './helpers/emulator';
import { startAppStack, type AppStack } from './helpers/stack';
import { TenantWorld, closeTestClients } from './helpers/world';
import { waitUntil } from './helpers/api';

/**
 * Determinism: workflow histories recorded from real runs must replay against the current workflow
 * code. Histories from this run are replayed at once; those kept in test/histories/ (recorded by
 * an earlier version, `RECORD_HISTORIES=1 npx jest test/replay.test.ts` adds more) catch a change
 * that would break workflows already running in production. Use `patched()` for such a change.
 */
const HISTORY_DIR = path.join(__dirname, 'histories');
// Replay workers start and stop once per history: keep their lifecycle chatter out of the test output.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}
// A fixed, test-only payload key, so recorded histories stay readable by later runs.
const FIXTURE_PAYLOAD_KEYS = 'fixture1:Y2Fsc3luYy10ZXN0LWZpeHR1cmUta2V5LTMyYnl0ZXM=';
const dataConverter = calsyncDataConverter(FIXTURE_PAYLOAD_KEYS);
const workflowBundle = () => ({ codePath: process.env.CALSYNC_WORKFLOW_BUNDLE! });

async function replayAll(histories: { workflowId: string; history: temporal.api.history.v1.IHistory }[]) {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle(), dataConverter }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return failures;
}

describe('workflow replay', () => {
  let stack: AppStack;
  let client: Client;
  beforeAll(async () => {
    stack = await startAppStack({ CALSYNC_PAYLOAD_KEYS: FIXTURE_PAYLOAD_KEYS, SYNC_CONTINUE_AS_NEW_EVENTS: '60' });
    client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }), dataConverter });
  });
  afterAll(async () => {
    await stack?.stop();
    await client?.connection.close();
    await closeTestClients();
  });

  test('histories of this run replay against the current code', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {}, client);
    const ann = await world.staffWithGoogle('ann');
    await world.staffWithGoogle('ben');

    // A life with every kind of step: burst, reassignment, cancel, delete, failure and replay.
    await world.put('life', { revision: 1, staffIds: ['ann'] });
    await world.waitSynced('life', 1);
    for (let r = 2; r <= 6; r++) await world.put('life', { revision: r, staffIds: ['ann'], title: `r${r}` });
    await world.waitSynced('life', 6);
    await world.put('life', { revision: 7, staffIds: ['ben'] });
    await world.waitSynced('life', 7);
    await world.call('POST', '/v1/appointments/life/cancel', { revision: 8 });
    await world.waitSynced('life', 8);
    await world.call('DELETE', '/v1/appointments/life?revision=9');
    await world.waitSynced('life', 9);

    await googleEmulator.forbidCalendar(ann.calendarId, true);
    await world.put('broken', { revision: 1, staffIds: ['ann'] });
    await waitUntil('failure', async () => (await world.status('broken')).sync.state === 'failed');
    await googleEmulator.forbidCalendar(ann.calendarId, false);
    const replay = await world.call('POST', '/v1/sync-failures/replay', {});
    await waitUntil('replay', async () => (await world.call('GET', `/v1/sync-failures/replays/${replay.body.replayId}`)).body.state === 'completed');
    await world.waitSynced('broken', 1);

    // Long enough to continue as new at least once.
    for (let r = 1; r <= 8; r++) {
      await world.put('long', { revision: r, staffIds: ['ann'], title: `long ${r}` });
      await world.waitSynced('long', r);
    }

    // A settings change re-syncs the future appointments (the CRM model's settingsResync).
    await world.call('PUT', '/v1/settings', { eventContent: { title: 'Visit: {title}' } });
    await waitUntil('settings re-sync', async () => (await world.call('GET', '/v1/settings/resync')).body.state === 'completed');

    // The link's workflow (with the busy-import patch) and the import workflow it started, after a few rounds.
    const [annLink] = (await world.call('GET', '/v1/staff/ann/links')).body.links;
    const importHandle = client.workflow.getHandle(`import:${world.tenantId}:${annLink.id}`);
    await waitUntil('import rounds', async () => (await importHandle.query<{ rounds: number }>('importProgress')).rounds >= 2);

    const ids = [`appt:${world.tenantId}:life`, `appt:${world.tenantId}:broken`, `appt:${world.tenantId}:long`, replay.body.workflowId, `link:${world.tenantId}:${annLink.id}`, `import:${world.tenantId}:${annLink.id}`, `settings-resync:${world.tenantId}`];
    const histories = [];
    for (const workflowId of ids) {
      for await (const wf of client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
        histories.push({ workflowId: `${workflowId}#${wf.runId}`, history: await client.workflow.getHandle(workflowId, wf.runId).fetchHistory() });
      }
    }
    expect(histories.length).toBeGreaterThan(ids.length); // 'long' continued as new
    expect(await replayAll(histories)).toEqual([]);

    if (process.env.RECORD_HISTORIES) {
      mkdirSync(HISTORY_DIR, { recursive: true });
      for (const { workflowId, history } of histories) {
        const name = workflowId.split(':').at(-1)!.replace(/[^A-Za-z0-9-]/g, '_');
        writeFileSync(path.join(HISTORY_DIR, `${name}.history.bin`), temporal.api.history.v1.History.encode(history).finish());
      }
    }
  });

  test('histories recorded by earlier versions still replay', async () => {
    const files = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.history.bin'));
    expect(files.length).toBeGreaterThan(0);
    const histories = files.map((f) => ({ workflowId: f, history: temporal.api.history.v1.History.decode(readFileSync(path.join(HISTORY_DIR, f))) }));
    expect(await replayAll(histories)).toEqual([]);
  });
});
