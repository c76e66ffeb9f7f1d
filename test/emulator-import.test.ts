import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGoogleEmulator, type RunningGoogleEmulator } from '../emulators/google/server';
import {
  createMicrosoftEmulator,
  ensureEmulatorCertificate,
  type RunningMicrosoftEmulator,
} from '../emulators/microsoft/server';
import { GoogleBusyReader } from '../providers/google/busy';
import { MicrosoftBusyReader } from '../providers/microsoft/busy';
import { CursorExpired } from '../providers/busyTypes';
import { waitUntil } from './helpers/api';
import { controlCall } from './helpers/emulator';

/**
 * The emulators' incremental sync and push, driven by calsync's import readers (the real
 * googleapis and Graph clients) and a plain HTTP receiver standing in for the webhook endpoint.
 */
let googleEmu: RunningGoogleEmulator;
let msEmu: RunningMicrosoftEmulator;
let receiver: Server;
let hookUrl: string;
const received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
let echoValidation = true;

beforeAll(async () => {
  googleEmu = await createGoogleEmulator().listen(0);
  msEmu = await createMicrosoftEmulator({
    tls: await ensureEmulatorCertificate(process.env.MICROSOFT_EMULATOR_CERT_DIR!),
    // The receiver below is plain http on 127.0.0.1.
    allowHttpLoopback: true,
  }).listen(0);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const token = url.searchParams.get('validationToken');
      if (token !== null) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(echoValidation ? token : 'nope');
        return;
      }
      received.push({ url: req.url!, headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await googleEmu.close();
  await msEmu.close();
  await new Promise((r) => receiver.close(r));
});

beforeEach(() => {
  received.length = 0;
  echoValidation = true;
});

const window = { start: new Date(Date.now() - 86400000), end: new Date(Date.now() + 60 * 86400000) };
const day = (n: number) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);

