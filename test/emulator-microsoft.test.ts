import { AuthenticationHandler, Client, HTTPMessageHandler, type GraphError } from '@microsoft/microsoft-graph-client';
import { ImmutableIdHandler } from '../providers/microsoft/graphCalendar';
import {
  createMicrosoftEmulator,
  ensureEmulatorCertificate,
  type RunningMicrosoftEmulator,
} from '../emulators/microsoft/server';
import { ProviderError } from '../providers/errors';
import { renderEventContent } from '../content/eventContent';
import { MicrosoftCalendarProvider } from '../providers/microsoft/graphCalendar';
import { propertyId } from '../providers/microsoft/eventMapping';
import { refreshMicrosoftAccessToken } from '../providers/microsoft/oauth';
import { controlCall, formPost } from './helpers/emulator';

/**
 * Drives the Microsoft emulator with the real @microsoft/microsoft-graph-client (over HTTPS, its
 * CA trusted since globalSetup), plain fetch for OAuth and the control API, then calsync's
 * provider on top of it.
 */

let running: RunningMicrosoftEmulator;
let base: string;

beforeAll(async () => {
  const tls = await ensureEmulatorCertificate(process.env.MICROSOFT_EMULATOR_CERT_DIR!);
  running = await createMicrosoftEmulator({ tls }).listen(0);
  base = running.url;
});

afterAll(async () => {
  await running.close();
});

beforeEach(async () => {
  await control('POST', '/_emulator/reset');
});

const control = controlCall(() => base);

interface Tokens {
  id: string;
  email: string;
  refreshToken: string;
  accessToken: string;
  defaultCalendarId: string;
}
const newUser = (email: string): Promise<Tokens> => control<Tokens>('POST', '/_emulator/users', { email });
const inspect = async (email: string, calendarId = 'calendar'): Promise<any[]> =>
  (await control('GET', `/_emulator/users/${email}/calendars/${calendarId}/events`)).items;

/** The client as calsync builds it: authentication, immutable ids, then the HTTP call, no RetryHandler. */
function graphFor(accessToken: string): Client {
  const auth = new AuthenticationHandler({ getAccessToken: async () => accessToken });
  const immutableIds = new ImmutableIdHandler();
  auth.setNext(immutableIds);
  immutableIds.setNext(new HTTPMessageHandler());
  return Client.initWithMiddleware({ middleware: auth, baseUrl: base, customHosts: new Set(['127.0.0.1']) });
}

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (err) {
    if ((err as GraphError).statusCode === undefined) throw err;
    return err as GraphError;
  }
  throw new Error('expected the call to fail');
}

const TAG = propertyId('calsyncId');
const slot = (hour: number, extra: Record<string, unknown> = {}) => ({
  subject: `Visit ${hour}`,
  start: { dateTime: `2030-05-01T${String(hour).padStart(2, '0')}:00:00`, timeZone: 'Romance Standard Time' },
  end: { dateTime: `2030-05-01T${String(hour).padStart(2, '0')}:30:00`, timeZone: 'Romance Standard Time' },
  ...extra,
});

const form = formPost(() => base);

