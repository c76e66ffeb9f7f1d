import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import knex from 'knex';
import { createDb, ensureDatabase, migrateLatest } from '../lib/db';
import { SecretBox } from '../lib/secretBox';
import {
  ROOT,
  builtEntry,
  freePort,
  httpAnswers,
  spawnNode,
  spawnService,
  startCalDavProxy,
  startRadicale,
  waitFor,
  type Service,
} from '../scripts/stack';
import { engineName, startEngine, type Engine, type EngineName } from '../scripts/engine';
import { prepareTemporalNamespace } from '../scripts/temporalNamespace';
import { postgresTarget } from '../scripts/temporalServer';

/**
 * A whole private calsync stack for a measurement run: its own database, its own Temporal (the dev
 * server with a SQLite file, or with engine `server` the real Temporal server on databases of its own;
 * either can be restarted), Google emulator, workers and APIs. With TEMPORAL_ADDRESS it uses that
 * Temporal instead, on a task queue of its own. Names carry a random suffix and are dropped at stop,
 * so runs side by side do not meet.
 */
export interface PrivateStack {
  engine: EngineName | 'external';
  /** The first API; `apiUrls` has them all (a CRM behind a load balancer spreads over them). */
  apiUrl: string;
  apiUrls: string[];
  emulatorUrl: string;
  /** With `caldav: true`: Radicale, its htpasswd file, and the fault proxy calsync reaches it through. */
  caldav?: { radicaleUrl: string; proxyUrl: string; htpasswdFile: string };
  adminKey: string;
  /** The environment its workers and APIs run with (database, keys, provider URLs). */
  env: NodeJS.ProcessEnv;
  tmp: string;
  workerCount: number;
  workerPid(): number | undefined;
  apiPid(): number | undefined;
  /** Every process of the stack by component (for bench/cpu.ts); a restarted one by its new pid. */
  processes(): Record<string, number | undefined>;
  /** The PostgreSQL databases the stack writes, Temporal's own included (their backends are its cost too). */
  databases: string[];
  /** The Temporal frontend (host:port), to read histories. */
  temporalAddress: string;
  /** SIGKILLs the workers in turn, one per call. */
  killWorker(): Promise<void>;
  /** Starts again every worker that was killed. */
  startWorker(): Promise<void>;
  restartTemporal(downMs?: number): Promise<void>;
  /** Restarts the local PostgreSQL cluster (every database on it, other runs' too, drops its connections). */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export interface PrivateStackOptions {
  name: string;
  env?: NodeJS.ProcessEnv;
  /** `dev` or `server`; by default `engine=` on the command line, else CALSYNC_ENGINE. */
  engine?: EngineName;
  apis?: number;
  workers?: number;
  /** A Temporal of its own even when TEMPORAL_ADDRESS names one: a run that restarts it (chaos) needs that. */
  ownTemporal?: boolean;
  /** Radicale (a real CalDAV server) and the fault proxy in front of it, for CalDAV staff (seedTenant's `caldavStaff`). */
  caldav?: boolean;
  /** Workers and APIs from the production build (`npm run build`, made first): what production runs. */
  built?: boolean;
}

/** `npm run bench -- engine=server`: every bench takes the engine the same way. */
export function benchEngine(argv = process.argv.slice(2)): EngineName {
  const arg = argv.find((a) => a.startsWith('engine='));
  return engineName(arg ? arg.slice('engine='.length) : process.env.CALSYNC_ENGINE);
}

/** BENCH_CPU_PROF=<dir>: a V8 CPU profile of the process (worker, API, emulator) when it stops. */
function spawnProfiled(name: string, entry: string, opts: Parameters<typeof spawnNode>[2] = {}): Service {
  if (!process.env.BENCH_CPU_PROF) return spawnNode(name, entry, opts);
  const profile = ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${name}`];
  const program = opts.built ? [builtEntry(entry)] : ['--import', 'tsx', path.join(ROOT, entry)];
  return spawnService(name, process.execPath, [...profile, ...program], opts);
}

/**
 * BENCH_CPU_PROF=<dir> with TEMPORAL_PPROF_PORT (the real server's pprof endpoint): a Go CPU profile of
 * the Temporal server over the next `seconds`, written to <dir>/temporal/<label>.pb.gz
 * (`go tool pprof -top` reads it). Resolves at once when either is unset.
 */
export async function profileTemporalServer(label: string, seconds: number): Promise<void> {
  const dir = process.env.BENCH_CPU_PROF;
  const port = process.env.TEMPORAL_PPROF_PORT;
  if (!dir || !port) return;
  const res = await fetch(`http://127.0.0.1:${port}/debug/pprof/profile?seconds=${Math.max(1, Math.round(seconds))}`);
  mkdirSync(path.join(dir, 'temporal'), { recursive: true });
  writeFileSync(path.join(dir, 'temporal', `${label}.pb.gz`), Buffer.from(await res.arrayBuffer()));
}

/** A connection to the PostgreSQL the stacks use (its `postgres` database): the CPU meter reads its backends through it. */
export function adminDb(): knex.Knex {
  return knex({ client: 'pg', connection: { ...postgresTarget(), database: 'postgres' }, pool: { min: 1, max: 1 } });
}

export async function startPrivateStack(opts: PrivateStackOptions): Promise<PrivateStack> {
  const runName = `${opts.name}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const tmp = mkdtempSync(path.join(os.tmpdir(), `calsync-${opts.name}-`));
  const cleanups: (() => Promise<void>)[] = [];
  const pg = postgresTarget();
  const dbName = `calsync_${runName}`;
  const dbUrl = `postgres://${encodeURIComponent(pg.user)}${pg.password ? `:${encodeURIComponent(pg.password)}` : ''}@${pg.host}:${pg.port}/${dbName}`;
  await ensureDatabase(dbUrl);
  cleanups.push(async () => {
    const admin = knex({ client: 'pg', connection: { ...pg, database: 'postgres' } });
    await admin.raw('drop database if exists ?? with (force)', [dbName]).finally(() => admin.destroy());
  });
  const db = createDb(dbUrl);
  await migrateLatest(db);
  await db.destroy();

  let engine: Engine | undefined;
  if (!process.env.TEMPORAL_ADDRESS || opts.ownTemporal) {
    engine = await startEngine({
      engine: opts.engine ?? benchEngine(),
      dir: path.join(tmp, 'temporal'),
      runName,
      logFile: path.join(tmp, 'temporal.log'),
    });
  }
  const temporalAddress = engine?.address ?? process.env.TEMPORAL_ADDRESS!;
  await prepareTemporalNamespace({ address: temporalAddress, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });

  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulator = spawnProfiled('emulator', 'emulators/google/main.ts', {
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
  const adminKey = `admin-${opts.name}`;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    CALSYNC_TASK_QUEUE: `calsync-${runName}`,
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
  if (opts.built) await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT });
  const profiled = (name: string, entry: string, extraEnv: NodeJS.ProcessEnv = {}) =>
    spawnProfiled(name, entry, {
      env: { ...env, ...extraEnv },
      logFile: path.join(tmp, `${name}.log`),
      built: opts.built,
    });
  const launchWorker = (i: number) => profiled(`worker-${i}`, 'workers/main.ts');
  const workers = Array.from({ length: opts.workers ?? 1 }, (_, i) => launchWorker(i));
  const apiPorts = await Promise.all(Array.from({ length: opts.apis ?? 1 }, () => freePort()));
  const apiUrls = apiPorts.map((p) => `http://127.0.0.1:${p}`);
  const apis = apiPorts.map((port, i) => profiled(`api-${i}`, 'api/main.ts', { API_PORT: String(port) }));
  for (const url of apiUrls) await waitFor('api', () => httpAnswers(`${url}/healthz`));

  let nextKill = 0;
  const killed = new Set<number>();
  const stack: PrivateStack = {
    engine: engine?.name ?? 'external',
    env,
    apiUrl: apiUrls[0]!,
    apiUrls,
    emulatorUrl,
    caldav,
    adminKey,
    tmp,
    workerCount: workers.length,
    workerPid: () => workers[nextKill % workers.length]!.child.pid,
    apiPid: () => apis[0]!.child.pid,
    processes: () => ({
      ...(engine ? { [engine.name === 'server' ? 'temporal server' : 'temporal dev server']: engine.pid() } : {}),
      ...Object.fromEntries(workers.map((w, i) => [workers.length > 1 ? `worker ${i}` : 'worker', w.child.pid])),
      ...Object.fromEntries(apis.map((a, i) => [apis.length > 1 ? `api ${i}` : 'api', a.child.pid])),
      emulator: emulator.child.pid,
    }),
    databases: [dbName, ...(engine?.databases ?? [])],
    temporalAddress,
    async killWorker() {
      const i = nextKill++ % workers.length;
      killed.add(i);
      await workers[i]!.kill();
    },
    async startWorker() {
      for (const i of killed) workers[i] = launchWorker(i);
      killed.clear();
    },
    async restartTemporal(downMs = 1000) {
      if (!engine) throw new Error('TEMPORAL_ADDRESS is not ours to restart (ownTemporal: true starts one)');
      await engine.restart(downMs);
    },
    async restartPostgres() {
      await restartLocalPostgres();
    },
    async stop() {
      await Promise.all([...apis, ...workers].map((s) => s.stop()));
      await Promise.all([emulator.stop(), engine?.stop(), ...caldavServices.map((s) => s.stop())]);
      for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    },
  };
  // Ctrl-C or a timeout must not leave a Temporal server and workers running behind us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stack.stop().finally(() => process.exit(130)));
  }
  return stack;
}

const run = promisify(execFile);

/** `pg_ctlcluster … restart` of the cluster on this machine (Debian's layout): every connection is cut. */
export async function restartLocalPostgres(): Promise<void> {
  const version = process.env.PG_CLUSTER_VERSION ?? readdirSync('/etc/postgresql').sort().at(-1);
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
  await waitFor('PostgreSQL after its restart', async () => {
    const probe = knex({ client: 'pg', connection: { ...postgresTarget(), database: 'postgres' } });
    try {
      await probe.raw('select 1');
      return true;
    } finally {
      await probe.destroy();
    }
  });
}

/**
 * Keep-alive connections for the load client: its CPU is counted in the run's figures, and fetch
 * (undici, web streams) spent three times what node:http does per request.
 */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function jsonCall(
  url: string,
  method = 'GET',
  body?: unknown,
  key?: string,
): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: keepAlive,
        headers: {
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
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