describe('Google emulator: singleEvents, sync tokens, watch channels', () => {
  const control = controlCall(() => `http://127.0.0.1:${googleEmu.port}`);

  test('a series lists as its instances across pages; deleting it reports each instance cancelled; a dead token is a 410', async () => {
    const user = await control('POST', '/_emulator/users', { email: 'series@example.test' });
    const list = (query: string) =>
      fetch(`http://127.0.0.1:${googleEmu.port}/calendar/v3/calendars/primary/events?${query}`, {
        headers: { authorization: `Bearer ${user.accessToken}` },
      }).then((r) => r.json() as Promise<any>);
    const series = await control('POST', `/_emulator/calendars/${user.email}/events`, {
      summary: 'Yoga',
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5', `EXDATE;TZID=Europe/Madrid:${day(3).replace(/-/g, '')}T090000`],
      start: { dateTime: `${day(2)}T09:00:00`, timeZone: 'Europe/Madrid' },
      end: { dateTime: `${day(2)}T10:00:00`, timeZone: 'Europe/Madrid' },
    });
    await control('POST', `/_emulator/calendars/${user.email}/events`, {
      summary: 'Single',
      start: { dateTime: `${day(2)}T12:00:00Z` },
      end: { dateTime: `${day(2)}T13:00:00Z` },
    });
    const ids: string[] = [];
    let page = await list('singleEvents=true&maxResults=2');
    while (page.nextPageToken) {
      expect(page.nextSyncToken).toBeUndefined();
      ids.push(...page.items.map((e: { id: string }) => e.id));
      page = await list(`singleEvents=true&maxResults=2&pageToken=${page.nextPageToken}`);
    }
    ids.push(...page.items.map((e: { id: string }) => e.id));
    expect(ids.filter((id) => id.startsWith(`${series.id}_`))).toHaveLength(4); // five, one excepted
    expect(new Set(ids).size).toBe(5);

    const reader = new GoogleBusyReader({
      rootUrl: `http://127.0.0.1:${googleEmu.port}/`,
      accessToken: user.accessToken,
    });
    const full = await reader.read('primary', undefined, window);
    expect(full.upserts.map((e) => e.seriesId ?? 'single').sort()).toEqual(
      [series.id, series.id, series.id, series.id, 'single'].sort(),
    );
    await control('DELETE', `/_emulator/calendars/${user.email}/events/${series.id}`);
    const next = await reader.read('primary', full.cursor, window);
    expect(next.upserts).toEqual([]);
    expect(next.removed.sort()).toEqual(
      full.upserts
        .filter((e) => e.seriesId)
        .map((e) => e.remoteId)
        .sort(),
    );

    await control('POST', '/_emulator/sync-tokens/expire');
    await expect(reader.read('primary', next.cursor, window)).rejects.toBeInstanceOf(CursorExpired);
  });

  test('events.watch: a sync message, then one per change with the channel token; channels.stop ends them', async () => {
    const user = await control('POST', '/_emulator/users', { email: 'watch@example.test' });
    const reader = new GoogleBusyReader({
      rootUrl: `http://127.0.0.1:${googleEmu.port}/`,
      accessToken: user.accessToken,
    });
    const channel = await reader.watch('primary', {
      channelId: 'calsync-test-1',
      address: hookUrl,
      secret: 's3cret',
      expiresAt: new Date(Date.now() + 3600_000),
    });
    await waitUntil('sync message', async () => received.length === 1);
    expect(received[0]!.headers).toMatchObject({
      'x-goog-channel-id': 'calsync-test-1',
      'x-goog-channel-token': 's3cret',
      'x-goog-resource-state': 'sync',
      'x-goog-message-number': '1',
    });
    await control('POST', `/_emulator/calendars/${user.email}/events`, {
      summary: 'x',
      start: { dateTime: `${day(1)}T09:00:00Z` },
      end: { dateTime: `${day(1)}T10:00:00Z` },
    });
    await waitUntil('exists message', async () => received.length === 2);
    expect(received[1]!.headers).toMatchObject({
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '2',
      'x-goog-resource-id': channel.resourceId,
    });
    await reader.stop(channel);
    await control('POST', `/_emulator/calendars/${user.email}/events`, {
      summary: 'y',
      start: { dateTime: `${day(1)}T11:00:00Z` },
      end: { dateTime: `${day(1)}T12:00:00Z` },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(2);
  });
});

describe('Microsoft emulator: calendarView/delta and subscriptions', () => {
  const control = controlCall(() => msEmu.url);

  test('delta pages with nextLink, ends with a deltaLink, reports moves out of the window and deleted series as @removed; an expired link is a 410', async () => {
    const user = await control('POST', '/_emulator/users', { email: 'delta@contoso.test' });
    const events = `/_emulator/users/${user.email}/calendars/calendar/events`;
    const at = (d: number, h: string) => ({ dateTime: `${day(d)}T${h}:00`, timeZone: 'UTC' });
    const single = await control('POST', events, { subject: 'one', start: at(2, '09:00'), end: at(2, '10:00') });
    const series = await control('POST', events, {
      subject: 'standup',
      start: at(3, '08:00'),
      end: at(3, '08:15'),
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: day(3), numberOfOccurrences: 3 },
      },
    });
    const reader = new MicrosoftBusyReader({ baseUrl: msEmu.url, accessToken: user.accessToken });
    const full = await reader.read('calendar', undefined, window);
    expect(full.upserts.map((e) => e.seriesId ?? e.remoteId).sort()).toEqual(
      [series.id, series.id, series.id, single.id].sort(),
    );
    expect(full.cursor).toContain('$deltatoken=');

    await control('PATCH', `${events}/${single.id}`, { start: at(90, '09:00'), end: at(90, '10:00') });
    await control('DELETE', `${events}/${series.id}`);
    const next = await reader.read('calendar', full.cursor, window);
    expect(next.upserts).toEqual([]);
    expect(next.removed.sort()).toEqual(full.upserts.map((e) => e.remoteId).sort());

    await control('POST', '/_emulator/delta-tokens/expire');
    await expect(reader.read('calendar', next.cursor, window)).rejects.toBeInstanceOf(CursorExpired);
  });

  test('a subscription needs the validation echo, carries clientState in each notification, renews within the maximum lifetime', async () => {
    const user = await control('POST', '/_emulator/users', { email: 'subs@contoso.test' });
    const reader = new MicrosoftBusyReader({ baseUrl: msEmu.url, accessToken: user.accessToken });
    echoValidation = false;
    await expect(
      reader.watch('calendar', {
        channelId: 'x',
        address: hookUrl,
        secret: 'state-1',
        expiresAt: new Date(Date.now() + 3600_000),
      }),
    ).rejects.toMatchObject({ code: 'ValidationError' });
    echoValidation = true;
    await expect(
      reader.watch('calendar', {
        channelId: 'x',
        address: hookUrl,
        secret: 'state-1',
        expiresAt: new Date(Date.now() + 11_000 * 60_000),
      }),
    ).rejects.toMatchObject({ status: 400 });
    const sub = await reader.watch('calendar', {
      channelId: 'x',
      address: hookUrl,
      secret: 'state-1',
      expiresAt: new Date(Date.now() + 3600_000),
    });
    await control('POST', `/_emulator/users/${user.email}/calendars/calendar/events`, {
      subject: 'x',
      start: { dateTime: `${day(1)}T09:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day(1)}T10:00:00`, timeZone: 'UTC' },
    });
    await waitUntil('notification', async () => received.length === 1);
    expect(JSON.parse(received[0]!.body).value[0]).toMatchObject({
      subscriptionId: sub.id,
      clientState: 'state-1',
      changeType: 'created',
    });
    const renewed = await reader.renew(sub, new Date(Date.now() + 7200_000));
    expect(renewed && renewed.expiresAt.getTime()).toBeGreaterThan(sub.expiresAt.getTime());
    await reader.stop(sub);
    expect(await reader.renew(sub, new Date(Date.now() + 7200_000))).toBe(false);
  });

  test('notification URLs must be https: http is refused (400) unless the loopback flag is set, and then only for loopback', async () => {
    const strict = await createMicrosoftEmulator({
      tls: await ensureEmulatorCertificate(process.env.MICROSOFT_EMULATOR_CERT_DIR!),
    }).listen(0);
    try {
      const user = await controlCall(() => strict.url)('POST', '/_emulator/users', { email: 'strict@contoso.test' });
      const watch = (address: string) =>
        new MicrosoftBusyReader({ baseUrl: strict.url, accessToken: user.accessToken }).watch('calendar', {
          channelId: 'x',
          address,
          secret: 's',
          expiresAt: new Date(Date.now() + 3600_000),
        });
      await expect(watch(hookUrl)).rejects.toMatchObject({ status: 400, code: 'ValidationError' });
    } finally {
      await strict.close();
    }
    // The flagged emulator takes http on 127.0.0.1 (above) but not on any other host.
    const user = await control('POST', '/_emulator/users', { email: 'http@contoso.test' });
    const reader = new MicrosoftBusyReader({ baseUrl: msEmu.url, accessToken: user.accessToken });
    await expect(
      reader.watch('calendar', {
        channelId: 'x',
        address: 'http://calsync.example.test/webhooks/microsoft',
        secret: 's',
        expiresAt: new Date(Date.now() + 3600_000),
      }),
    ).rejects.toMatchObject({ status: 400, code: 'ValidationError' });
  });

  test('lifecycle: both URLs are validated; reauthorizationRequired comes before expiry with the clientState; control sends removed and missed', async () => {
    const user = await control('POST', '/_emulator/users', { email: 'lifecycle@contoso.test' });
    const reader = new MicrosoftBusyReader({ baseUrl: msEmu.url, accessToken: user.accessToken });
    // A 4 s life: reauthorizationRequired comes halfway through it.
    const sub = await reader.watch('calendar', {
      channelId: 'x',
      address: hookUrl,
      secret: 'life-1',
      expiresAt: new Date(Date.now() + 4000),
    });
    const listed = await control('GET', `/_emulator/subscriptions?user=${user.email}`);
    expect(listed.subscriptions[0]).toMatchObject({ id: sub.id, lifecycleNotificationUrl: `${hookUrl}?lifecycle=1` });
    await waitUntil('reauthorizationRequired', async () => received.length === 1, 5000, 100);
    expect(received[0]!.url).toBe('/hook?lifecycle=1');
    expect(JSON.parse(received[0]!.body).value[0]).toMatchObject({
      subscriptionId: sub.id,
      clientState: 'life-1',
      lifecycleEvent: 'reauthorizationRequired',
    });
    // Renewed for an hour, the next one is due 10 minutes before that; the reauthorize action answers 204 as Graph's does.
    expect(await reader.renew(sub, new Date(Date.now() + 3600_000))).toBeTruthy();
    const reauthorized = await fetch(`${msEmu.url}/v1.0/subscriptions/${sub.id}/reauthorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(reauthorized.status).toBe(204);

    await control('POST', `/_emulator/subscriptions/${sub.id}/lose-notifications`);
    await control('POST', `/_emulator/users/${user.email}/calendars/calendar/events`, {
      subject: 'lost',
      start: { dateTime: `${day(1)}T09:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day(1)}T10:00:00`, timeZone: 'UTC' },
    });
    received.length = 0;
    await control('POST', `/_emulator/subscriptions/${sub.id}/lifecycle`, { event: 'missed' });
    await control('POST', `/_emulator/subscriptions/${sub.id}/lifecycle`, { event: 'subscriptionRemoved' });
    expect(received.map((r) => JSON.parse(r.body).value[0].lifecycleEvent)).toEqual(['missed', 'subscriptionRemoved']);
    expect((await control('GET', `/_emulator/subscriptions?user=${user.email}`)).subscriptions).toEqual([]);
  });
});
