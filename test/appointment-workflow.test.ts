import { randomUUID } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { CalsyncActivities } from '../activities';
import type { PushInput } from '../activities/push';
import type { TargetPlan } from '../activities/targets';
import { CalsyncEntityId, CalsyncState, CalsyncTenant } from '../lib/searchAttributes';
import type { DesiredAppointment, SyncPolicy, TargetSpec } from '../lib/types';
import { temporalBinary } from '../scripts/stack';
import {
  appointmentWorkflowId,
  desiredStateSignal,
  resyncSignal,
  syncStatusQuery,
  type AppointmentSyncInput,
} from '../workflows/appointmentSync/contract';
import type { appointmentSync } from '../workflows/appointmentSync/workflow';
import { waitUntil } from './helpers/api';

/**
 * appointmentSync on a Temporal server of its own, with in-test fakes for its activities: what the
 * end-to-end suite cannot wait for (a failed target's retry, closing after the appointment ends,
 * continue-as-new). Temporal's time-skipping test server is a separate download this machine cannot
 * make, so this runs on the pinned Temporal CLI's dev server (the suite's own binary) in real time,
 * with the intervals (configuration, SyncPolicy) set to a second or two.
 */

// The fakes' planned failures are no news: only errors reach the test output.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed in this process
}

const TENANT = 't-wf';
const target: TargetSpec = {
  targetKey: 'cal:one',
  kind: 'calendar',
  provider: 'google',
  linkId: 'l1',
  calendarId: 'c1',
  remoteId: 'r1',
};

/** What each fake activity saw, and how pushToTarget should answer, per appointment. */
interface Fake {
  pushes: { at: number; revision: number; mode: string }[];
  plans: number;
  failPushes: number;
}
const fakes = new Map<string, Fake>();
const fakeOf = (appointmentId: string) => {
  let fake = fakes.get(appointmentId);
  if (!fake) fakes.set(appointmentId, (fake = { pushes: [], plans: 0, failPushes: 0 }));
  return fake;
};

const activities: Partial<CalsyncActivities> = {
  async planTargets({ appointmentId, staffIds }): Promise<TargetPlan> {
    fakeOf(appointmentId).plans++;
    return {
      storedTargets: [],
      targets: staffIds.length ? [target] : [],
      staffWithoutCalendar: [],
      settings: {
        cancelledEvents: 'remove',
        notifyCrm: false,
        clientInvitations: { enabled: false, onCreate: true, onChange: true, onCancel: true },
      },
    };
  },
  async recordWarnings() {},
  async pushToTarget(input: PushInput) {
    const fake = fakeOf(input.desired.appointmentId);
    fake.pushes.push({ at: Date.now(), revision: input.desired.revision, mode: input.mode });
    if (fake.failPushes > 0) {
      fake.failPushes--;
      throw ApplicationFailure.nonRetryable('the calendar refuses the write', 'forbidden');
    }
    return { remoteExists: input.mode !== 'remove' } as Awaited<ReturnType<CalsyncActivities['pushToTarget']>>;
  },
};

const policy = (over: Partial<SyncPolicy> = {}): SyncPolicy => ({
  coalesceMs: 20,
  coalesceMaxMs: 100,
  closeAfterEndMs: 3600_000,
  activityMaxAttempts: 1,
  activityInitialRetryMs: 50,
  activityMaxRetryMs: 100,
  activityTimeoutMs: 10_000,
  continueAsNewAfterEvents: 4000,
  failedTargetRetryMs: 600_000,
  ...over,
});