describe('events', () => {
  test('create, get (UTC unless Prefer), patch, delete → 204, then 404 ErrorItemNotFound', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);

    const created = await graph
      .api('/me/calendar/events')
      .post(slot(10, { body: { contentType: 'text', content: 'Hello' }, location: { displayName: 'Room 1' } }));
    expect(created.id).toMatch(/^AAMkAG[A-Za-z0-9_-]{100,}AAA=$/);
    expect(created['@odata.etag']).toBe(`W/"${created.changeKey}"`);
    expect(created).toMatchObject({
      subject: 'Visit 10',
      isOrganizer: true,
      showAs: 'busy',
      originalStartTimeZone: 'Romance Standard Time',
      transactionId: null,
      start: { dateTime: '2030-05-01T08:00:00.0000000', timeZone: 'UTC' },
      end: { dateTime: '2030-05-01T08:30:00.0000000', timeZone: 'UTC' },
      body: { contentType: 'text', content: 'Hello' },
      bodyPreview: 'Hello',
      location: { displayName: 'Room 1' },
      organizer: { emailAddress: { address: 'alice@contoso.test' } },
    });

    const id = encodeURIComponent(created.id);
    const local = await graph
      .api(`/me/events/${id}`)
      .header('Prefer', 'outlook.timezone="Romance Standard Time"')
      .get();
    expect(local.start).toEqual({ dateTime: '2030-05-01T10:00:00.0000000', timeZone: 'Romance Standard Time' });

    const patched = await graph.api(`/me/calendar/events/${id}`).patch({
      subject: 'Moved',
      showAs: 'tentative',
      start: { dateTime: '2030-05-01T11:00:00', timeZone: 'Romance Standard Time' },
      end: { dateTime: '2030-05-01T12:00:00', timeZone: 'Romance Standard Time' },
    });
    expect(patched).toMatchObject({
      id: created.id,
      subject: 'Moved',
      showAs: 'tentative',
      bodyPreview: 'Hello',
      start: { dateTime: '2030-05-01T09:00:00.0000000' },
    });
    expect(patched.changeKey).not.toBe(created.changeKey);
    const stale = await graphError(
      graph.api(`/me/events/${id}`).header('If-Match', created['@odata.etag']).patch({ subject: 'x' }),
    );
    expect([stale.statusCode, stale.code]).toEqual([412, 'ErrorIrresolvableConflict']);

    expect(
      await graph.api(`/me/calendars/${encodeURIComponent(alice.defaultCalendarId)}/events/${id}`).delete(),
    ).toBeUndefined();
    const missing = await graphError(graph.api(`/me/events/${id}`).get());
    expect([missing.statusCode, missing.code, missing.message]).toEqual([
      404,
      'ErrorItemNotFound',
      'The specified object was not found in the store.',
    ]);
    const again = await graphError(graph.api(`/me/events/${id}`).delete());
    expect([again.statusCode, again.code]).toEqual([404, 'ErrorItemNotFound']);
    expect(await inspect(alice.email)).toEqual([]);
  });

  test('a create repeating a transactionId returns the same event, even after that event was deleted', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    const first = await graph.api('/me/calendar/events').post(slot(9, { transactionId: 'tx-1' }));
    const second = await graph.api('/me/calendar/events').post(slot(9, { transactionId: 'tx-1', subject: 'ignored' }));
    expect(second.id).toBe(first.id);
    expect(second.subject).toBe('Visit 9');
    expect(first.transactionId).toBe('tx-1');
    const other = await graph.api('/me/calendar/events').post(slot(9, { transactionId: 'tx-2' }));
    expect(other.id).not.toBe(first.id);
    expect((await inspect(alice.email)).map((e) => e.transactionId).sort()).toEqual(['tx-1', 'tx-2']);

    await graph.api(`/me/events/${encodeURIComponent(first.id)}`).delete();
    // The deleted event sits in Deleted Items: the same transactionId hands it back, and nothing is made.
    const recreated = await graph.api('/me/calendar/events').post(slot(9, { transactionId: 'tx-1' }));
    expect(recreated.id).toBe(first.id);
    expect((await inspect(alice.email)).map((e) => e.transactionId)).toEqual(['tx-2']);
    const stats = await control('GET', '/_emulator/stats?user=alice@contoso.test');
    expect(stats.writes).toBe(3); // two creates and a delete; the deduplicated creates wrote nothing
  });

  test('extended properties: $filter any(), $expand with an id filter, $select', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    const tagged = (value: string, hour: number) =>
      slot(hour, {
        singleValueExtendedProperties: [
          { id: TAG, value },
          { id: propertyId('calsyncRevision'), value: String(hour) },
        ],
      });
    const a = await graph.api('/me/calendar/events').post(tagged("t1:o'brien", 9));
    await graph.api('/me/calendar/events').post(tagged('t1:other', 10));
    await graph.api('/me/calendar/events').post(slot(11));
    // Created events carry no extended properties unless expanded.
    expect(a.singleValueExtendedProperties).toBeUndefined();

    const found = await graph
      .api('/me/calendar/events')
      .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${TAG}' and ep/value eq 't1:o''brien')`)
      .expand(
        `singleValueExtendedProperties($filter=id eq '${TAG.toUpperCase().replace('NAME CALSYNCID', 'Name calsyncId')}')`,
      )
      .select('id,subject')
      .get();
    expect(found.value).toEqual([
      {
        '@odata.etag': a['@odata.etag'],
        id: a.id,
        subject: 'Visit 9',
        singleValueExtendedProperties: [{ id: TAG, value: "t1:o'brien" }],
      },
    ]);

    const anyValue = await graph
      .api('/me/events')
      .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${TAG}')`)
      .select('subject')
      .get();
    expect(anyValue.value.map((e: any) => e.subject).sort()).toEqual(['Visit 10', 'Visit 9']);

    const bad = await graphError(graph.api('/me/events').filter("startswith(subject, 'V')").get());
    expect([bad.statusCode, bad.code]).toEqual([400, 'ErrorInvalidUrlQueryFilter']);
    const badId = await graphError(
      graph
        .api('/me/calendar/events')
        .post(slot(9, { singleValueExtendedProperties: [{ id: 'calsyncId', value: 'x' }] })),
    );
    expect([badId.statusCode, badId.code]).toEqual([400, 'ErrorInvalidProperty']);
  });

  test('paging: 10 a page by default, @odata.nextLink to the rest', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    for (let i = 0; i < 12; i++) await graph.api('/me/calendar/events').post(slot(8 + (i % 10)));
    const first = await graph.api('/me/calendar/events').get();
    expect(first.value).toHaveLength(10);
    expect(first['@odata.nextLink']).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/me\/calendar\/events\?%24skip=10$/);
    const rest = await graph.api(first['@odata.nextLink']).get();
    expect(rest.value).toHaveLength(2);
    expect(rest['@odata.nextLink']).toBeUndefined();
  });

  test('bodies are checked like OData: unknown properties, enum literals, time zones, times', async () => {
    const graph = graphFor((await newUser('alice@contoso.test')).accessToken);
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [slot(9, { subjet: 'typo' }), 400, 'RequestBodyRead'],
      [slot(9, { showAs: 'away' }), 400, 'RequestBodyRead'],
      [
        { ...slot(9), start: { dateTime: '2030-05-01T09:00:00', timeZone: 'Mars/Olympus' } },
        400,
        'TimeZoneNotSupportedException',
      ],
      // Off the dateTimeTimeZone page's IANA list: refused, though luxon knows them.
      [
        { ...slot(9), start: { dateTime: '2030-05-01T09:00:00', timeZone: 'Europe/Madrid' } },
        400,
        'TimeZoneNotSupportedException',
      ],
      [
        { ...slot(9), end: { dateTime: '2030-05-01T10:00:00', timeZone: 'America/Toronto' } },
        400,
        'TimeZoneNotSupportedException',
      ],
      [{ subject: 'no times' }, 400, 'ErrorInvalidRequest'],
      [{ ...slot(10), end: slot(9).start }, 400, 'ErrorInvalidRequest'],
    ];
    for (const [body, status, code] of cases) {
      const err = await graphError(graph.api('/me/calendar/events').post(body));
      expect([JSON.stringify(body), err.statusCode, err.code]).toEqual([JSON.stringify(body), status, code]);
    }
    // On the list, and every Windows name.
    for (const timeZone of ['Asia/Kolkata', 'India Standard Time', 'Eastern Standard Time', 'Tokyo Standard Time']) {
      const t = { dateTime: '2030-05-01T09:00:00', timeZone };
      const created = await graph.api('/me/calendar/events').post({ subject: timeZone, start: t, end: t });
      expect(created.originalStartTimeZone).toBe(timeZone);
    }
  });

  test('cancel: organizer → 202, event gone, attendees mailed; an attendee gets 400', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    const meeting = await graph
      .api('/me/calendar/events')
      .post(slot(9, { attendees: [{ emailAddress: { address: 'client@example.com' }, type: 'required' }] }));
    // 202 with an empty body.
    await graph.api(`/me/events/${encodeURIComponent(meeting.id)}/cancel`).post({ Comment: 'Sorry, ill' });
    expect(await inspect(alice.email)).toEqual([]);
    const mail = await control('GET', '/_emulator/users/alice@contoso.test/mail');
    expect(mail.items.map((m: any) => [m.kind, m.to, m.comment ?? null])).toEqual([
      ['invitation', ['client@example.com'], null],
      ['cancellation', ['client@example.com'], 'Sorry, ill'],
    ]);

    const invited = await control('POST', '/_emulator/users/alice@contoso.test/calendars/calendar/events', {
      ...slot(11),
      isOrganizer: false,
      organizer: { emailAddress: { name: 'Bob', address: 'bob@fabrikam.test' } },
    });
    const refused = await graphError(
      graph.api(`/me/events/${encodeURIComponent(invited.id)}/cancel`).post({ Comment: 'no' }),
    );
    expect([refused.statusCode, refused.code]).toEqual([400, 'ErrorInvalidRequest']);
    expect(refused.message).toMatch(/organizer/);
  });

  test('a forbidden calendar is 403 ErrorAccessDenied; so is another user’s mailbox', async () => {
    const alice = await newUser('alice@contoso.test');
    const bob = await newUser('bob@contoso.test');
    const graph = graphFor(alice.accessToken);
    await control('POST', '/_emulator/users/alice@contoso.test/calendars/calendar/forbid', { forbidden: true });
    const denied = await graphError(graph.api('/me/calendar/events').post(slot(9)));
    expect([denied.statusCode, denied.code, denied.message]).toEqual([
      403,
      'ErrorAccessDenied',
      'Access is denied. Check credentials and try again.',
    ]);
    const other = await graphError(graph.api(`/users/${bob.id}/calendar/events`).get());
    expect([other.statusCode, other.code]).toEqual([403, 'ErrorAccessDenied']);
    const self = await graph.api(`/users/${alice.email}/calendars`).get();
    expect(self.value.map((c: any) => [c.name, c.isDefaultCalendar])).toEqual([['Calendar', true]]);
  });
});

