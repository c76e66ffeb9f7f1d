import path from 'node:path';
import os from 'node:os';
import { mkdtempSync } from 'node:fs';
import knex from 'knex';
import { createDb, ensureDatabase, migrateLatest } from '../lib/db';
import { SecretBox } from '../lib/secretBox';
import { freePort, httpAnswers, spawnNode, startTemporalDevServer, waitFor, type Service } from '../scripts/stack';

/**
 * Time from the API's 202 to the event being in the (emulated) Google calendar, and remote writes
 * per burst of updates, on a private stack with the default sync settings.
 * Usage: node --import tsx bench/latency.ts [appointments=40] [bursts=10]
 */
const count = Number(process.argv[2] ?? 40);
const bursts = Number(process.argv[3] ?? 10);

async function json(url: string, method = 'GET', body?: unknown, key?: string) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json().catch(() => undefined)) as any;
}

function pct(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'calsync-bench-'));
  const services: Service[] = [];
  try {
    const dbUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/calsync_bench';
    if (!process.env.DATABASE_URL) {
      const admin = knex({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.raw('drop database if exists calsync_bench with (force)');
      await admin.destroy();
    }
    await ensureDatabase(dbUrl);
    const db = createDb(dbUrl);
    await migrateLatest(db);
    await db.destroy();

    const temporalPort = await freePort();
    services.push(await startTemporalDevServer({ port: temporalPort, headless: true, logFile: path.join(tmp, 'temporal.log') }));
    const emulatorPort = await freePort();
    const emulator = `http://127.0.0.1:${emulatorPort}`;
    services.push(spawnNode('emulator', 'emulators/google/main.ts', { env: { GOOGLE_EMULATOR_PORT: String(emulatorPort) } }));
    await waitFor('emulator', () => httpAnswers(`${emulator}/_emulator/stats`));
    const apiPort = await freePort();
    const api = `http://127.0.0.1:${apiPort}`;
    const env = {
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      API_PORT: String(apiPort),
      CALSYNC_ADMIN_KEY: 'bench-admin',
      CALSYNC_TOKEN_KEYS: SecretBox.generateKeySpec('bench'),
      GOOGLE_API_ROOT_URL: `${emulator}/`,
      GOOGLE_TOKEN_URL: `${emulator}/token`,
      LOG_LEVEL: 'warn',
    };
    services.push(spawnNode('worker', 'workers/main.ts', { env, logFile: path.join(tmp, 'worker.log') }));
    services.push(spawnNode('api', 'api/main.ts', { env, logFile: path.join(tmp, 'api.log') }));
    await waitFor('api', () => httpAnswers(`${api}/healthz`));

    const { apiKey } = await json(`${api}/v1/admin/tenants`, 'POST', { id: 'bench', name: 'Bench' }, 'bench-admin');
    await json(`${api}/v1/staff/s1`, 'PUT', { name: 'S1' }, apiKey);
    const user = await json(`${emulator}/_emulator/users`, 'POST', { email: 's1@bench.test' });
    await json(`${api}/v1/staff/s1/links/google`, 'POST', { accountEmail: user.email, refreshToken: user.refreshToken }, apiKey);

    const day = new Date(Date.now() + 2 * 86400000).toISOString().slice(0, 10);
    const body = (revision: number, title: string) => ({ revision, start: `${day}T10:00:00`, end: `${day}T11:00:00`, timeZone: 'Europe/Madrid', title, staffIds: ['s1'] });
    const eventsWith = async (summary: string) =>
      ((await json(`${emulator}/_emulator/calendars/${user.email}/events`)).items as { summary: string; status: string }[]).filter((e) => e.summary === summary && e.status !== 'cancelled');

    // Warm-up: the first workflow task of a fresh worker is slower than the rest.
    await json(`${api}/v1/appointments/warmup`, 'PUT', body(1, 'warmup'), apiKey);
    await waitFor('warm-up', async () => (await eventsWith('warmup')).length === 1, 30000, 20);

    const latencies: number[] = [];
    const apiLatencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const title = `bench-${i}`;
      const sent = performance.now();
      await json(`${api}/v1/appointments/a-${i}`, 'PUT', body(1, title), apiKey);
      const accepted = performance.now();
      apiLatencies.push(accepted - sent);
      await waitFor(title, async () => (await eventsWith(title)).length === 1, 30000, 5);
      latencies.push(performance.now() - accepted);
    }

    const writes: number[] = [];
    for (let b = 0; b < bursts; b++) {
      const id = `burst-${b}`;
      await json(`${api}/v1/appointments/${id}`, 'PUT', body(1, `${id} r1`), apiKey);
      await waitFor(id, async () => (await eventsWith(`${id} r1`)).length === 1, 30000, 10);
      await fetch(`${emulator}/_emulator/stats/reset?user=${user.email}`, { method: 'POST' });
      for (let r = 2; r <= 11; r++) await json(`${api}/v1/appointments/${id}`, 'PUT', body(r, `${id} r${r}`), apiKey);
      await waitFor(`${id} r11`, async () => (await eventsWith(`${id} r11`)).length === 1, 30000, 10);
      await new Promise((r) => setTimeout(r, 500));
      writes.push((await json(`${emulator}/_emulator/stats?user=${user.email}`)).writes);
    }

    latencies.sort((a, b) => a - b);
    apiLatencies.sort((a, b) => a - b);
    const f = (n: number) => n.toFixed(0);
    console.log(`cores=${os.cpus().length} appointments=${count} (sequential, default settings: coalesce 300 ms)`);
    console.log(`PUT→event in emulator ms: p50=${f(pct(latencies, 50))} p95=${f(pct(latencies, 95))} max=${f(latencies.at(-1)!)}`);
    console.log(`API 202 latency ms:       p50=${f(pct(apiLatencies, 50))} p95=${f(pct(apiLatencies, 95))} max=${f(apiLatencies.at(-1)!)}`);
    console.log(`remote writes per burst of 10 updates: ${writes.join(' ')} (mean ${(writes.reduce((a, b) => a + b, 0) / writes.length).toFixed(2)})`);
  } finally {
    for (const s of services.reverse()) await s.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