const desired = (appointmentId: string, revision: number, endInMs = 3600_000): DesiredAppointment => ({
  tenantId: TENANT,
  appointmentId,
  revision,
  type: 'appointment',
  status: 'scheduled',
  start: new Date(Date.now() - 60_000).toISOString(),
  end: new Date(Date.now() + endInMs).toISOString(),
  timeZone: 'UTC',
  services: ['visit'],
  staffIds: ['ann'],
  deleted: false,
});

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `wf-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: [CalsyncTenant, CalsyncEntityId, CalsyncState],
    },
  });
  // The suite bundles the workflows once (globalSetup); alone, this file bundles them itself.
  const workflowBundle = process.env.CALSYNC_WORKFLOW_BUNDLE
    ? { codePath: process.env.CALSYNC_WORKFLOW_BUNDLE }
    : await bundleWorkflowCode({
        workflowsPath: require.resolve('../workflows'),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
      });
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function start(appointmentId: string, syncPolicy: SyncPolicy, first: DesiredAppointment) {
  const input: AppointmentSyncInput = { tenantId: TENANT, appointmentId, policy: syncPolicy };
  return env.client.workflow.signalWithStart<typeof appointmentSync, [DesiredAppointment]>('appointmentSync', {
    workflowId: appointmentWorkflowId(TENANT, appointmentId),
    taskQueue,
    args: [input],
    signal: desiredStateSignal,
    signalArgs: [first],
  });
}

describe('appointmentSync on a Temporal server (activities faked)', () => {
  test('a target that failed permanently is tried again failedTargetRetryMs later, and recovers', async () => {
    const retryMs = 1500;
    fakeOf('retry-1').failPushes = 1;
    const handle = await start('retry-1', policy({ failedTargetRetryMs: retryMs }), desired('retry-1', 1));
    const failed = await waitUntil(
      'failed',
      async () => (await handle.query(syncStatusQuery)).targets.find((t) => t.state === 'failed'),
      10_000,
      50,
    );
    expect(failed.lastError).toMatchObject({ code: 'forbidden' });
    expect((await handle.describe()).typedSearchAttributes.get(CalsyncState)).toBe('failed');

    await waitUntil(
      'recovered',
      async () => (await handle.query(syncStatusQuery)).targets.every((t) => t.state === 'synced'),
      10_000,
      50,
    );
    const [first, second, ...more] = fakeOf('retry-1').pushes;
    expect(more).toEqual([]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(retryMs);
    expect(second!.at - first!.at).toBeLessThan(retryMs + 3000);
    expect((await handle.describe()).typedSearchAttributes.get(CalsyncState)).toBe('synced');
    await handle.terminate('test done');
  });

  test('the workflow closes closeAfterEndMs after the appointment ends', async () => {
    const closeAfterEndMs = 1500;
    const state = desired('close-1', 1, 500);
    const handle = await start('close-1', policy({ closeAfterEndMs }), state);
    expect(await handle.result()).toBe('closed');
    const description = await handle.describe();
    expect(description.closeTime!.getTime()).toBeGreaterThanOrEqual(Date.parse(state.end) + closeAfterEndMs);
    expect(description.closeTime!.getTime()).toBeLessThan(Date.parse(state.end) + closeAfterEndMs + 3000);
    expect(description.typedSearchAttributes.get(CalsyncState)).toBe('closed');
    expect(fakeOf('close-1').pushes).toHaveLength(1);
  });

  test('continue-as-new carries the desired state and the target statuses', async () => {
    // A round done within one workflow task sees the history as that task began (3 events): a low bound.
    const handle = await start('can-1', policy({ continueAsNewAfterEvents: 2 }), desired('can-1', 3));
    const firstRunId = handle.signaledRunId;
    const continued = await waitUntil(
      'continued as new',
      async () => {
        const d = await handle.describe();
        return d.runId !== firstRunId ? d : undefined;
      },
      10_000,
      50,
    );
    expect(continued.status.name).toBe('RUNNING');

    // What the first run handed over.
    const history = await env.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    const last = history.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes!;
    const [carriedInput] = last.input!.payloads!.map((p) =>
      defaultPayloadConverter.fromPayload<AppointmentSyncInput>(p),
    );
    expect(carriedInput!.carried).toMatchObject({
      desired: { revision: 3 },
      targets: [{ targetKey: 'cal:one', state: 'synced', appliedRevision: 3 }],
      dirty: false,
    });

    // The new run knows it: an older revision changes nothing, a resync finds the target in step.
    await handle.signal(desiredStateSignal, desired('can-1', 2));
    expect(fakeOf('can-1').plans).toBe(1);
    await handle.signal(resyncSignal, {});
    await waitUntil(
      'resync round',
      async () => {
        const s = await handle.query(syncStatusQuery);
        return fakeOf('can-1').plans === 2 && !s.busy ? s : undefined;
      },
      10_000,
      50,
    );
    const after = await handle.query(syncStatusQuery);
    expect(after).toMatchObject({
      desiredRevision: 3,
      targets: [{ targetKey: 'cal:one', state: 'synced', appliedRevision: 3 }],
    });
    expect(fakeOf('can-1').pushes.map((p) => p.revision)).toEqual([3]);
    // Every plan reads the stored targets too (a write begun by a lost first attempt is found there),
    // but the carried statuses are the run's own: the target in step is not written again.
    await handle.terminate('test done');
  });
});