describe('throttling and faults', () => {
  test('requests per window → 429 ApplicationThrottled with Retry-After', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    await control('POST', '/_emulator/config', { requestsPerWindow: 3, windowSeconds: 30 });
    for (let i = 0; i < 3; i++) await graph.api('/me/calendar/events').get();
    const limited = await graphError(graph.api('/me/calendar/events').get());
    expect([limited.statusCode, limited.code, limited.message]).toEqual([
      429,
      'ApplicationThrottled',
      'Application is over its ApplicationRequests limit.',
    ]);
    const retryAfter = Number(limited.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    // Another mailbox has its own window.
    const bob = await newUser('bob@contoso.test');
    expect((await graphFor(bob.accessToken).api('/me/calendar/events').get()).value).toEqual([]);
  });

  test('more than 4 requests of one mailbox in flight → 429 MailboxConcurrency', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    await control('POST', '/_emulator/faults', { user: alice.email, latencyMs: 400 });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        graph
          .api('/me/calendar/events')
          .get()
          .then(
            () => 'ok',
            (e: GraphError) => `${e.statusCode} ${e.message} ${e.headers?.get('retry-after')}`,
          ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(4);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(
      Array(2).fill('429 Application is over its MailboxConcurrency limit. 1'),
    );
    // Once they finish, there is room again.
    expect((await graph.api('/me/calendar/events').get()).value).toEqual([]);
  });

  test('injected 503/504/429 look like Graph; Retry-After comes with 429 and 503', async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    const seen: Array<[number, string, string | null]> = [];
    for (const status of [503, 504, 429]) {
      await control('POST', '/_emulator/faults', {
        user: alice.email,
        errorRate: 1,
        errorStatuses: [status],
        retryAfterSeconds: 2,
      });
      const err = await graphError(graph.api('/me/calendar/events').post(slot(9)));
      seen.push([err.statusCode, err.code ?? '', err.headers?.get('retry-after') ?? null]);
    }
    expect(seen).toEqual([
      [503, 'ServiceUnavailable', '2'],
      [504, 'GatewayTimeout', null],
      [429, 'ApplicationThrottled', '2'],
    ]);
    expect(await inspect(alice.email)).toEqual([]);
  });

  test("'firstInsert': the create is applied, then answered 500; its retry with the transactionId finds it", async () => {
    const alice = await newUser('alice@contoso.test');
    const graph = graphFor(alice.accessToken);
    await control('POST', '/_emulator/faults', { user: alice.email, applyThenFail: 'firstInsert' });
    const failed = await graphError(graph.api('/me/calendar/events').post(slot(9, { transactionId: 'tx-9' })));
    expect([failed.statusCode, failed.code]).toEqual([500, 'ErrorInternalServerError']);
    const [applied] = await inspect(alice.email);
    const retried = await graph.api('/me/calendar/events').post(slot(9, { transactionId: 'tx-9' }));
    expect(retried.id).toBe(applied.id);
    expect(await inspect(alice.email)).toHaveLength(1);
    // Without a transactionId every create is a new one (and a first, so answered 500 too): its
    // retry leaves a second event, what calsync must never do.
    expect((await graphError(graph.api('/me/calendar/events').post(slot(10)))).statusCode).toBe(500);
    expect((await graphError(graph.api('/me/calendar/events').post(slot(10)))).statusCode).toBe(500);
    expect((await inspect(alice.email)).map((e) => e.subject).sort()).toEqual(['Visit 10', 'Visit 10', 'Visit 9']);
  });
});

