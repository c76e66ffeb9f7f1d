import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort, type Service } from '../scripts/stack';
import { startTemporalUi } from '../scripts/temporalUi';
import { launchChromium, outputDir } from './helpers/browser';
import { startAppStack, type AppStack } from './helpers/stack';
import { CalsyncStaff, CalsyncState } from '../lib/searchAttributes';
import { waitUntil } from './helpers/api';
import { googleEmulator } from './helpers/emulator';
import { TenantWorld, closeTestClients, temporalClient } from './helpers/world';

/**
 * Temporal UI, as `npm start` runs it, decodes calsync's encrypted payloads with no manual step:
 * the admin signs in once at the API's /codec/login, and the UI (told by its server to send
 * credentials to the codec endpoint) shows the appointment's title in the workflow's input.
 */
describe('Temporal UI', () => {
  let stack: AppStack;
  let ui: Service;
  let uiUrl: string;
  let browser: Browser;
  const shots = outputDir('temporal-ui');

  beforeAll(async () => {
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    stack = await startAppStack({ TEMPORAL_UI_ORIGINS: uiUrl, SYNC_ACTIVITY_MAX_ATTEMPTS: '30' });
    ui = await startTemporalUi({
      port: uiPort,
      temporalAddress: process.env.TEMPORAL_ADDRESS!,
      codecEndpoint: `${stack.apiUrl}/codec`,
      workDir: path.join(process.env.CALSYNC_TEST_TMP!, `temporal-ui-${uiPort}`),
      logFile: path.join(process.env.CALSYNC_TEST_TMP!, `temporal-ui-${uiPort}.log`),
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await stack?.stop();
    await closeTestClients();
  });

  test('an appointment workflow opens with its input decoded (the title readable) and no codec banner', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.staffWithGoogle('uma');
    const appointmentId = `ui-${randomUUID().slice(0, 8)}`;
    const title = `Colour and cut ${randomUUID().slice(0, 6)}`;
    expect((await world.put(appointmentId, { revision: 1, staffIds: ['uma'], title })).status).toBe(202);
    await world.waitSynced(appointmentId, 1);
    const workflowId = `appt:${world.tenantId}:${appointmentId}`;

    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    // The one step: the admin key typed into the API's form (never in a URL) sets the codec session.
    await page.goto(`${stack.apiUrl}/codec/login`);
    await page.fill('input[name="key"]', process.env.CALSYNC_ADMIN_KEY!);
    await page.click('button[type="submit"]');
    await page.waitForLoadState('load');

    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    // The workflow's input (the first event's payload) and its summary arrive decrypted.
    await page.getByText(`"appointmentId": "${appointmentId}"`).first().waitFor({ timeout: 30000 });
    await page.getByText(title).first().waitFor({ timeout: 30000 });
    await page.screenshot({ path: path.join(shots, 'workflow.png'), fullPage: true });
    expect(await page.getByText('Codec Server could not connect').count()).toBe(0);
    expect(await page.content()).toContain(`appointment ${appointmentId} · ${title} · confirmed`);

    // The list finds it by the filter the README gives (its Summary column is one to add with the gear).
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`);
    await page.getByText(workflowId).first().waitFor({ timeout: 30000 });
    await page.screenshot({ path: path.join(shots, 'list.png'), fullPage: true });

    // Without the session the codec answers nothing: a fresh browser sees no title.
    const stranger = await browser.newContext();
    const other = await stranger.newPage();
    await other.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    await other.waitForTimeout(3000);
    expect(await other.getByText(title).count()).toBe(0);
    await stranger.close();
    await context.close();
  });

  test('CalsyncState says retrying while a target is retried, then synced; CalsyncStaff finds a staff member’s appointments', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('rex');
    await googleEmulator.setFaults({ user: staff.email, errorRate: 1, errorStatuses: [503] });
    const handle = (await temporalClient()).workflow.getHandle(`appt:${world.tenantId}:r-1`);
    try {
      expect((await world.put('r-1', { revision: 1, staffIds: ['rex'] })).status).toBe(202);
      await waitUntil(
        'CalsyncState retrying',
        async () => (await handle.describe()).typedSearchAttributes.get(CalsyncState) === 'retrying',
        20000,
        200,
      );
    } finally {
      await googleEmulator.clearFaults(staff.email);
    }
    await world.waitSynced('r-1', 1);
    await waitUntil(
      'CalsyncState synced',
      async () => (await handle.describe()).typedSearchAttributes.get(CalsyncState) === 'synced',
      20000,
      200,
    );

    // The README's filter for a staff member's appointments, and it follows a reassignment.
    const client = await temporalClient();
    const ids = async (query: string) => {
      const found: string[] = [];
      for await (const w of client.workflow.list({ query })) found.push(w.workflowId);
      return found;
    };
    const byStaff = (staffId: string) =>
      `WorkflowType="appointmentSync" AND CalsyncTenant="${world.tenantId}" AND CalsyncStaff="${staffId}"`;
    await waitUntil('listed by staff', async () => (await ids(byStaff('rex'))).includes(handle.workflowId), 20000, 300);
    await world.call('PUT', '/v1/staff/zoe', { name: 'Zoe' });
    expect((await world.put('r-1', { revision: 2, staffIds: ['zoe'] })).status).toBe(202);
    await waitUntil(
      'staff follows the reassignment',
      async () => (await handle.describe()).typedSearchAttributes.get(CalsyncStaff)?.join() === 'zoe',
      20000,
      200,
    );
    await waitUntil(
      'listed under zoe',
      async () => (await ids(byStaff('zoe'))).includes(handle.workflowId),
      20000,
      300,
    );
  });
});
