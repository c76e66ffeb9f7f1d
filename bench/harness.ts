import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { createDb, ensureDatabase, migrateLatest } from '../lib/db';
import { SecretBox } from '../lib/secretBox';
import {
  ROOT,
  freePort,
  httpAnswers,
  spawnNode,
  spawnService,
  startCalDavProxy,
  startRadicale,
  startTemporalDevServer,
  type Service,
  waitFor,
} from '../scripts/stack';

/**
 * A whole private calsync stack for a measurement run: its own database, Temporal dev server
 * (with a SQLite file, so it can be restarted), Google emulator, worker and API.
 */
export interface PrivateStack {
  apiUrl: string;
  emulatorUrl: string;
  /** With `caldav: true`: Radicale, its htpasswd file, and the fault proxy calsync reaches it through. */
  caldav?: { radicaleUrl: string; proxyUrl: string; htpasswdFile: string };
  adminKey: string;
  tmp: string;
  workerPid(): number | undefined;
  apiPid(): number | undefined;
  /** Every process of the stack by component (for bench/cpu.ts); a restarted one by its new pid. */
  processes(): Record<string, number | undefined>;
  /** The PostgreSQL databases the stack writes (its backends are its cost too). */
  databases: string[];
  /** The Temporal frontend (host:port), to read histories. */
  temporalAddress: string;
  killWorker(): Promise<void>;
  startWorker(): Promise<void>;
  restartTemporal(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateStack(opts: {
  name: string;
  env?: NodeJS.ProcessEnv;
  caldav?: boolean;
}): Promise<PrivateStack> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `calsync-${opts.name}-`));
  const dbUrl = `postgres://postgres@127.0.0.1:5432/calsync_${opts.name}`;
  const admin = knex({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.raw(`drop database if exists ?? with (force)`, [`calsync_${opts.name}`]);
  await admin.destroy();
  await ensureDatabase(dbUrl);
  const db = createDb(dbUrl);
  await migrateLatest(db);
  await db.destroy();

  const temporalPort = await freePort();
  const temporalOpts = {
    port: temporalPort,
    headless: true,
    dbFile: path.join(tmp, 'temporal.db'),
    logFile: path.join(tmp, 'temporal.log'),
  };
  let temporal = await startTemporalDevServer(temporalOpts);

  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulator = spawnNode('emulator', 'emulators/google/main.ts', {
    env: { GOOGLE_EMULATOR_PORT: String(emulatorPort) },
    logFile: path.join(tmp, 'emulator.log'),
  });
  await waitFor('emulator', () => httpAnswers(`${emulatorUrl}/_emulator/stats`));

  const caldavServices: Service[] = [];
  let caldav: PrivateStack['caldav'];
  if (opts.caldav) {
    const htpasswdFile = path.join(tmp, 'radicale.htpasswd');
    writeFileSync(htpasswdFile, '');
    const radicale = await startRadicale({
      port: await freePort(),
      htpasswdFile,
      storageFolder: path.join(tmp, 'radicale'),
      logFile: path.join(tmp, 'radicale.log'),
    });
    const proxy = await startCalDavProxy({
      port: await freePort(),
      target: radicale.url,
      logFile: path.join(tmp, 'caldav-proxy.log'),
    });
    caldavServices.push(radicale.service, proxy.service);
    caldav = { radicaleUrl: radicale.url, proxyUrl: proxy.url, htpasswdFile };
  }

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const adminKey = `admin-${opts.name}`;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    API_PORT: String(apiPort),
    CALSYNC_ADMIN_KEY: adminKey,
    CALSYNC_TOKEN_KEYS: SecretBox.generateKeySpec('bench'),
    GOOGLE_API_ROOT_URL: `${emulatorUrl}/`,
    GOOGLE_TOKEN_URL: `${emulatorUrl}/token`,
    WORKER_METRICS_PORT: '0',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'warn',
    ...(opts.caldav ? { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } : {}),
    ...opts.env,
  };
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the worker and of the API when they stop.
  const profiled = (name: string, entry: string) =>
    process.env.BENCH_CPU_PROF
      ? spawnService(
          name,
          process.execPath,
          [
            '--cpu-prof',
            `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${name}`,
            '--import',
            'tsx',
            path.join(ROOT, entry),
          ],
          { env, logFile: path.join(tmp, `${name}.log`) },
        )
      : spawnNode(name, entry, { env, logFile: path.join(tmp, `${name}.log`) });
  const launchWorker = () => profiled('worker', 'workers/main.ts');
  let worker = launchWorker();
  const api = profiled('api', 'api/main.ts');
  await waitFor('api', () => httpAnswers(`${apiUrl}/healthz`));

  const stack: PrivateStack = {
    apiUrl,
    emulatorUrl,
    caldav,
    adminKey,
    tmp,
    workerPid: () => worker.child.pid,
    apiPid: () => api.child.pid,
    processes: () => ({
      'temporal dev server': temporal.child.pid,
      worker: worker.child.pid,
      api: api.child.pid,
      emulator: emulator.child.pid,
    }),
    databases: [`calsync_${opts.name}`],
    temporalAddress: `127.0.0.1:${temporalPort}`,
    async killWorker() {
      await worker.kill();
    },
    async startWorker() {
      worker = launchWorker();
    },
    async restartTemporal(downMs = 1000) {
      await temporal.stop();
      await new Promise((r) => setTimeout(r, downMs));
      temporal = await startTemporalDevServer(temporalOpts);
    },
    async stop() {
      await Promise.all([api.stop(), worker.stop()]);
      await Promise.all([emulator.stop(), temporal.stop(), ...caldavServices.map((s) => s.stop())]);
    },
  };
  // Ctrl-C or a timeout must not leave a Temporal server and workers running behind us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stack.stop().finally(() => process.exit(130)));
  }
  return stack;
}