describe('OAuth', () => {
  test('refresh hands out a new refresh token; revoked and unknown grants are invalid_grant; 401s', async () => {
    const alice = await newUser('alice@contoso.test');
    const token = '/common/oauth2/v2.0/token';
    const refreshed = await form(token, {
      grant_type: 'refresh_token',
      refresh_token: alice.refreshToken,
      client_id: 'app',
      scope: 'offline_access',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    expect(refreshed.body.refresh_token).toMatch(/^0\.AXEA/);
    expect(refreshed.body.refresh_token).not.toBe(alice.refreshToken);
    expect((await graphFor(refreshed.body.access_token).api('/me/calendar/events').get()).value).toEqual([]);
    // The old refresh token keeps working, as at Microsoft.
    expect(
      (await form(token, { grant_type: 'refresh_token', refresh_token: alice.refreshToken, client_id: 'app' })).status,
    ).toBe(200);

    const noClient = await form(token, { grant_type: 'refresh_token', refresh_token: alice.refreshToken });
    expect([noClient.status, noClient.body.error, noClient.body.error_codes]).toEqual([
      400,
      'invalid_request',
      [900144],
    ]);
    const unknown = await form(token, { grant_type: 'refresh_token', refresh_token: 'nope', client_id: 'app' });
    expect([unknown.status, unknown.body.error]).toEqual([400, 'invalid_grant']);
    expect(unknown.body.error_description).toMatch(/^AADSTS70008: /);

    await control('POST', '/_emulator/users/alice@contoso.test/revoke');
    const revoked = await form('/contoso.onmicrosoft.com/oauth2/v2.0/token', {
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token,
      client_id: 'app',
    });
    expect([revoked.status, revoked.body.error, revoked.body.error_codes]).toEqual([400, 'invalid_grant', [50173]]);
    const dead = await graphError(graphFor(refreshed.body.access_token).api('/me/calendar/events').get());
    expect([dead.statusCode, dead.code, dead.message]).toEqual([
      401,
      'InvalidAuthenticationToken',
      'Access token has expired or is not yet valid.',
    ]);

    const empty = await fetch(`${base}/v1.0/me/events`);
    expect(empty.status).toBe(401);
    expect(((await empty.json()) as { error: unknown }).error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });

    // calsync's token client classifies the dead grant as needing the user.
    const failure = await refreshMicrosoftAccessToken(
      { tokenUrl: base + token, clientId: 'app', clientSecret: 's' },
      refreshed.body.refresh_token,
    ).catch((e) => e);
    expect(failure).toBeInstanceOf(ProviderError);
    expect([failure.kind, failure.code, failure.status]).toEqual(['auth', 'invalid_grant', 400]);
    expect(failure.message).toMatch(/^AADSTS50173: /);
  });
});

describe('MicrosoftCalendarProvider on the emulator', () => {
  const desired = (revision: number, extra: Record<string, unknown> = {}) => ({
    tenantId: 't1',
    appointmentId: 'a1',
    revision,
    type: 'appointment',
    status: 'confirmed' as const,
    start: '2030-05-01T08:00:00.000Z',
    end: '2030-05-01T09:00:00.000Z',
    timeZone: 'Europe/Madrid',
    title: 'Haircut',
    services: ['Haircut'],
    clientName: 'Ana',
    staffIds: ['s1'],
    deleted: false,
    ...extra,
  });
  const ref = { calendarId: 'calendar', eventId: 'k0123456789abcdefghijklmnopqrstu', tag: 't1:a1' };

  test('insert, update by known id, find a lost create by its tag, delete, already gone', async () => {
    const alice = await newUser('alice@contoso.test');
    const provider = new MicrosoftCalendarProvider({ baseUrl: base, accessToken: alice.accessToken });

    const inserted = await provider.upsertEvent(ref, renderEventContent(desired(1), { cancelled: false }), {
      believedToExist: false,
    });
    expect(inserted.outcome).toBe('inserted');
    let [event] = await inspect(alice.email);
    expect(event).toMatchObject({
      id: inserted.remoteId,
      subject: 'Haircut – Ana',
      showAs: 'busy',
      location: { displayName: '' },
      start: { dateTime: '2030-05-01T10:00:00.0000000', timeZone: 'Romance Standard Time' },
    });
    expect(event.transactionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(
      Object.fromEntries(event.singleValueExtendedProperties.map((p: any) => [p.id.split(' Name ')[1], p.value])),
    ).toEqual({
      calsyncId: 't1:a1',
      calsyncType: 'appointment',
      calsyncRevision: '1',
      calsyncTarget: ref.eventId,
    });

    const updated = await provider.upsertEvent(
      { ...ref, knownRemoteId: inserted.remoteId },
      renderEventContent(desired(2, { status: 'tentative' }), { cancelled: false }),
      { believedToExist: true },
    );
    expect(updated).toEqual({ outcome: 'updated', remoteId: inserted.remoteId });
    // The id was never stored (lost answer): the tag finds the event, no second one.
    const restored = await provider.upsertEvent(ref, renderEventContent(desired(3), { cancelled: true }), {
      believedToExist: false,
    });
    expect(restored).toEqual({ outcome: 'restored', remoteId: inserted.remoteId });
    [event] = await inspect(alice.email);
    expect(event).toMatchObject({ subject: 'Cancelled: Haircut – Ana', showAs: 'free' });
    expect(await inspect(alice.email)).toHaveLength(1);

    // Another target's event of the same appointment in the same calendar is not ours to touch.
    const otherRef = { ...ref, eventId: 'other0123456789abcdefghijklmnopq' };
    const other = await provider.upsertEvent(otherRef, renderEventContent(desired(3), { cancelled: false }), {
      believedToExist: false,
    });
    expect(other.outcome).toBe('inserted');
    expect(await provider.deleteEvent(ref)).toBe('deleted');
    expect((await inspect(alice.email)).map((e) => e.id)).toEqual([other.remoteId]);
    expect(await provider.deleteEvent({ ...ref, knownRemoteId: inserted.remoteId })).toBe('already_gone');

    // Deleted in Outlook: an update by the stale id writes a new event.
    await control(
      'DELETE',
      `/_emulator/users/alice@contoso.test/calendars/calendar/events/${encodeURIComponent(other.remoteId)}`,
    );
    const rewritten = await provider.upsertEvent(
      { ...otherRef, knownRemoteId: other.remoteId },
      renderEventContent(desired(4), { cancelled: false }),
      { believedToExist: true },
    );
    expect(rewritten.outcome).toBe('inserted');
    expect(rewritten.remoteId).not.toBe(other.remoteId);
  });

  test('errors are classified: 429 with Retry-After, 403 permanent, 401 retryable, no server retryable', async () => {
    const alice = await newUser('alice@contoso.test');
    const content = renderEventContent(desired(1), { cancelled: false });
    const provider = new MicrosoftCalendarProvider({ baseUrl: base, accessToken: alice.accessToken });
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: ProviderError) => e,
      );

    await control('POST', '/_emulator/faults', {
      user: alice.email,
      errorRate: 1,
      errorStatuses: [429],
      retryAfterSeconds: 3,
    });
    const limited = (await failure(provider.upsertEvent(ref, content, { believedToExist: false })))!;
    expect([limited.kind, limited.code, limited.status, limited.retryAfterMs]).toEqual([
      'retryable',
      'ApplicationThrottled',
      429,
      3000,
    ]);
    await control('POST', '/_emulator/faults', { user: alice.email, errorRate: 1, errorStatuses: [504] });
    expect((await failure(provider.deleteEvent(ref)))!.kind).toBe('retryable');
    await control('DELETE', '/_emulator/faults');

    await control('POST', '/_emulator/users/alice@contoso.test/calendars/calendar/forbid', { forbidden: true });
    const forbidden = (await failure(provider.upsertEvent(ref, content, { believedToExist: false })))!;
    expect([forbidden.kind, forbidden.code, forbidden.status]).toEqual(['permanent', 'ErrorAccessDenied', 403]);

    await control('POST', '/_emulator/users/alice@contoso.test/expire-access-tokens');
    const expired = (await failure(provider.deleteEvent(ref)))!;
    expect([expired.kind, expired.code, expired.status]).toEqual(['retryable', 'InvalidAuthenticationToken', 401]);

    const nowhere = new MicrosoftCalendarProvider({ baseUrl: 'https://127.0.0.1:1', accessToken: 'x' });
    const refused = (await failure(nowhere.deleteEvent(ref)))!;
    expect([refused.kind, refused.code]).toEqual(['retryable', 'network']);
  });
});
