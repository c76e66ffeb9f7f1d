import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SecretBox } from '../lib/secretBox';
import { waitUntil } from './helpers/api';
import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The connect page in a real headless Chromium, through the emulators' real consent pages. */
describe('connect page', () => {
  const stack = useAppStack();
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-dev-shm-usage',
        '--disable-gpu',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The CRM's part: a short-lived URL for the page. */
  async function pageUrl(world: TenantWorld, body: Record<string, unknown> = {}): Promise<string> {
    const res = await world.call('POST', '/v1/connect-sessions', body);
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(new RegExp(`^${stack.apiUrl}/connect\\?session=`));
    return res.body.url;
  }

  /** Press "Connect …", sign in as `email` on the provider's consent page, press Allow; back on the page. */
  async function connectThroughPage(page: Page, provider: 'google' | 'microsoft', email: string): Promise<void> {
    await page.click(`#connect-${provider}`);
    await page
      .waitForURL((url) => url.origin !== new URL(stack.apiUrl).origin, { timeout: 5000 })
      .catch(async (err) => {
        throw new Error(`${err}: at ${page.url()}: ${(await page.content()).slice(0, 800)}`);
      });
    await page.fill('input[name="login_hint"]', email);
    await page.click('button[value="allow"]');
    await page.waitForURL((url) => url.toString().startsWith(`${stack.apiUrl}/connect?staff=`));
  }

  const linkStatuses = async (page: Page) =>
    page.$$eval('li.link', (items) =>
      items.map((li) => ({
        provider: li.getAttribute('data-provider'),
        status: li.getAttribute('data-status'),
        text: li.textContent ?? '',
      })),
    );

  /** Reloads the page until the list shows what `ok` wants (the link workflow works in the background). */
  async function waitForList(
    page: Page,
    what: string,
    ok: (links: Awaited<ReturnType<typeof linkStatuses>>) => boolean,
  ) {
    return waitUntil(
      what,
      async () => {
        await page.reload();
        const links = await linkStatuses(page);
        return ok(links) ? links : undefined;
      },
      60000,
      500,
    );
  }

  test('connect Google and Microsoft through the page: both healthy, future bookings in both calendars; Disconnect removes them', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      businessName: 'Salón <Ana> & Co',
      calendarMode: 'dedicated',
      // Ivy connects a Google and a Microsoft account of her own, neither of them her e-mail in the app.
      consentAccounts: { domains: ['example.test', 'contoso.test'] },
    });
    expect((await world.call('PUT', '/v1/staff/ivy', { name: 'Ivy Díaz' })).status).toBe(200);
    expect((await world.call('PUT', '/v1/staff/other', { name: 'Other person' })).status).toBe(200);
    for (const [id, day] of [
      ['b1', 2],
      ['b2', 5],
    ] as const) {
      expect((await world.put(id, { revision: 1, staffIds: ['ivy'], title: id }, day)).status).toBe(202);
    }
    for (const id of ['b1', 'b2']) await world.waitSynced(id, 1);
    const googleEmail = `ivy-${randomUUID().slice(0, 8)}@example.test`;
    const microsoftEmail = `ivy-${randomUUID().slice(0, 8)}@contoso.test`;

    const context = await browser.newContext({ ignoreHTTPSErrors: true }); // the Microsoft emulator's own CA
    const page = await context.newPage();
    await page.goto(await pageUrl(world));
    // The token left the address bar for an HttpOnly cookie.
    expect(page.url()).toBe(`${stack.apiUrl}/connect`);
    const cookies = await context.cookies(`${stack.apiUrl}/connect`);
    expect(cookies.find((c) => c.name === 'calsync_connect')).toMatchObject({ httpOnly: true, path: '/connect' });
    expect(await page.title()).toBe('Calendar connections — Salón <Ana> & Co');

    await page.selectOption('#staff', 'ivy');
    await page.click('#pick');
    await page.waitForURL(`${stack.apiUrl}/connect?staff=ivy`);
    expect(await page.textContent('#no-links')).toContain('No calendar connected yet');

    await connectThroughPage(page, 'google', googleEmail);
    await connectThroughPage(page, 'microsoft', microsoftEmail);
    const healthy = await waitForList(
      page,
      'both links healthy',
      (links) => links.length === 2 && links.every((l) => l.status === 'active'),
    );
    expect(healthy.map((l) => l.provider).sort()).toEqual(['google', 'microsoft']);
    expect(healthy.every((l) => l.text.includes('Healthy'))).toBe(true);

    // The staff member's existing future bookings land in both calendars.
    const rows = await testDb()('calendar_links').where({ tenant_id: world.tenantId, staff_id: 'ivy' });
    const calendarOf = (provider: string) => rows.find((r) => r.provider === provider)!.calendar_id;
    // Each in a calendar of its own, named after the business.
    expect(rows.map((r) => [r.provider, r.calendar_owned])).toEqual(
      expect.arrayContaining([
        ['google', true],
        ['microsoft', true],
      ]),
    );
    expect(calendarOf('google')).toMatch(/@group\.calendar\.google\.com$/);
    expect(calendarOf('microsoft')).not.toBe('calendar');
    expect((await googleEmulator.calendars(googleEmail)).find((c) => c.id === calendarOf('google'))?.summary).toBe(
      'Salón <Ana> & Co',
    );
    expect(
      (await microsoftEmulator.calendars(microsoftEmail)).find((c) => c.id === calendarOf('microsoft'))?.name,
    ).toBe('Salón <Ana> & Co');
    const googleTitles = async () =>
      (await googleEmulator.liveEvents(calendarOf('google'))).map((e) => e.summary).sort();
    const microsoftTitles = async () =>
      (await microsoftEmulator.events(microsoftEmail, calendarOf('microsoft'))).map((e) => e.subject).sort();
    const expected = ['b1 – Ana García', 'b2 – Ana García'];
    await waitUntil(
      'google backfill',
      async () => JSON.stringify(await googleTitles()) === JSON.stringify(expected),
      60000,
      300,
    );
    await waitUntil(
      'microsoft backfill',
      async () => JSON.stringify(await microsoftTitles()) === JSON.stringify(expected),
      60000,
      300,
    );

    // The page never shows a token.
    const secrets = new SecretBox(process.env.CALSYNC_TOKEN_KEYS!);
    const html = await page.content();
    for (const r of rows) {
      expect(html).not.toContain(secrets.open(r.refresh_token_sealed));
      if (r.access_token_sealed) expect(html).not.toContain(secrets.open(r.access_token_sealed));
    }

    // Disconnect both from the page: the events go, the list says so.
    for (const provider of ['google', 'microsoft']) {
      await page.click(`li.link[data-provider="${provider}"] button.disconnect`);
      await page.waitForURL(`${stack.apiUrl}/connect?staff=ivy`);
    }
    // The dedicated calendars go as a whole, and with them the events.
    await waitUntil(
      'google calendar removed',
      async () => !(await googleEmulator.calendars(googleEmail)).some((c) => c.id === calendarOf('google')),
      60000,
      300,
    );
    await waitUntil(
      'microsoft calendar removed',
      async () => !(await microsoftEmulator.calendars(microsoftEmail)).some((c) => c.id === calendarOf('microsoft')),
      60000,
      300,
    );
    expect((await googleEmulator.calendars(googleEmail)).map((c) => c.primary)).toEqual([true]);
    expect((await microsoftEmulator.calendars(microsoftEmail)).map((c) => c.isDefaultCalendar)).toEqual([true]);
    const gone = await waitForList(
      page,
      'both links disconnected',
      (links) => links.length === 2 && links.every((l) => l.status === 'disconnected'),
    );
    expect(gone.every((l) => l.text.includes('Disconnected'))).toBe(true);
    expect(await page.$$('button.disconnect')).toHaveLength(0);
    const after = await testDb()('calendar_links').where({ tenant_id: world.tenantId, staff_id: 'ivy' });
    expect(after.map((r) => [r.status, r.refresh_token_sealed])).toEqual([
      ['disconnected', null],
      ['disconnected', null],
    ]);
    await context.close();
  });

  test('escapes what it shows; a session for one staff member offers only them', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/mal', { name: '<img src=x onerror=alert(1)>' });
    await world.call('PUT', '/v1/staff/zed', { name: 'Zed' });
    const context = await browser.newContext();
    const page = await context.newPage();
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(await pageUrl(world, { staffId: 'mal' }));
    expect(page.url()).toBe(`${stack.apiUrl}/connect?staff=mal`);
    expect(await page.$$eval('#staff option', (os) => os.map((o) => o.textContent))).toEqual([
      '<img src=x onerror=alert(1)>',
    ]);
    expect(await page.$$('img')).toHaveLength(0);
    // Another staff member of the same tenant is out of this session's reach.
    await page.goto(`${stack.apiUrl}/connect?staff=zed`);
    expect(await page.$$('#connect-google')).toHaveLength(0);
    expect(dialogs).toBe(0);
    await context.close();
  });

  test('without a valid session or CSRF token nothing happens', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/kit', { name: 'Kit' });
    expect((await world.call('POST', '/v1/connect-sessions', { staffId: 'nobody' })).status).toBe(404);
    expect((await world.call('POST', '/v1/connect-sessions', { staffId: 'kit', extra: 1 })).status).toBe(400);
    expect((await fetch(`${stack.apiUrl}/v1/connect-sessions`, { method: 'POST' })).status).toBe(401);

    // A tampered URL token, and no cookie at all: the expired page.
    const url = await pageUrl(world);
    expect((await fetch(`${url}x`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${stack.apiUrl}/connect`, { redirect: 'manual' })).status).toBe(401);

    // A genuine session: the page works; a form post without the page's CSRF token is refused.
    const opened = await fetch(url, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    expect(opened.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    // The URL works once: opened again (from a mail, a log, a shoulder) it is the expired page, no cookie.
    const again = await fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.getSetCookie()).toEqual([]);
    const shown = await fetch(`${stack.apiUrl}/connect?staff=kit`, { headers: { cookie } });
    expect(shown.status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await shown.text())![1]!;
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${stack.apiUrl}/connect/links`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields),
      });
    expect((await post({ staffId: 'kit', provider: 'google' })).status).toBe(403);
    expect((await post({ staffId: 'kit', provider: 'google', csrf: `${csrf}x` })).status).toBe(403);
    expect((await post({ staffId: 'kit', provider: 'google', csrf }, { origin: 'https://evil.example' })).status).toBe(
      403,
    );
    const ok = await post({ staffId: 'kit', provider: 'google', csrf }, { origin: stack.apiUrl });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toContain('code_challenge=');
    // The URL token is no session cookie, and a session cookie is no URL token.
    const urlToken = new URL(url).searchParams.get('session')!;
    expect(
      (await fetch(`${stack.apiUrl}/connect`, { headers: { cookie: `calsync_connect=${urlToken}` } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${stack.apiUrl}/connect?session=${cookie.split('=')[1]}`, { redirect: 'manual' })).status,
    ).toBe(401);
  });
});
