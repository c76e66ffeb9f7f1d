import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';
import { waitUntil } from './helpers/api';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A stand-in CRM endpoint that can be told to fail its first answers. */
async function crmReceiver(failFirst: number) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const answered = received.length < failFirst ? 503 : 204;
      received.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/calsync-hook`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

function verify(secret: string, r: Received) {
  const [t, v1] = String(r.headers['calsync-signature'])
    .split(',')
    .map((p) => p.split('=')[1]);
  return (
    createHmac('sha256', secret).update(`${t}.${r.body}`).digest('hex') === v1 &&
    Math.abs(Date.now() / 1000 - Number(t)) < 300
  );
}

describe('webhooks to the CRM', () => {
  // The stand-in CRM listens on loopback: the installation allow-lists it (development and tests only).
  const stack = useAppStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });

  test('a sync failure and its recovery are signed notifications, retried until the CRM takes them', async () => {
    const crm = await crmReceiver(2);
    try {
      const world = await TenantWorld.create(stack.apiUrl);
      const secret = 'whsec_0123456789abcdef';
      const settings = await world.call('PUT', '/v1/settings', { webhookUrl: crm.url, webhookSecret: secret });
      expect(settings.status).toBe(200);
      expect(settings.body).toMatchObject({ webhookUrl: crm.url, webhookSecretSet: true });
      expect(JSON.stringify(settings.body)).not.toContain(secret);

      const staff = await world.staffWithGoogle('vera');
      await googleEmulator.forbidCalendar(staff.calendarId, true);
      await world.put('hook-1', { revision: 1, staffIds: ['vera'] });
      // Two refusals (503), then accepted: three deliveries of the same event.
      await waitUntil('failure notice delivered', async () => crm.received.some((r) => r.answered === 204), 30000, 200);
      expect(crm.received.map((r) => r.answered)).toEqual([503, 503, 204]);
      expect(new Set(crm.received.map((r) => r.headers['calsync-delivery'])).size).toBe(1);
      const failure = JSON.parse(crm.received[2]!.body);
      expect(failure).toMatchObject({
        type: 'appointment.sync_state_changed',
        tenantId: world.tenantId,
        data: {
          appointmentId: 'hook-1',
          revision: 1,
          state: 'failed',
          targets: [expect.objectContaining({ state: 'failed', errorCode: 'forbidden' })],
        },
      });
      expect(crm.received.every((r) => verify(secret, r))).toBe(true);
      expect(verify('another-secret-entirely', crm.received[2]!)).toBe(false);
      expect(crm.received[2]!.body).not.toContain('Ana García');

      await googleEmulator.forbidCalendar(staff.calendarId, false);
      await world.call('POST', '/v1/appointments/hook-1/resync', {});
      const recovered = await waitUntil(
        'recovery notice',
        async () => crm.received.map((r) => JSON.parse(r.body)).find((b) => b.data.state === 'synced'),
        15000,
        200,
      );
      expect(recovered.data).toMatchObject({ appointmentId: 'hook-1', state: 'synced' });

      // Successes that follow send nothing more.
      const before = crm.received.length;
      await world.put('hook-1', { revision: 2, staffIds: ['vera'], title: 'Moved' });
      await world.waitSynced('hook-1', 2);
      await new Promise((r) => setTimeout(r, 1000));
      expect(crm.received.length).toBe(before);
    } finally {
      await crm.close();
    }
  });

  test('a revoked grant tells the CRM the link needs re-authorisation', async () => {
    const crm = await crmReceiver(0);
    try {
      const world = await TenantWorld.create(stack.apiUrl);
      await world.call('PUT', '/v1/settings', { webhookUrl: crm.url, webhookSecret: 'whsec_abcdefghijklmnop' });
      const staff = await world.staffWithGoogle('walt');
      await googleEmulator.revokeUser(staff.email);
      await world.put('hook-2', { revision: 1, staffIds: ['walt'] });
      const notice = await waitUntil(
        'reauth notice',
        async () => crm.received.map((r) => JSON.parse(r.body)).find((b) => b.type === 'link.needs_reauth'),
        15000,
        200,
      );
      expect(notice.data).toMatchObject({ staffId: 'walt', provider: 'google', reason: 'invalid_grant' });
    } finally {
      await crm.close();
    }
  });

  test('bad webhook settings are 400s naming the field', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    expect((await world.call('PUT', '/v1/settings', { webhookUrl: 'ftp://crm.example' })).body.message).toMatch(
      /^webhookUrl:/,
    );
    expect((await world.call('PUT', '/v1/settings', { webhookSecret: 'short' })).body.message).toMatch(
      /^webhookSecret:/,
    );
    expect((await world.call('PUT', '/v1/settings', { colour: 'blue' })).status).toBe(400);
  });
});

/** A local server that counts every connection made to it, whatever is sent. */
async function connectionCounter() {
  let connections = 0;
  const server = http.createServer((_req, res) => res.writeHead(204).end());
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('webhook addresses are safe by construction', () => {
  // No allow-list: what a production installation runs with.
  const stack = useAppStack();

  test('private, loopback, link-local, decimal and plain-http addresses are a 400 naming webhookUrl', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    for (const url of [
      'http://crm.example/hook',
      'https://127.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://10.1.2.3/hook',
      'https://[::1]/hook',
      'https://0.0.0.0/hook',
      'https://2130706433/hook',
      'https://user:pass@crm.example/hook',
    ]) {
      const res = await world.call('PUT', '/v1/settings', { webhookUrl: url });
      expect([url, res.status]).toEqual([url, 400]);
      expect(res.body.message).toMatch(/^webhookUrl: /);
    }
    expect((await world.call('PUT', '/v1/settings', { webhookUrl: 'https://crm.example/hook' })).status).toBe(200);
  });

  test('a name that resolves to loopback is refused where it is connected to: nothing reaches the address', async () => {
    const local = await connectionCounter();
    try {
      const world = await TenantWorld.create(stack.apiUrl);
      // A name, so the API cannot tell; the worker checks the address it resolves to.
      const saved = await world.call('PUT', '/v1/settings', { webhookUrl: `https://localhost:${local.port}/hook` });
      expect(saved.status).toBe(200);
      const staff = await world.staffWithGoogle('sia');
      await googleEmulator.forbidCalendar(staff.calendarId, true);
      await world.put('ssrf-1', { revision: 1, staffIds: ['sia'] });
      await waitUntil(
        'the sync failed (a webhook is due)',
        async () => (await world.status('ssrf-1'))?.sync.state === 'failed',
        30000,
        200,
      );
      await new Promise((r) => setTimeout(r, 2000));
      expect(local.connections()).toBe(0);
    } finally {
      await local.close();
    }
  });
});

describe('webhook redirects', () => {
  const stack = useAppStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });

  test('a redirect is never followed: the body and its signature go nowhere else', async () => {
    const elsewhere = await connectionCounter();
    let asked = 0;
    const redirecting = http.createServer((req, res) => {
      asked++;
      req.resume();
      res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/stolen` }).end();
    });
    await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r));
    try {
      const world = await TenantWorld.create(stack.apiUrl);
      const port = (redirecting.address() as AddressInfo).port;
      await world.call('PUT', '/v1/settings', {
        webhookUrl: `http://127.0.0.1:${port}/hook`,
        webhookSecret: 'whsec_abcdefghijklmnop',
      });
      const staff = await world.staffWithGoogle('rex');
      await googleEmulator.forbidCalendar(staff.calendarId, true);
      await world.put('redirect-1', { revision: 1, staffIds: ['rex'] });
      await waitUntil('the webhook was asked', async () => asked > 0, 30000, 200);
      await new Promise((r) => setTimeout(r, 3000));
      // Refused for good: asked once, never retried, never followed.
      expect(asked).toBe(1);
      expect(elsewhere.connections()).toBe(0);
    } finally {
      await new Promise((r) => redirecting.close(r));
      await elsewhere.close();
    }
  });
});
