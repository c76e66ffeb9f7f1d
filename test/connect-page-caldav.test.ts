import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { caldav, caldavServerUrl } from './helpers/caldav';
import { waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

/** Fills the CalDAV form (custom server: the test's Radicale, through the proxy) and submits it. */
async function submitCredentials(page: Page, username: string, password: string): Promise<void> {
  await page.selectOption('#caldav-preset', 'custom');
  await page.fill('#caldav-serverUrl', caldavServerUrl());
  await page.fill('#caldav-username', username);
  await page.fill('#caldav-password', password);
  await page.click('#credentials-caldav button[type=submit]');
  await page.waitForLoadState();
}

/** The connect page's CalDAV form in a real headless Chromium, against Radicale. */
describe('connect page: CalDAV by username and app-specific password', () => {
  const stack = useAppStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('a wrong password is refused and stores nothing; the right one connects; a revoked one asks for a new password', async () => {
    const world = await TenantWorld.create(stack.apiUrl, { calendarMode: 'dedicated', consentAccounts: 'any' });
    await world.call('PUT', '/v1/staff/ivy', { name: 'Ivy' });
    let account = caldav.createAccount('ivy');
    const session = await world.call('POST', '/v1/connect-sessions', { staffId: 'ivy' });
    const page = await browser.newPage();
    try {
      await page.goto(session.body.url);
      // The form: presets, and the plain word on iCloud's app-specific passwords.
      const presets = await page.$$eval('#caldav-preset option', (o) => o.map((x) => x.getAttribute('value')));
      expect(presets).toEqual(['icloud', 'fastmail', 'nextcloud', 'custom']);
      expect(await page.textContent('#credentials-caldav')).toMatch(/app-specific password/i);

      const fill = (password: string) => submitCredentials(page, account.username, password);
      await fill('not-the-password');
      expect(await page.textContent('#refusal')).toMatch(/did not accept this username and password/);
      expect(await testDb()('calendar_links').where({ tenant_id: world.tenantId })).toEqual([]);

      await page.goBack();
      await fill(account.password);
      expect(page.url()).toBe(`${stack.apiUrl}/connect?staff=ivy&connected=caldav`);
      const [row] = await testDb()('calendar_links').where({ tenant_id: world.tenantId });
      expect(row).toMatchObject({ provider: 'caldav', account_email: account.username });
      await world.linkConnected(row.id);
      expect(await page.content()).not.toContain(account.password);

      // The password is revoked on the server: the next write marks the link, and the form asks for a new one.
      account = caldav.setPassword(account, 'a-new-app-password');
      await world.put('v1', { revision: 1, staffIds: ['ivy'] });
      await waitUntil('needs_reauth', async () => {
        const l = await testDb()('calendar_links').where({ id: row.id }).first();
        return l.status === 'needs_reauth';
      });
      await page.reload();
      // The page shows the link needing a new password; the same form takes it.
      expect(await page.getAttribute(`li.link[data-link-id="${row.id}"]`, 'data-status')).toBe('needs_reauth');
      await fill(account.password);
      await world.waitSynced('v1', 1, 60000);
      expect((await testDb()('calendar_links').where({ id: row.id }).first()).status).toBe('active');
    } finally {
      await page.close();
    }
  });
  test("a refusal is told in the page's language", async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      calendarMode: 'dedicated',
      consentAccounts: 'any',
      connectLanguage: 'es',
    });
    await world.call('PUT', '/v1/staff/eva', { name: 'Eva' });
    const account = caldav.createAccount('eva');
    const session = await world.call('POST', '/v1/connect-sessions', { staffId: 'eva' });
    const page = await browser.newPage();
    try {
      await page.goto(session.body.url);
      await submitCredentials(page, account.username, 'not-the-password');
      const refusal = await page.textContent('#refusal');
      expect(refusal).toMatch(/no aceptó este usuario y contraseña/);
      expect(refusal).not.toMatch(/did not accept/);
    } finally {
      await page.close();
    }
  });
});
