import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
 * code. Histories from this run are replayed at once; those kept in test/histories/ (one or more of
 * every workflow type, `RECORD_HISTORIES=1 npx jest test/replay.test.ts` records them afresh) catch
 * a change that would break workflows already running. Until the first release nothing runs in
 * production: workflows change freely, and a change to the commands a workflow issues re-records
 * the kept histories. From the first release on, such a change needs `patched()` (README, "Changing
 * workflows"), and the kept histories stay.
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
/** Every workflow type, by the first part of its id: each has kept histories. */
const KEPT_KINDS = ['appt', 'link', 'import', 'reconcile', 'webhook', 'replay', 'settings-resync'];
/** A kept history's file name: its workflow's kind (and appointment), numbered; re-recording replaces them. */
function historyFileName(workflowId: string, taken: Set<string>): string {
  const [kind, , id] = workflowId.split('#')[0]!.split(':');
  const base = kind === 'appt' ? `appt-${id}` : kind!;
  let n = 1;
  while (taken.has(`${base}-${n}`)) n++;
  taken.add(`${base}-${n}`);
  return `${base}-${n}.history.bin`;
}

/** A stand-in CRM webhook endpoint that takes every delivery. */
async function crmReceiver() {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function replayAll(histories: { workflowId: string; history: temporal.api.history.v1.IHistory }[]) {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: workflowBundle(), dataConverter },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return failures;
}

describe('workflow replay', () => {
  let stack: AppStack;
  let client: Client;
  beforeAll(async () => {
    stack = await startAppStack({
      CALSYNC_PAYLOAD_KEYS: FIXTURE_PAYLOAD_KEYS,
      SYNC_CONTINUE_AS_NEW_EVENTS: '60',
      OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    });
    client = new Client({
      connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
      dataConverter,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await client?.connection.close();
    await closeTestClients();
  });

  test('histories of this run replay against the current code', async () => {
    const crm = await crmReceiver();
    try {
      const world = await TenantWorld.create(stack.apiUrl, {}, client);
      const ann = await world.staffWithGoogle('ann');
      await world.staffWithGoogle('ben');
      const [annLink] = (await world.call('GET', '/v1/staff/ann/links')).body.links;
      const [benLink] = (await world.call('GET', '/v1/staff/ben/links')).body.links;

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

      // The failure and the recovery are each told to the CRM: a deliverWebhook workflow apiece.
      expect((await world.call('PUT', '/v1/settings', { webhookUrl: crm.url })).status).toBe(200);
      await googleEmulator.forbidCalendar(ann.calendarId, true);
      await world.put('broken', { revision: 1, staffIds: ['ann'] });
      await waitUntil('failure', async () => (await world.status('broken')).sync.state === 'failed');
      await googleEmulator.forbidCalendar(ann.calendarId, false);
      const replay = await world.call('POST', '/v1/sync-failures/replay', {});
      await waitUntil(
        'replay',
        async () =>
          (await world.call('GET', `/v1/sync-failures/replays/${replay.body.replayId}`)).body.state === 'completed',
      );
      await world.waitSynced('broken', 1);
      await waitUntil('webhooks delivered', async () => crm.received.length >= 2);

      // Long enough to continue as new at least once.
      for (let r = 1; r <= 8; r++) {
        await world.put('long', { revision: r, staffIds: ['ann'], title: `long ${r}` });
        await world.waitSynced('long', r);
      }

      // A settings change re-syncs the future appointments (the CRM model's settingsResync).
      await world.call('PUT', '/v1/settings', { eventContent: { title: 'Visit: {title}' } });
      await waitUntil(
        'settings re-sync',
        async () => (await world.call('GET', '/v1/settings/resync')).body.state === 'completed',
      );

      // A reconciliation pass over ann's calendar, asked for now (the interval is an hour).
      const reconcileHandle = client.workflow.getHandle(`reconcile:${world.tenantId}:${annLink.id}`);
      expect((await world.call('POST', `/v1/links/${annLink.id}/reconcile`)).status).toBe(202);
      await waitUntil('reconcile pass', async () => {
        const s = await reconcileHandle.query<{ phase: string; passes: number }>('reconcileStatus');
        return s.passes >= 1 && s.phase === 'waiting';
      });

      // Ann's link and its import workflow, running after a few import rounds; ben's, disconnected to the end.
      const importHandle = client.workflow.getHandle(`import:${world.tenantId}:${annLink.id}`);
      await waitUntil(
        'import rounds',
        async () => (await importHandle.query<{ rounds: number }>('importProgress')).rounds >= 2,
      );
      expect((await world.call('DELETE', `/v1/links/${benLink.id}`)).status).toBe(202);
      await client.workflow.getHandle(`link:${world.tenantId}:${benLink.id}`).result();
      await client.workflow.getHandle(`import:${world.tenantId}:${benLink.id}`).result();

      await client.workflow.getHandle(`reconcile:${world.tenantId}:${benLink.id}`).result();
      const webhookIds = crm.received.map((body) => `webhook:${world.tenantId}:${JSON.parse(body).id}`);
      expect(webhookIds).toHaveLength(2);
      for (const id of webhookIds) await client.workflow.getHandle(id).result();

      const linkIds = [annLink.id, benLink.id];
      const ids = [
        ...['life', 'broken', 'long'].map((a) => `appt:${world.tenantId}:${a}`),
        replay.body.workflowId,
        `settings-resync:${world.tenantId}`,
        ...linkIds.flatMap((l) => [
          `link:${world.tenantId}:${l}`,
          `import:${world.tenantId}:${l}`,
          `reconcile:${world.tenantId}:${l}`,
        ]),
        ...webhookIds,
      ];
      const histories = [];
      for (const workflowId of ids) {
        for await (const wf of client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
          histories.push({
            workflowId: `${workflowId}#${wf.runId}`,
            history: await client.workflow.getHandle(workflowId, wf.runId).fetchHistory(),
          });
        }
      }
      expect(histories.length).toBeGreaterThan(ids.length); // 'long' continued as new
      expect(await replayAll(histories)).toEqual([]);

      if (process.env.RECORD_HISTORIES) {
        mkdirSync(HISTORY_DIR, { recursive: true });
        const taken = new Set<string>();
        for (const { workflowId, history } of histories) {
          writeFileSync(
            path.join(HISTORY_DIR, historyFileName(workflowId, taken)),
            temporal.api.history.v1.History.encode(history).finish(),
          );
        }
      }
    } finally {
      await crm.close();
    }
  });

  test('histories recorded by earlier versions still replay', async () => {
    const files = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.history.bin'));
    for (const kind of KEPT_KINDS) expect(files.filter((f) => f.startsWith(`${kind}-`)).length).toBeGreaterThan(0);
    const histories = files.map((f) => ({
      workflowId: f,
      history: temporal.api.history.v1.History.decode(readFileSync(path.join(HISTORY_DIR, f))),
    }));
    expect(await replayAll(histories)).toEqual([]);
  });
});
