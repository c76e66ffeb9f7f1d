import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { messagesOf, CONNECT_LANGUAGES } from '../api/connect/i18n';
import { renderConnectPage } from '../api/connect/page';
import { SecretBox } from '../lib/secretBox';
import { waitUntil } from './helpers/api';
import { DESKTOP, PHONE, launchChromium, outputDir, seriousAxeViolations } from './helpers/browser';
import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

const shots = outputDir('connect-page');

/** The connect page in a real headless Chromium, through the emulators' real consent pages. */
describe('connect page', () => {
  // Links refresh their token every few seconds, so a grant revoked at the provider shows soon.
  const stack = useAppStack({ LINK_TOKEN_REFRESH_AHEAD_MS: '3597000' });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
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

  /** A context whose pages axe can run in (the page's CSP allows no script), in a browser language. */
  const newContext = (locale = 'en-US', viewport = DESKTOP): Promise<BrowserContext> =>
    browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, locale, viewport });

  async function expectAccessible(page: Page, shot: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${shot}.png`), fullPage: true });
    expect(await seriousAxeViolations(page)).toEqual([]);
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

  test('connect Google and Microsoft through the page: success screen, both healthy, future bookings in both calendars; Disconnect after a confirmation removes them', async () => {
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

    const context = await newContext(); // ignoreHTTPSErrors: the Microsoft emulator's own CA
    const page = await context.newPage();
    await page.goto(await pageUrl(world));
    // The token left the address bar for an HttpOnly cookie.
    expect(page.url()).toBe(`${stack.apiUrl}/connect`);
    const cookies = await context.cookies(`${stack.apiUrl}/connect`);
    expect(cookies.find((c) => c.name === 'calsync_connect')).toMatchObject({ httpOnly: true, path: '/connect' });
    expect(await page.title()).toBe('Calendar connections — Salón <Ana> & Co');

    // No staff member named by the CRM: the person picks themselves from a plain list.
    expect(await page.$$eval('#staff a', (as) => as.map((a) => a.textContent))).toEqual(['Ivy Díaz', 'Other person']);
    await expectAccessible(page, 'chooser-en-desktop');
    await page.click('#staff a[data-staff-id="ivy"]');
    await page.waitForURL(`${stack.apiUrl}/connect?staff=ivy`);
    expect(await page.textContent('#no-links')).toContain('No calendar connected yet');

    await connectThroughPage(page, 'google', googleEmail);
    // Back from consent: the success screen names the calendar and the account.
    expect(page.url()).toBe(`${stack.apiUrl}/connect?staff=ivy&connected=google`);
    expect(await page.textContent('#success h2')).toBe('Your Google calendar is connected');
    expect(await page.textContent('#success')).toContain(googleEmail);
    await expectAccessible(page, 'success-en-desktop');
    await connectThroughPage(page, 'microsoft', microsoftEmail);
    expect(await page.textContent('#success h2')).toBe('Your Microsoft calendar is connected');
    const healthy = await waitForList(
      page,
      'both links healthy',
      (links) => links.length === 2 && links.every((l) => l.status === 'active'),
    );
    expect(healthy.map((l) => l.provider).sort()).toEqual(['google', 'microsoft']);
    expect(healthy.every((l) => l.text.includes('Connected and working'))).toBe(true);

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

    // Disconnect asks first, in plain words, what happens to the events; "No" changes nothing.
    await page.click('li.link[data-provider="google"] a.disconnect');
    expect(await page.textContent('#confirm-title')).toBe('Disconnect your Google calendar?');
    expect(await page.textContent('#what-happens')).toBe(
      'The bookings calsync added to this calendar will be removed from it. Your own events are not touched.',
    );
    await expectAccessible(page, 'confirm-disconnect-en-desktop');
    await page.click('#keep-connected');
    await page.waitForURL(`${stack.apiUrl}/connect?staff=ivy`);
    expect((await linkStatuses(page)).map((l) => l.status)).toEqual(['active', 'active']);
    // Then for real: the events go, the list says so.
    for (const provider of ['google', 'microsoft']) {
      await page.click(`li.link[data-provider="${provider}"] a.disconnect`);
      await page.click('#confirm-disconnect');
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
    // Disconnected calendars leave the list.
    await waitForList(page, 'both links gone from the list', (links) => links.length === 0);
    expect(await page.textContent('#no-links')).toContain('No calendar connected yet');
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
    // The CRM named the staff member: their own page, no chooser.
    expect(await page.$$('#staff')).toHaveLength(0);
    expect(await page.textContent('h1')).toBe('Hello, <img src=x onerror=alert(1)>');
    expect(await page.$$('img')).toHaveLength(0);
    // Another staff member of the same tenant is out of this session's reach.
    await page.goto(`${stack.apiUrl}/connect?staff=zed`);
    expect(
      await page.$$eval('input[name="staffId"]', (is) => [...new Set(is.map((i) => i.getAttribute('value')))]),
    ).toEqual(['mal']);
    expect(await page.textContent('h1')).toBe('Hello, <img src=x onerror=alert(1)>');
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

  test('the page in English and Persian (right to left) at phone and desktop sizes, accessible; a revoked link says why and reconnects with one button', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      businessName: 'Studio Różana',
      consentAccounts: { domains: ['example.test', 'contoso.test'] },
    });
    await world.call('PUT', '/v1/staff/sara', { name: 'Sara Ahmadi' });
    const googleEmail = `sara-${randomUUID().slice(0, 8)}@example.test`;
    const microsoftEmail = `sara-${randomUUID().slice(0, 8)}@contoso.test`;
    const context = await newContext('en-US');
    const page = await context.newPage();
    await page.goto(await pageUrl(world, { staffId: 'sara' }));
    await connectThroughPage(page, 'google', googleEmail);
    await connectThroughPage(page, 'microsoft', microsoftEmail);
    await waitForList(page, 'both healthy', (links) => links.length === 2 && links.every((l) => l.status === 'active'));
    // Sara withdraws calsync's access in her Google account: the page says so and why, with one button.
    await googleEmulator.revokeUser(googleEmail);
    await waitForList(page, 'google needs reauth', (links) =>
      links.some((l) => l.provider === 'google' && l.status === 'needs_reauth'),
    );
    const revoked = page.locator('li.link[data-provider="google"]');
    expect(await revoked.locator('.status').textContent()).toBe('Needs you to reconnect');
    expect(await revoked.locator('.reason').textContent()).toContain('Access was withdrawn or has run out');
    expect(await revoked.locator('button').count()).toBe(1);

    for (const [locale, lang] of [
      ['en-US', 'en'],
      ['fa-IR', 'fa'],
    ] as const) {
      const t = messagesOf(lang);
      for (const [size, viewport] of [
        ['phone', PHONE],
        ['desktop', DESKTOP],
      ] as const) {
        const ctx = await newContext(locale, viewport);
        const p = await ctx.newPage();
        await p.context().addCookies(await context.cookies());
        const res = await p.goto(`${stack.apiUrl}/connect`);
        expect(res?.status()).toBe(200);
        expect(await p.getAttribute('html', 'lang')).toBe(lang);
        expect(await p.getAttribute('html', 'dir')).toBe(lang === 'fa' ? 'rtl' : 'ltr');
        expect(await p.textContent('h1')).toBe(t.greeting('Sara Ahmadi'));
        expect(await p.textContent('header.top')).toBe('Studio Różana');
        expect(await p.textContent('li.link[data-provider="google"] .status')).toBe(t.status.needs_reauth);
        expect(await p.textContent('li.link[data-provider="microsoft"] .status')).toBe(t.status.active);
        expect(await p.textContent('#reconnect-google span')).toBe(t.reconnect('Google'));
        // Big enough to hit with a thumb, and nothing wider than the screen.
        const box = (await p.locator('#connect-microsoft').boundingBox())!;
        expect(box.height).toBeGreaterThanOrEqual(44);
        expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(viewport.width);
        if (lang === 'fa') {
          // Right to left: the provider's mark sits at the right of its button.
          const mark = (await p.locator('#connect-microsoft svg').boundingBox())!;
          expect(mark.x).toBeGreaterThan(box.x + box.width / 2);
        }
        await expectAccessible(p, `page-${lang}-${size}`);
        await ctx.close();
      }
    }

    // Reconnect: the same account again, through the one button; the same link is healthy again.
    const before = await testDb()('calendar_links').where({ tenant_id: world.tenantId, provider: 'google' });
    await page.click('#reconnect-google');
    await page.waitForURL((url) => url.origin !== new URL(stack.apiUrl).origin);
    await page.fill('input[name="login_hint"]', googleEmail);
    await page.click('button[value="allow"]');
    await page.waitForURL(`${stack.apiUrl}/connect?staff=sara&connected=google`);
    expect(await page.textContent('#success h2')).toBe('Your Google calendar is connected');
    const healthy = await waitForList(page, 'google healthy again', (links) =>
      links.some((l) => l.provider === 'google' && l.status === 'active'),
    );
    expect(healthy).toHaveLength(2);
    const after = await testDb()('calendar_links').where({ tenant_id: world.tenantId, provider: 'google' });
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    await context.close();
  });

  test('an expired link, a denied consent and the wrong account: pages in the same style and language saying what to do next', async () => {
    const world = await TenantWorld.create(stack.apiUrl, { connectLanguage: 'es' });
    await world.call('PUT', '/v1/staff/leo', { name: 'Leo', email: 'leo@example.test' });
    const es = messagesOf('es');
    // The tenant's language wins over the browser's.
    const context = await newContext('en-US', PHONE);
    const page = await context.newPage();
    const url = await pageUrl(world, { staffId: 'leo' });
    await page.goto(url);
    expect(await page.getAttribute('html', 'lang')).toBe('es');

    // The URL works once: opened again, the expired page.
    const other = await newContext('en-US', PHONE);
    const second = await other.newPage();
    const expired = await second.goto(url);
    expect(expired?.status()).toBe(401);
    expect(await second.textContent('#expired h1')).toBe(es.errors.expired.title);
    expect(await second.textContent('.next')).toBe(es.errors.expired.next);
    expect(await second.$$('link[rel="stylesheet"]')).toHaveLength(1);
    await expectAccessible(second, 'expired-es-phone');
    // A link nobody can read (no tenant known): the browser's language.
    const unknown = await (await newContext('pl-PL', PHONE)).newPage();
    await unknown.goto(`${stack.apiUrl}/connect?session=forged.x`);
    expect(await unknown.textContent('#expired h1')).toBe(messagesOf('pl').errors.expired.title);
    await unknown.context().close();
    await other.close();

    // Denied consent: nothing connected, and a way back to the page.
    await page.click('#connect-google');
    await page.waitForURL((u) => u.origin !== new URL(stack.apiUrl).origin);
    await page.fill('input[name="login_hint"]', 'leo@example.test');
    await page.click('button[value="deny"]');
    await page.waitForSelector('#denied');
    expect(await page.textContent('#denied h1')).toBe(es.errors.denied.title);
    expect(await page.textContent('.next')).toBe(es.errors.denied.next('Google'));
    await expectAccessible(page, 'denied-es-phone');
    await page.click('a.button');
    await page.waitForURL(`${stack.apiUrl}/connect?staff=leo`);

    // The wrong account: the staff member's own e-mail only (the default rule).
    await page.click('#connect-google');
    await page.waitForURL((u) => u.origin !== new URL(stack.apiUrl).origin);
    await page.fill('input[name="login_hint"]', `someone-${randomUUID().slice(0, 8)}@example.test`);
    await page.click('button[value="allow"]');
    await page.waitForSelector('#wrong-account');
    expect(await page.textContent('#wrong-account h1')).toBe(es.errors.wrongAccount.title);
    expect(await page.textContent('.next')).toBe(es.errors.wrongAccount.next);
    await expectAccessible(page, 'wrong-account-es-phone');
    expect(await testDb()('calendar_links').where({ tenant_id: world.tenantId })).toEqual([]);
    await context.close();
  });

  test('a provider that connects by credentials gets a form posting to /connect/credentials/<provider>, in every language, accessible', async () => {
    const context = await newContext('en-US', PHONE);
    const page = await context.newPage();
    for (const lang of CONNECT_LANGUAGES) {
      const t = messagesOf(lang);
      const html = renderConnectPage({
        t,
        business: 'Salon',
        csrf: 'csrf-token',
        providers: [
          { name: 'google', displayName: 'Google', color: '#1a73e8' },
          {
            name: 'caldav',
            displayName: 'iCloud & CalDAV',
            presets: [
              {
                id: 'icloud',
                label: 'iCloud',
                serverUrl: 'https://caldav.icloud.com/',
                passwordHelpUrl: 'https://support.apple.com/102654',
              },
              { id: 'custom', label: 'Other', serverUrl: '' },
            ],
          },
        ],
        staff: [{ id: 'ivy', name: 'Ivy' }],
        staffFixed: true,
        selected: { id: 'ivy', name: 'Ivy' },
        links: [],
      });
      await page.setContent(html);
      const form = page.locator('form#credentials-caldav');
      expect(await form.getAttribute('action')).toBe('/connect/credentials/caldav');
      expect(await form.getAttribute('method')).toBe('post');
      expect(await form.locator('input, select').evaluateAll((els) => els.map((e) => e.getAttribute('name')))).toEqual([
        'csrf',
        'staffId',
        'preset',
        'serverUrl',
        'username',
        'password',
      ]);
      expect(await form.locator('input[name="csrf"]').inputValue()).toBe('csrf-token');
      expect(await form.locator('input[name="password"]').getAttribute('type')).toBe('password');
      expect(await form.locator('select[name="preset"] option').allTextContents()).toEqual(['iCloud', 'Other']);
      expect(await form.textContent()).toContain(t.appPasswordHelp);
      expect(await form.locator('a').getAttribute('href')).toBe('https://support.apple.com/102654');
      // Only OAuth providers get a sign-in button.
      expect(await page.$$('#connect-caldav')).toHaveLength(0);
      expect(await page.$$('#connect-google')).toHaveLength(1);
      expect(await page.getAttribute('html', 'dir')).toBe(lang === 'fa' ? 'rtl' : 'ltr');
      expect(await seriousAxeViolations(page)).toEqual([]);
    }
    await context.close();
  });
});
