import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import knex from 'knex';
import { calsyncDataConverter } from '../lib/payloadCodec';
import { CalsyncEntityId, CalsyncStaff, CalsyncState, CalsyncTenant } from '../lib/searchAttributes';
import { SecretBox } from '../lib/secretBox';
import { startEngine } from '../scripts/engine';
import { spawnNode, spawnService, waitFor } from '../scripts/stack';
import { prepareTemporalNamespace } from '../scripts/temporalNamespace';
import { postgresTarget } from '../scripts/temporalServer';
import { CpuMeter, perChange } from './cpu';
import { benchEngine } from './harness';
import { changeSignal } from './floor/workflows';

/**
 * The floor under `npm run bench`'s CPU per create: what Temporal, its PostgreSQL and an SDK worker
 * cost for a workflow of the appointment's shape (signal-with-start with the same search attributes
 * and an encrypted payload of the same size, one workflow task with a search-attribute upsert and a
 * timer) that looks nothing up and writes nothing. No API, no calsync database, no provider.
 * `localActivities=N` adds N local activities that do nothing (appointmentSync's create runs two).
 *   npm run bench:floor [-- rate=40 seconds=15 localActivities=0 engine=dev|server]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const rate = Number(args.rate ?? 40);
const seconds = Number(args.seconds ?? 15);
const localActivities = Number(args.localActivities ?? 0);

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'calsync-floor-'));
  const runName = `floor_${randomBytes(4).toString('hex')}`;
  const engine = await startEngine({ engine: benchEngine(), dir: path.join(tmp, 'temporal'), runName });
  const keys = SecretBox.generateKeySpec('floor');
  const taskQueue = `floor-${runName}`;
  await prepareTemporalNamespace({ address: engine.address, namespace: 'default' });
  const workerOpts = {
    env: { TEMPORAL_ADDRESS: engine.address, FLOOR_TASK_QUEUE: taskQueue, CALSYNC_TOKEN_KEYS: keys },
    logFile: path.join(tmp, 'worker.log'),
  };
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the worker, as `npm run bench` writes of calsync's.
  const worker = process.env.BENCH_CPU_PROF
    ? spawnService(
        'floor-worker',
        process.execPath,
        [
          `--cpu-prof`,
          `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/floor-worker`,
          '--import',
          'tsx',
          'bench/floor/worker.ts',
        ],
        workerOpts,
      )
    : spawnNode('floor-worker', 'bench/floor/worker.ts', workerOpts);
  const connection = await Connection.connect({ address: engine.address });
  const client = new Client({ connection, namespace: 'default', dataConverter: calsyncDataConverter(keys) });
  const admin = knex({ client: 'pg', connection: { ...postgresTarget(), database: 'postgres' } });
  // About the size of an appointment's desired state.
  const body = 'x'.repeat(900);
  const start = (id: string) =>
    client.workflow.signalWithStart('floorWorkflow', {
      workflowId: id,
      taskQueue,
      args: [{ closeAfterMs: 3_600_000, localActivities }],
      signal: changeSignal,
      signalArgs: [{ revision: 1, body }],
      typedSearchAttributes: [
        { key: CalsyncTenant, value: 'floor' },
        { key: CalsyncEntityId, value: id },
        { key: CalsyncState, value: 'pending' },
        { key: CalsyncStaff, value: ['s1'] },
      ],
    });
  const settled = async (ids: string[]) => {
    for (const id of ids)
      await waitFor(
        `floor ${id}`,
        async () =>
          (await client.workflow.getHandle(id).fetchHistory()).events!.some((e) => e.timerStartedEventAttributes),
        60_000,
        100,
      );
  };
  try {
    const warm = Array.from({ length: 20 }, (_, i) => `warm-${i}`);
    await Promise.all(warm.map(start));
    await settled(warm);

    const meter = new CpuMeter(
      () => ({ temporal: engine.pid(), worker: worker.child.pid }),
      admin,
      () => engine.databases,
    );
    const count = rate * seconds;
    const ids = Array.from({ length: count }, (_, i) => `f-${i}`);
    await meter.start();
    const began = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const wait = began + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(start(ids[i]!));
    }
    await Promise.all(pending);
    await settled(ids.slice(-20));
    const window = await meter.stop();
    const cost = perChange(window, count);
    console.log(
      `\nfloor: ${count} workflows at ${rate}/s, ${localActivities} local activities each, ${engine.name} engine (${window.seconds.toFixed(1)} s)`,
    );
    for (const [name, ms] of Object.entries(cost)) console.log(`CPU-ms per create: ${name.padEnd(24)} ${ms}`);
    console.log(
      `bench:floor: rate=${rate} local_activities=${localActivities} cpu_ms_per_create=${cost.total} engine=${engine.name}`,
    );
  } finally {
    await admin.destroy();
    await connection.close();
    await worker.stop();
    await engine.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
