import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDb, ensureDatabase, migrateLatest } from '../lib/db';
import { SecretBox } from '../lib/secretBox';
import { ensureEmulatorCertificate, extraCaCerts, trustCaInThisProcess } from '../emulators/microsoft/certificate';
import { engineName, startEngine, type Engine } from './engine';
import { ROOT, httpAnswers, spawnNode, spawnService, startRadicale, waitFor, type Service } from './stack';
import { prepareTemporalNamespace } from './temporalNamespace';
import { TEMPORAL_SERVER_VERSION } from './temporalServer';
import { startTemporalUi } from './temporalUi';

/**
 * `npm start`: the whole stack on one machine, with a demo tenant whose staff members have an
 * (emulated) Google calendar (anna) and Microsoft 365 calendar (ben). Logs go to data/logs; Ctrl-C
 * stops everything started here.
 */
const DATA = path.join(ROOT, 'data');
const LOGS = path.join(DATA, 'logs');

function devSecrets(): { adminKey: string; tokenKeys: string } {
  const file = path.join(DATA, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = {
    adminKey: `admin_${SecretBox.generateKeySpec('x')
      .slice(2, 30)
      .replace(/[^A-Za-z0-9]/g, '')}`,
    tokenKeys: SecretBox.generateKeySpec('dev1'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function main() {
  mkdirSync(LOGS, { recursive: true });
  const services: Service[] = [];
  let temporal: Engine | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    for (const s of services.reverse()) await s.stop();
    await temporal?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const secrets = devSecrets();
    process.env.CALSYNC_ADMIN_KEY ??= secrets.adminKey;
    process.env.CALSYNC_TOKEN_KEYS ??= secrets.tokenKeys;
    process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/calsync';
    process.env.API_PORT ??= '3000';

    await ensureDatabase(process.env.DATABASE_URL);
    const db = createDb(process.env.DATABASE_URL);
    await migrateLatest(db);
    await db.destroy();
    console.log('database  migrated');

    const engine = engineName();
    if (!process.env.TEMPORAL_ADDRESS) {
      temporal = await startEngine({
        engine,
        dir: path.join(DATA, engine === 'server' ? 'temporal-server' : ''),
        persistent: true,
        logFile: path.join(LOGS, 'temporal.log'),
      });
      process.env.TEMPORAL_ADDRESS = temporal.address;
      console.log(
        engine === 'server'
          ? `temporal  server ${TEMPORAL_SERVER_VERSION} on ${temporal.address} (PostgreSQL: calsync_temporal, calsync_temporal_visibility)`
          : `temporal  dev server on ${temporal.address}`,
      );
      // Temporal UI decodes the encrypted payloads through the API's codec endpoint (admins only),
      // sending the admin's codec session cookie: its own server, configured to include credentials.
      // The same UI serves either engine.
      services.push(
        await startTemporalUi({
          port: 8233,
          temporalAddress: temporal.address,
          codecEndpoint: `http://127.0.0.1:${process.env.API_PORT}/codec`,
          workDir: path.join(DATA, 'temporal-ui'),
          logFile: path.join(LOGS, 'temporal-ui.log'),
        }),
      );
      console.log('temporal  UI on http://127.0.0.1:8233');
    }
    // Like the migrations: the namespace and search attributes exist before the API or a worker starts.
    await prepareTemporalNamespace({
      address: process.env.TEMPORAL_ADDRESS,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    });

    // Real OAuth client ids mean real Google; otherwise the emulator stands in for it.
    const useEmulator = !process.env.GOOGLE_CLIENT_ID;
    let emulatorUrl = '';
    if (useEmulator) {
      const port = process.env.GOOGLE_EMULATOR_PORT ?? '4100';
      emulatorUrl = `http://127.0.0.1:${port}`;
      services.push(
        spawnNode('google-emulator', 'emulators/google/main.ts', {
          env: { GOOGLE_EMULATOR_PORT: port },
          logFile: path.join(LOGS, 'google-emulator.log'),
        }),
      );
      await waitFor('Google emulator', () => httpAnswers(`${emulatorUrl}/_emulator/stats`));
      process.env.GOOGLE_API_ROOT_URL = `${emulatorUrl}/`;
      process.env.GOOGLE_TOKEN_URL = `${emulatorUrl}/token`;
      process.env.GOOGLE_AUTHORIZE_URL = `${emulatorUrl}/o/oauth2/v2/auth`;
      console.log(`google    emulator on ${emulatorUrl}`);
    }

    // Without an SMTP server of one's own, maildev catches client invitations and shows them on the web.
    let mailUrl: string | undefined;
    if (!process.env.SMTP_HOST) {
      const smtpPort = process.env.MAILDEV_SMTP_PORT ?? '1025';
      const webPort = process.env.MAILDEV_WEB_PORT ?? '1080';
      const maildev = path.join(ROOT, 'node_modules', 'maildev', 'bin', 'maildev');
      services.push(
        spawnService(
          'maildev',
          process.execPath,
          [maildev, '--smtp', smtpPort, '--web', webPort, '--ip', '127.0.0.1'],
          { logFile: path.join(LOGS, 'maildev.log') },
        ),
      );
      mailUrl = `http://127.0.0.1:${webPort}`;
      await waitFor('maildev', () => httpAnswers(mailUrl!));
      process.env.SMTP_HOST = '127.0.0.1';
      process.env.SMTP_PORT = smtpPort;
      process.env.SMTP_SECURE = 'false';
      console.log(`mail      maildev on smtp://127.0.0.1:${smtpPort}, inbox ${mailUrl}`);
    }

    // Likewise for Microsoft. Its emulator is HTTPS (the Graph client sends tokens only over https),
    // and Node reads NODE_EXTRA_CA_CERTS at start-up: the CA exists before the worker is spawned.
    let microsoftUrl = '';
    if (!process.env.MICROSOFT_CLIENT_ID) {
      const cert = await ensureEmulatorCertificate(DATA);
      process.env.NODE_EXTRA_CA_CERTS = extraCaCerts(cert, DATA);
      await trustCaInThisProcess(cert.ca);
      const port = process.env.MICROSOFT_EMULATOR_PORT ?? '4200';
      microsoftUrl = `https://127.0.0.1:${port}`;
      services.push(
        spawnNode('microsoft-emulator', 'emulators/microsoft/main.ts', {
          env: {
            MICROSOFT_EMULATOR_PORT: port,
            MICROSOFT_EMULATOR_CERT_DIR: DATA,
            // The local API listens on http://127.0.0.1: Graph would insist on https (see emulators/README.md).
            MS_EMULATOR_ALLOW_HTTP_LOOPBACK: '1',
          },
          logFile: path.join(LOGS, 'microsoft-emulator.log'),
        }),
      );
      await waitFor('Microsoft emulator', () => httpAnswers(`${microsoftUrl}/_emulator/health`));
      process.env.MICROSOFT_GRAPH_BASE_URL = microsoftUrl;
      process.env.MICROSOFT_TOKEN_URL = `${microsoftUrl}/common/oauth2/v2.0/token`;
      process.env.MICROSOFT_AUTHORIZE_URL = `${microsoftUrl}/common/oauth2/v2.0/authorize`;
      console.log(`microsoft emulator on ${microsoftUrl} (its CA: ${cert.caPath})`);
    }

    // Radicale (a real CalDAV server, Debian's package) for the third demo staff member, when installed.
    const caldav = await startDemoCalDav(services);
    if (caldav) {
      // The demo's CalDAV server is on this machine: the API and worker may call it over http.
      process.env.OUTBOUND_ALLOWED_HOSTS = [process.env.OUTBOUND_ALLOWED_HOSTS, '127.0.0.1'].filter(Boolean).join(',');
      console.log(`caldav    Radicale on ${caldav.url}`);
    }

    const apiUrl = `http://127.0.0.1:${process.env.API_PORT}`;
    services.push(spawnNode('worker', 'workers/main.ts', { logFile: path.join(LOGS, 'worker.log') }));
    services.push(spawnNode('api', 'api/main.ts', { logFile: path.join(LOGS, 'api.log') }));
    await waitFor('API', () => httpAnswers(`${apiUrl}/healthz`));
    for (const s of services) {
      s.child.once('exit', (code) => {
        if (!stopping) {
          console.error(`${s.name} exited (${code}); see data/logs/${s.name}.log`);
          void stopAll(1);
        }
      });
    }

    const demo = useEmulator ? await createDemo(apiUrl, emulatorUrl, microsoftUrl, caldav) : undefined;
    printBanner(apiUrl, demo, mailUrl);
  } catch (err) {
    console.error(err);
    await stopAll(1);
  }
}

async function post(url: string, key: string | undefined, body: unknown, method = 'POST') {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
}

/** A demo tenant with one staff member whose emulated Google calendar is linked. */
async function createDemo(apiUrl: string, emulatorUrl: string, microsoftUrl: string, caldav?: DemoCalDav) {
  const admin = process.env.CALSYNC_ADMIN_KEY!;
  let created = await post(`${apiUrl}/v1/admin/tenants`, admin, { id: 'demo', name: 'Demo Salon' });
  // The tenant survives restarts (PostgreSQL); a fresh key is issued each start because only hashes are kept.
  if (created.status === 409) created = await post(`${apiUrl}/v1/admin/tenants/demo/api-keys`, admin, {});
  const apiKey: string = created.body.apiKey;
  // The demo's clients get e-mail invitations (caught by maildev unless SMTP_HOST is set).
  await post(
    `${apiUrl}/v1/settings`,
    apiKey,
    {
      clientInvitations: { enabled: true },
      businessName: 'Demo Salon',
      organizerEmail: 'desk@demo.calsync.test',
      language: 'en',
    },
    'PUT',
  );
  await post(
    `${apiUrl}/v1/staff/anna`,
    apiKey,
    { name: 'Anna', email: 'anna@demo.calsync.test', timeZone: 'Europe/Madrid' },
    'PUT',
  );

  // The emulator keeps its state in memory: link a fresh account each start, retiring older demo links.
  const email = 'anna@demo.calsync.test';
  const user = await post(`${emulatorUrl}/_emulator/users`, undefined, { email });
  const db = createDb(process.env.DATABASE_URL!);
  await db('calendar_links')
    .where({ tenant_id: 'demo', staff_id: 'anna', status: 'active' })
    .update({ status: 'disconnected', status_reason: 'replaced by a new demo link' });
  await db.destroy();
  await post(`${apiUrl}/v1/staff/anna/links/google`, apiKey, {
    accountEmail: email,
    refreshToken: user.body.refreshToken,
  });

  // Ben's calendar is in an emulated Microsoft 365 mailbox (the tenant's default calendarMode: a dedicated one).
  let benCalendar: string | undefined;
  if (microsoftUrl) {
    const benEmail = 'ben@demo.calsync.test';
    await post(`${apiUrl}/v1/staff/ben`, apiKey, { name: 'Ben', email: benEmail, timeZone: 'Europe/Madrid' }, 'PUT');
    const mailbox = await post(`${microsoftUrl}/_emulator/users`, undefined, {
      email: benEmail,
      timeZone: 'Europe/Madrid',
      displayName: 'Ben',
    });
    const links = createDb(process.env.DATABASE_URL!);
    await links('calendar_links')
      .where({ tenant_id: 'demo', staff_id: 'ben', status: 'active' })
      .update({ status: 'disconnected', status_reason: 'replaced by a new demo link' });
    await links.destroy();
    await post(`${apiUrl}/v1/staff/ben/links/microsoft`, apiKey, {
      accountEmail: benEmail,
      refreshToken: mailbox.body.refreshToken,
    });
    // Every calendar of the mailbox with its events: calsync writes to a dedicated one named after the business.
    benCalendar = `${microsoftUrl}/_emulator/users/${benEmail}/calendars`;
  }
  // Cleo's calendar is on Radicale, connected by username and password as an iCloud account would be.
  let cleoCalendar: string | undefined;
  if (caldav) {
    await post(
      `${apiUrl}/v1/staff/cleo`,
      apiKey,
      { name: 'Cleo', email: caldav.username, timeZone: 'Europe/Madrid' },
      'PUT',
    );
    const links = createDb(process.env.DATABASE_URL!);
    await links('calendar_links')
      .where({ tenant_id: 'demo', staff_id: 'cleo' })
      .whereNot({ status: 'disconnected' })
      .update({ status: 'disconnected', status_reason: 'replaced by a new demo link' });
    await links.destroy();
    const linked = await post(`${apiUrl}/v1/staff/cleo/links/caldav`, apiKey, {
      serverUrl: `${caldav.url}/`,
      username: caldav.username,
      password: caldav.password,
    });
    if (linked.status !== 201)
      console.error(`linking Cleo's CalDAV calendar: ${linked.status} ${JSON.stringify(linked.body)}`);
    cleoCalendar = `${caldav.url}/${caldav.username}/   (user ${caldav.username}, password ${caldav.password})`;
  }
  return { apiKey, email, emulatorUrl, benCalendar, cleoCalendar };
}

interface DemoCalDav {
  url: string;
  username: string;
  password: string;
}

/**
 * Radicale on 127.0.0.1:5232 (CALDAV_DEMO_PORT) with htpasswd auth and its storage in data/radicale,
 * or nothing when it is not installed (scripts/setup.sh installs it).
 */
async function startDemoCalDav(services: Service[]): Promise<DemoCalDav | undefined> {
  const { spawnSync } = await import('node:child_process');
  if (spawnSync('radicale', ['--version']).status !== 0) {
    console.log('caldav    Radicale not installed: no CalDAV demo (scripts/setup.sh installs it)');
    return undefined;
  }
  const dir = path.join(DATA, 'radicale');
  mkdirSync(dir, { recursive: true });
  const demo = { username: 'cleo@demo.calsync.test', password: 'demo-app-password' };
  const htpasswd = path.join(dir, 'htpasswd');
  writeFileSync(htpasswd, `${demo.username}:${demo.password}\n`, { mode: 0o600 });
  const radicale = await startRadicale({
    port: Number(process.env.CALDAV_DEMO_PORT ?? 5232),
    htpasswdFile: htpasswd,
    storageFolder: path.join(dir, 'collections'),
    logFile: path.join(LOGS, 'radicale.log'),
  });
  services.push(radicale.service);
  const url = radicale.url;
  return { url, ...demo };
}

function printBanner(
  apiUrl: string,
  demo?: { apiKey: string; email: string; emulatorUrl: string; benCalendar?: string; cleoCalendar?: string },
  mailUrl?: string,
) {
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  console.log(`
calsync is running.

  API          ${apiUrl}   (OpenAPI: ${apiUrl}/openapi.json)
  Temporal UI  http://127.0.0.1:8233
  Logs         data/logs/
${mailUrl ? `  Mail         ${mailUrl}   (client invitations, caught by maildev)\n` : ''}
  API reference ${apiUrl}/docs
Workflow payloads are encrypted. To read them in Temporal UI, open ${apiUrl}/codec/login once in that
browser and type the admin key (data/dev-secrets.json); the UI then decodes them by itself.
${
  demo
    ? `  Demo key     ${demo.apiKey}
  Calendar     ${demo.emulatorUrl}/_emulator/users/${demo.email}/calendars
${
  demo.benCalendar
    ? `  Ben (M365)   ${demo.benCalendar}   (self-signed: curl --cacert data/microsoft-emulator-ca.pem)
`
    : ''
}${
        demo.cleoCalendar
          ? `  Cleo (CalDAV) ${demo.cleoCalendar}
`
          : ''
      }
Create an appointment for Anna:

  curl -X PUT ${apiUrl}/v1/appointments/demo-1 \\
    -H 'Authorization: Bearer ${demo.apiKey}' -H 'Content-Type: application/json' \\
    -d '{"revision":1,"start":"${tomorrow}T10:00:00","end":"${tomorrow}T11:00:00","timeZone":"Europe/Madrid","title":"Haircut","clientName":"Ana García","services":["Haircut"],"staffIds":["anna"],"location":"Calle Mayor 1, Madrid","locationTimeZone":"Europe/Madrid","clientEmail":"ana@example.test"}'

  curl ${apiUrl}/v1/appointments/demo-1 -H 'Authorization: Bearer ${demo.apiKey}'
${
  demo.benCalendar
    ? `
Move it to Ben's Microsoft 365 calendar: the same PUT with "revision":2 and "staffIds":["ben"].
`
    : ''
}${
        demo.cleoCalendar
          ? `Or to Cleo's CalDAV calendar (Radicale; open it in any CalDAV app): "revision":3 and "staffIds":["cleo"].
`
          : ''
      }`
    : ''
}
Ctrl-C stops everything.`);
}

void main();