export async function jsonCall(
  url: string,
  method = 'GET',
  body?: unknown,
  key?: string,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/**
 * A tenant with `count` staff members, each linked to an emulated Google account; `calendarId` is
 * where calsync writes their events. `dedicated` is the product default (a calendar of calsync's own,
 * which busy-time import does not read); `primary` writes into the calendar that is also imported.
 */
export async function seedTenant(
  stack: PrivateStack,
  tenantId: string,
  count: number,
  /** `caldavStaff`: that many of the staff (the last ones) connect a CalDAV account on the stack's Radicale instead of Google. */
  opts: { calendarMode?: 'primary' | 'dedicated'; caldavStaff?: number } = {},
) {
  const calendarMode = opts.calendarMode ?? 'primary';
  const caldavFrom = count - (opts.caldavStaff ?? 0);
  const { body } = await jsonCall(
    `${stack.apiUrl}/v1/admin/tenants`,
    'POST',
    { id: tenantId, name: tenantId, settings: { calendarMode } },
    stack.adminKey,
  );
  const apiKey: string = body.apiKey;
  const staff: {
    id: string;
    email: string;
    accessToken: string;
    calendarId: string;
    /** CalDAV staff: the account on Radicale. */
    caldav?: { username: string; password: string };
  }[] = [];
  for (let i = 0; i < count; i++) {
    const id = `s${i}`;
    await jsonCall(`${stack.apiUrl}/v1/staff/${id}`, 'PUT', { name: id }, apiKey);
    if (i >= caldavFrom && stack.caldav) {
      const account = { username: `${id}@${tenantId}.caldav.test`, password: `pw-${id}-${Date.now()}` };
      // The tenant's default consent rule: the account is the staff member's own address.
      await jsonCall(`${stack.apiUrl}/v1/staff/${id}`, 'PUT', { name: id, email: account.username }, apiKey);
      writeFileSync(stack.caldav.htpasswdFile, `${account.username}:${account.password}\n`, { flag: 'a' });
      // calendarMode primary writes to the account's first calendar: a new Radicale account has none yet.
      if (calendarMode === 'primary') await makeCalDavCalendar(stack.caldav.radicaleUrl, account, 'personal');
      const linked = await jsonCall(
        `${stack.apiUrl}/v1/staff/${id}/links/caldav`,
        'POST',
        { serverUrl: `${stack.caldav.proxyUrl}/`, ...account },
        apiKey,
      );
      if (linked.status !== 201)
        throw new Error(`caldav link of ${id}: ${linked.status} ${JSON.stringify(linked.body)}`);
      staff.push({ id, email: account.username, accessToken: '', calendarId: '', caldav: account });
      continue;
    }
    const user = (await jsonCall(`${stack.emulatorUrl}/_emulator/users`, 'POST', { email: `${id}@${tenantId}.test` }))
      .body;
    await jsonCall(
      `${stack.apiUrl}/v1/staff/${id}/links/google`,
      'POST',
      { accountEmail: user.email, refreshToken: user.refreshToken },
      apiKey,
    );
    staff.push({ id, email: user.email, accessToken: user.accessToken, calendarId: user.email });
  }
  // A dedicated calendar exists once the link's workflow has provisioned it (the link turns active).
  for (const member of staff) {
    for (let waited = 0; ; waited += 100) {
      const [link] = (await jsonCall(`${stack.apiUrl}/v1/staff/${member.id}/links`, 'GET', undefined, apiKey)).body
        .links;
      if (link?.status === 'active') {
        member.calendarId = link.calendarId;
        break;
      }
      if (waited > 30_000) throw new Error(`link of ${member.id} not active: ${link?.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { apiKey, staff };
}

/** A calendar made straight in Radicale (MKCALENDAR), as the account's owner would. */
export async function makeCalDavCalendar(
  radicaleUrl: string,
  account: { username: string; password: string },
  name: string,
): Promise<string> {
  const url = `${radicaleUrl}/${account.username}/${name}/`;
  const res = await fetch(url, {
    method: 'MKCALENDAR',
    headers: {
      authorization: `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`,
      'content-type': 'application/xml',
    },
    body: `<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${name}</D:displayname></D:prop></D:set></C:mkcalendar>`,
  });
  if (res.status !== 201) throw new Error(`MKCALENDAR ${url}: ${res.status}`);
  return url;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Deterministic pseudo-random numbers (mulberry32), so a chaos run can be repeated by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Peak resident memory of a process (VmHWM), in MiB; Linux only. */
export function peakMemoryMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}
