import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import knex from 'knex';
import { createDb, ensureDatabase, migrateLatest } from '../../lib/db';
import { ensureEmulatorCertificate, extraCaCerts, trustCaInThisProcess } from '../../emulators/microsoft/certificate';
import { SecretBox } from '../../lib/secretBox';
import { ROOT, freePort, httpAnswers, spawnNode, startCalDavProxy, startRadicale, waitFor } from '../../scripts/stack';
import { engineName, startEngine } from '../../scripts/engine';
import { prepareTemporalNamespace } from '../../scripts/temporalNamespace';

/**
 * The suite's shared infrastructure: a real Temporal (the dev server, or the real server on PostgreSQL
 * with CALSYNC_ENGINE=server, or TEMPORAL_ADDRESS) with calsync's namespace set up, a fresh
 * PostgreSQL database (or DATABASE_URL), the Google and Microsoft emulators, and a workflow bundle built once.
 * Each test file starts its own API and worker processes on its own task queue (test/helpers/stack.ts).
 */
export default async function globalSetup(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'calsync-test-'));
  const services: { stop(): Promise<void> }[] = [];
  (globalThis as any).__calsyncServices = services;

  if (!process.env.DATABASE_URL) {
    // A database of this run's own, dropped when it ends: two runs on one machine (CI and a
    // developer's focused run) must not drop each other's tables halfway through.
    const name = `calsync_test_${process.pid}`;
    const admin = knex({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:5432/postgres' });
    const { rows } = await admin.raw("select datname from pg_database where datname ~ '^calsync_test(_[0-9]+)?$'");
    for (const { datname } of rows as { datname: string }[]) {
      const pid = Number(datname.split('_')[2]);
      if (datname === name || !pid || !alive(pid))
        await admin.raw('drop database if exists ?? with (force)', [datname]);
    }
    await admin.destroy();
    process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${name}`;
    services.push({
      async stop() {
        const dropper = knex({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:5432/postgres' });
        await dropper.raw('drop database if exists ?? with (force)', [name]).catch(() => undefined);
        await dropper.destroy();
      },
    });
  }
  await ensureDatabase(process.env.DATABASE_URL);
  const db = createDb(process.env.DATABASE_URL);
  await migrateLatest(db);
  await db.destroy();

  // The Microsoft emulator is HTTPS (the Graph client sends tokens only over https). Node reads
  // NODE_EXTRA_CA_CERTS once at start-up, so its CA is in place before anything is spawned; this
  // process (which runs the test files with --runInBand) trusts it by swapping fetch's dispatcher.
  const msCert = await ensureEmulatorCertificate(tmp);
  process.env.NODE_EXTRA_CA_CERTS = extraCaCerts(msCert, tmp);
  process.env.MICROSOFT_EMULATOR_CERT_DIR = tmp;
  await trustCaInThisProcess(msCert.ca);

  if (!process.env.TEMPORAL_ADDRESS) {
    const engine = await startEngine({
      engine: engineName(),
      dir: path.join(tmp, 'temporal'),
      runName: 'calsync_test',
      logFile: path.join(tmp, 'temporal.log'),
    });
    services.push(engine);
    process.env.TEMPORAL_ADDRESS = engine.address;
  }
  // Like the migrations: done before any API or worker starts, so none of them races for it.
  await prepareTemporalNamespace({
    address: process.env.TEMPORAL_ADDRESS,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  });

  const emulatorPort = await freePort();
  const emulator = spawnNode('google-emulator', 'emulators/google/main.ts', {
    env: { GOOGLE_EMULATOR_PORT: String(emulatorPort) },
    logFile: path.join(tmp, 'google-emulator.log'),
  });
  services.push(emulator);
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  await waitFor('Google emulator', () => httpAnswers(`${emulatorUrl}/_emulator/stats`));
  process.env.GOOGLE_EMULATOR_URL = emulatorUrl;
  process.env.GOOGLE_API_ROOT_URL = `${emulatorUrl}/`;
  process.env.GOOGLE_TOKEN_URL = `${emulatorUrl}/token`;
  process.env.GOOGLE_AUTHORIZE_URL = `${emulatorUrl}/o/oauth2/v2/auth`;

  const msPort = await freePort();
  services.push(
    spawnNode('microsoft-emulator', 'emulators/microsoft/main.ts', {
      env: {
        MICROSOFT_EMULATOR_PORT: String(msPort),
        MICROSOFT_EMULATOR_CERT_DIR: tmp,
        // The test API listens on http://127.0.0.1: Graph would insist on https (see emulators/README.md).
        MS_EMULATOR_ALLOW_HTTP_LOOPBACK: '1',
      },
      logFile: path.join(tmp, 'microsoft-emulator.log'),
    }),
  );
  const msUrl = `https://127.0.0.1:${msPort}`;
  await waitFor('Microsoft emulator', () => httpAnswers(`${msUrl}/_emulator/health`));
  process.env.MICROSOFT_EMULATOR_URL = msUrl;
  process.env.MICROSOFT_GRAPH_BASE_URL = msUrl;
  process.env.MICROSOFT_TOKEN_URL = `${msUrl}/common/oauth2/v2.0/token`;
  process.env.MICROSOFT_AUTHORIZE_URL = `${msUrl}/common/oauth2/v2.0/authorize`;

  // Radicale (Debian's package, installed by scripts/setup.sh): a real CalDAV server, for the
  // iCalendar round trip (test/caldav-roundtrip.test.ts) and the CalDAV provider. htpasswd auth
  // (plain: Radicale 3.1 reads the file at each login, so a test changes a password by rewriting
  // its line and the next request gets 401), owner-only rights, a fresh storage folder.
  const htpasswd = path.join(tmp, 'radicale.htpasswd');
  writeFileSync(htpasswd, 'calsync:x\n');
  const radicale = await startRadicale({
    port: await freePort(),
    htpasswdFile: htpasswd,
    storageFolder: path.join(tmp, 'radicale'),
    logFile: path.join(tmp, 'radicale.log'),
  });
  services.push(radicale.service);
  process.env.RADICALE_URL = radicale.url;
  process.env.RADICALE_HTPASSWD = htpasswd;

  // calsync's CalDAV provider talks to Radicale through the fault-injecting proxy (emulators/caldav-proxy).
  const proxy = await startCalDavProxy({
    port: await freePort(),
    target: radicale.url,
    logFile: path.join(tmp, 'caldav-proxy.log'),
  });
  services.push(proxy.service);
  process.env.CALDAV_PROXY_URL = proxy.url;

  const bundle = await bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'workflows'), logger: quietLogger });
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.CALSYNC_WORKFLOW_BUNDLE = bundlePath;

  process.env.CALSYNC_ADMIN_KEY = 'test-admin-key';
  process.env.CALSYNC_TOKEN_KEYS = SecretBox.generateKeySpec('test1');
  process.env.CALSYNC_TEST_TMP = tmp;
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
}

const noop = () => undefined;
const quietLogger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: (m: string) => console.error(m),
};

/** Whether a process of this machine is still running (a run that left its database behind is not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
