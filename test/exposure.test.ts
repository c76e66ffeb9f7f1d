import os from 'node:os';
import { loadConfig } from '../lib/config';
import { freePort } from '../scripts/stack';
import { startAppStack, type AppStack } from './helpers/stack';
import { waitUntil } from './helpers/api';

/** What an installation exposes by default: worker metrics on loopback only; forwarded headers believed only when configured. */
describe('exposure by default', () => {
  let metricsPort = 0;
  let stack: AppStack;
  beforeAll(async () => {
    metricsPort = await freePort();
    stack = await startAppStack({
      WORKER_METRICS_PORT: String(metricsPort),
      TRUST_PROXY: 'loopback',
      API_HOST: '0.0.0.0',
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('defaults: worker metrics on loopback, no proxy trusted', () => {
    const config = loadConfig({});
    expect(config.workerMetricsHost).toBe('127.0.0.1');
    expect(config.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  test("worker metrics answer on loopback and not on the host's other addresses", async () => {
    await waitUntil(
      'worker metrics',
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined))?.ok,
      20000,
      200,
    );
    const outside = otherAddress();
    if (outside) await expect(fetch(`http://${outside}:${metricsPort}/metrics`)).rejects.toThrow();
  });

  test("without METRICS_TOKEN the API's metrics answer loopback callers only, whatever they forward", async () => {
    expect((await fetch(`${stack.apiUrl}/metrics`)).status).toBe(200);
    const outside = otherAddress();
    if (!outside) return;
    const port = new URL(stack.apiUrl).port;
    expect((await fetch(`http://${outside}:${port}/metrics`)).status).toBe(403);
    // A forwarded header claiming loopback changes nothing: the socket's peer decides.
    expect(
      (await fetch(`http://${outside}:${port}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } })).status,
    ).toBe(403);
  });

  test('behind a trusted proxy, an https request gets a Secure session cookie', async () => {
    const session = await fetch(`${stack.apiUrl}/codec/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${process.env.CALSYNC_ADMIN_KEY}`, 'x-forwarded-proto': 'https' },
    });
    expect(session.status).toBe(200);
    expect(session.headers.getSetCookie()[0]).toMatch(/;\s*Secure/i);
  });
});

/** An IPv4 address of this host other than loopback, when it has one. */
function otherAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}
