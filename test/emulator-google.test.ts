import { google, type calendar_v3 } from 'googleapis';
import { createGoogleEmulator, type RunningGoogleEmulator } from '../emulators/google/server';
import { controlCall, formPost } from './helpers/emulator';

/**
 * Drives the Google emulator with the real googleapis client (retries off, as
 * calsync runs it) and plain fetch for OAuth and the control API.
 */

let running: RunningGoogleEmulator;
let base: string;

beforeAll(async () => {
  running = await createGoogleEmulator().listen(0);
  base = `http://127.0.0.1:${running.port}`;
});

afterAll(async () => {
  await running.close();
});

beforeEach(async () => {
  await control('POST', '/_emulator/reset');
});

const control = controlCall(() => base);

interface Tokens {
  email: string;
  refreshToken: string;
  accessToken: string;
  expiresIn: number;
}
const newUser = (email: string): Promise<Tokens> => control<Tokens>('POST', '/_emulator/users', { email });

/**
 * gaxios loads node-fetch with a dynamic import(), which Jest's CommonJS sandbox
 * rejects; handing it Node's own fetch avoids that.
 */
const fetchImplementation = globalThis.fetch;

function calendarFor(accessToken: string): calendar_v3.Calendar {
  const auth = new google.auth.OAuth2({ transporterOptions: { fetchImplementation } });
  auth.setCredentials({ access_token: accessToken });
  return google.calendar({ version: 'v3', rootUrl: `${base}/`, auth, retry: false, fetchImplementation });
}

interface CaughtError {
  status: number;
  reason: string;
  domain: string;
  message: string;
  headers: { get(name: string): string | null };
}

async function googleError(promise: Promise<unknown>): Promise<CaughtError> {
  try {
    await promise;
  } catch (err) {
    const response = (err as { response?: { status: number; data: any; headers: any } }).response;
    if (!response) throw err;
    const first = response.data?.error?.errors?.[0] ?? {};
    return {
      status: response.status,
      reason: first.reason,
      domain: first.domain,
      message: response.data?.error?.message,
      headers: response.headers,
    };
  }
  throw new Error('expected the call to fail');
}

const slot = (hour: number) => ({
  start: { dateTime: `2030-05-01T${String(hour).padStart(2, '0')}:00:00Z` },
  end: { dateTime: `2030-05-01T${String(hour).padStart(2, '0')}:30:00Z` },
});

const form = formPost(() => base);

describe('events lifecycle', () => {
  test('client id, duplicate, tombstone, 410, restore by update', async () => {
    const alice = await newUser('alice@example.com');
    const cal = calendarFor(alice.accessToken);
    const id = 'c0ffee0appt42';

    const inserted = await cal.events.insert({
      calendarId: 'primary',
      requestBody: { id, summary: 'Visit', ...slot(9) },
    });
    expect(inserted.status).toBe(200);
    expect(inserted.data).toMatchObject({
      kind: 'calendar#event',
      id,
      status: 'confirmed',
      summary: 'Visit',
      iCalUID: `${id}@google.com`,
      sequence: 0,
      organizer: { email: 'alice@example.com', self: true },
      creator: { email: 'alice@example.com', self: true },
    });
    expect(inserted.data.etag).toMatch(/^"\d+"$/);

    const dup = await googleError(cal.events.insert({ calendarId: 'primary', requestBody: { id, ...slot(10) } }));
    expect([dup.status, dup.reason, dup.message]).toEqual([
      409,
      'duplicate',
      'The requested identifier already exists.',
    ]);

    const del = await cal.events.delete({ calendarId: 'primary', eventId: id });
    expect(del.status).toBe(204);
    const got = await cal.events.get({ calendarId: 'primary', eventId: id });
    expect(got.data.status).toBe('cancelled');

    const again = await googleError(cal.events.delete({ calendarId: 'primary', eventId: id }));
    expect([again.status, again.reason, again.message]).toEqual([410, 'deleted', 'Resource has been deleted']);

    const reinsert = await googleError(cal.events.insert({ calendarId: 'primary', requestBody: { id, ...slot(9) } }));
    expect([reinsert.status, reinsert.reason]).toEqual([409, 'duplicate']);

    const restored = await cal.events.update({
      calendarId: 'primary',
      eventId: id,
      requestBody: { status: 'confirmed', summary: 'Visit (moved)', ...slot(11) },
    });
    expect(restored.data).toMatchObject({
      status: 'confirmed',
      summary: 'Visit (moved)',
      sequence: 1,
      start: slot(11).start,
    });
    expect(restored.data.etag).not.toBe(got.data.etag);

    const missing = await googleError(cal.events.get({ calendarId: 'primary', eventId: 'nosuchevent' }));
    expect([missing.status, missing.reason]).toEqual([404, 'notFound']);
  });

  test('PUT without status restores a cancelled event; PATCH without status keeps it cancelled', async () => {
    const cal = calendarFor((await newUser('a@example.com')).accessToken);
    await cal.events.insert({ calendarId: 'primary', requestBody: { id: 'evt00001', ...slot(9) } });
    await cal.events.delete({ calendarId: 'primary', eventId: 'evt00001' });
    const patched = await cal.events.patch({
      calendarId: 'primary',
      eventId: 'evt00001',
      requestBody: { summary: 'x' },
    });
    expect(patched.data.status).toBe('cancelled');
    const put = await cal.events.update({ calendarId: 'primary', eventId: 'evt00001', requestBody: { ...slot(9) } });
    expect(put.data.status).toBe('confirmed');
    expect(put.data.summary).toBeUndefined();
  });

  test('insert validation', async () => {
    const cal = calendarFor((await newUser('a@example.com')).accessToken);
    const cases: Array<[calendar_v3.Schema$Event, number, string, string?]> = [
      [{ id: 'UPPERCASE1', ...slot(9) }, 400, 'invalid', 'Invalid resource id value.'],
      [{ id: 'abcw1234', ...slot(9) }, 400, 'invalid', 'Invalid resource id value.'],
      [{ id: 'abc1', ...slot(9) }, 400, 'invalid', 'Invalid resource id value.'],
      [{ start: slot(9).start }, 400, 'required', 'Missing end time.'],
      [{ end: slot(9).end }, 400, 'required', 'Missing start time.'],
      [{ start: slot(10).start, end: slot(9).end }, 400, 'timeRangeEmpty'],
      [
        {
          ...slot(9),
          reminders: {
            useDefault: false,
            overrides: Array.from({ length: 6 }, () => ({ method: 'popup', minutes: 5 })),
          },
        },
        400,
        'invalid',
      ],
      [
        { ...slot(9), reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 40321 }] } },
        400,
        'invalid',
      ],
      [{ ...slot(9), reminders: { useDefault: false, overrides: [{ method: 'sms', minutes: 10 }] } }, 400, 'invalid'],
      [{ ...slot(9), recurrence: ['RRULE:FREQ=WEEKLY'] }, 400, 'invalid'],
      [
        {
          start: { dateTime: '2030-05-01T09:00:00', timeZone: 'Europe/Berlin' },
          end: { dateTime: '2030-05-01T10:00:00', timeZone: 'Europe/Berlin' },
          recurrence: ['DTSTART:20300501T090000'],
        },
        400,
        'invalid',
      ],
    ];
    for (const [body, status, reason, message] of cases) {
      const err = await googleError(cal.events.insert({ calendarId: 'primary', requestBody: body }));
      expect([err.status, err.reason]).toEqual([status, reason]);
      if (message) expect(err.message).toBe(message);
    }
    const ok = await cal.events.insert({
      calendarId: 'primary',
      requestBody: {
        start: { dateTime: '2030-05-01T09:00:00', timeZone: 'Europe/Berlin' },
        end: { dateTime: '2030-05-01T10:00:00', timeZone: 'Europe/Berlin' },
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3', 'EXDATE;TZID=Europe/Berlin:20300508T090000'],
        reminders: {
          useDefault: false,
          overrides: [
            { method: 'email', minutes: 40320 },
            { method: 'popup', minutes: 0 },
          ],
        },
      },
    });
    expect(ok.data.id).toMatch(/^[a-v0-9]{5,1024}$/);
    const events = await control('GET', '/_emulator/calendars/a@example.com/events');
    expect(events.items).toHaveLength(1);
  });

  test('If-Match with a stale etag answers 412 and changes nothing', async () => {
    const cal = calendarFor((await newUser('a@example.com')).accessToken);
    const first = await cal.events.insert({
      calendarId: 'primary',
      requestBody: { id: 'ifmatch01', summary: 'v1', ...slot(9) },
    });
    const second = await cal.events.patch(
      { calendarId: 'primary', eventId: 'ifmatch01', requestBody: { summary: 'v2' } },
      { headers: { 'If-Match': first.data.etag! } },
    );
    expect(second.data.summary).toBe('v2');
    const stale = await googleError(
      cal.events.update(
        { calendarId: 'primary', eventId: 'ifmatch01', requestBody: { summary: 'v3', ...slot(9) } },
        { headers: { 'If-Match': first.data.etag! } },
      ),
    );
    expect([stale.status, stale.reason, stale.message]).toEqual([412, 'conditionNotMet', 'Precondition Failed']);
    const staleDelete = await googleError(
      cal.events.delete({ calendarId: 'primary', eventId: 'ifmatch01' }, { headers: { 'If-Match': first.data.etag! } }),
    );
    expect(staleDelete.status).toBe(412);
    const now = await cal.events.get({ calendarId: 'primary', eventId: 'ifmatch01' });
    expect([now.data.summary, now.data.status, now.data.etag]).toEqual(['v2', 'confirmed', second.data.etag]);
  });

  test('patch merges fields, replaces arrays, merges extended properties', async () => {
    const cal = calendarFor((await newUser('a@example.com')).accessToken);
    await cal.events.insert({
      calendarId: 'primary',
      requestBody: {
        id: 'patch0001',
        summary: 'keep me',
        description: 'old',
        ...slot(9),
        attendees: [{ email: 'x@example.com' }, { email: 'y@example.com' }],
        reminders: {
          useDefault: false,
          overrides: [
            { method: 'email', minutes: 60 },
            { method: 'popup', minutes: 10 },
          ],
        },
        extendedProperties: { private: { calsyncId: 'c1', owner: 'crm' } },
      },
    });
    const patched = await cal.events.patch({
      calendarId: 'primary',
      eventId: 'patch0001',
      requestBody: {
        description: 'new',
        attendees: [{ email: 'z@example.com' }],
        reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 5 }] },
        extendedProperties: { private: { calsyncId: 'c2' } },
      },
    });
    expect(patched.data.summary).toBe('keep me');
    expect(patched.data.description).toBe('new');
    expect(patched.data.attendees).toEqual([{ email: 'z@example.com', responseStatus: 'needsAction' }]);
    expect(patched.data.reminders).toEqual({ useDefault: false, overrides: [{ method: 'popup', minutes: 5 }] });
    expect(patched.data.extendedProperties).toEqual({ private: { calsyncId: 'c2', owner: 'crm' } });
    expect(patched.data.sequence).toBe(0);
    const moved = await cal.events.patch({
      calendarId: 'primary',
      eventId: 'patch0001',
      requestBody: { start: { dateTime: '2030-05-01T08:00:00Z' } },
    });
    expect(moved.data.sequence).toBe(1);
    expect(moved.data.start).toEqual({ dateTime: '2030-05-01T08:00:00Z' });
  });
});

describe('listing and sync', () => {
  test('privateExtendedProperty filter and showDeleted', async () => {
    const cal = calendarFor((await newUser('a@example.com')).accessToken);
    const tagged = (id: string, calsyncId: string, tenant: string) =>
      cal.events.insert({
        calendarId: 'primary',
        requestBody: { id, ...slot(9), extendedProperties: { private: { calsyncId, tenant } } },
      });
    await tagged('list00001', 'appt-1', 't1');
    await tagged('list00002', 'appt-2', 't1');
    await tagged('list00003', 'appt-1', 't2');
    await cal.events.insert({ calendarId: 'primary', requestBody: { id: 'list00004', ...slot(10) } });

    const one = await cal.events.list({ calendarId: 'primary', privateExtendedProperty: ['calsyncId=appt-1'] });
    expect(one.data.items!.map((e) => e.id)).toEqual(['list00001', 'list00003']);
    const both = await cal.events.list({
      calendarId: 'primary',
      privateExtendedProperty: ['calsyncId=appt-1', 'tenant=t2'],
    });
    expect(both.data.items!.map((e) => e.id)).toEqual(['list00003']);
    expect(both.data.nextSyncToken).toBeUndefined();

    await cal.events.delete({ calendarId: 'primary', eventId: 'list00001' });
    const hidden = await cal.events.list({ calendarId: 'primary', privateExtendedProperty: ['calsyncId=appt-1'] });
    expect(hidden.data.items!.map((e) => e.id)).toEqual(['list00003']);
    const shown = await cal.events.list({
      calendarId: 'primary',
      privateExtendedProperty: ['calsyncId=appt-1'],
      showDeleted: true,
    });
    expect(shown.data.items!.map((e) => [e.id, e.status]).sort()).toEqual([
      ['list00001', 'cancelled'],
      ['list00003', 'confirmed'],
    ]);

    const windowed = await cal.events.list({
      calendarId: 'primary',
      timeMin: '2030-05-01T09:45:00Z',
      timeMax: '2030-05-01T12:00:00Z',
    });
    expect(windowed.data.items!.map((e) => e.id)).toEqual(['list00004']);
  });

  test('paging, incremental sync with deletions, 400 on mixed filters, 410 after expiry', async () => {
    const cal = calendarFor((await newUser('a@example.com')).accessToken);
    for (const id of ['snc00001', 'snc00002', 'snc00003']) {
      await cal.events.insert({ calendarId: 'primary', requestBody: { id, ...slot(9) } });
    }
    const page1 = await cal.events.list({ calendarId: 'primary', maxResults: 2 });
    expect(page1.data.items!.map((e) => e.id)).toEqual(['snc00001', 'snc00002']);
    expect(page1.data.nextSyncToken).toBeUndefined();
    expect(page1.data.nextPageToken).toEqual(expect.any(String));
    const page2 = await cal.events.list({ calendarId: 'primary', maxResults: 2, pageToken: page1.data.nextPageToken! });
    expect(page2.data.items!.map((e) => e.id)).toEqual(['snc00003']);
    expect(page2.data.nextPageToken).toBeUndefined();
    const token = page2.data.nextSyncToken!;
    expect(token).toEqual(expect.any(String));

    const empty = await cal.events.list({ calendarId: 'primary', syncToken: token });
    expect(empty.data.items).toEqual([]);
    expect(empty.data.nextSyncToken).toBe(token);

    await cal.events.patch({ calendarId: 'primary', eventId: 'snc00002', requestBody: { summary: 'changed' } });
    await cal.events.delete({ calendarId: 'primary', eventId: 'snc00003' });
    await cal.events.insert({ calendarId: 'primary', requestBody: { id: 'snc00004', ...slot(9) } });
    const delta = await cal.events.list({ calendarId: 'primary', syncToken: token });
    expect(delta.data.items!.map((e) => [e.id, e.status])).toEqual([
      ['snc00002', 'confirmed'],
      ['snc00003', 'cancelled'],
      ['snc00004', 'confirmed'],
    ]);
    expect(delta.data.nextSyncToken).not.toBe(token);

    // A change made in Google's UI shows up too.
    await control('POST', '/_emulator/calendars/a@example.com/events', { id: 'snc00001', summary: 'edited in UI' });
    const uiDelta = await cal.events.list({ calendarId: 'primary', syncToken: delta.data.nextSyncToken! });
    expect(uiDelta.data.items!.map((e) => [e.id, e.summary])).toEqual([['snc00001', 'edited in UI']]);

    const mixed = await googleError(
      cal.events.list({ calendarId: 'primary', syncToken: token, timeMin: '2030-01-01T00:00:00Z' }),
    );
    expect([mixed.status, mixed.reason]).toEqual([400, 'invalid']);
    const mixedProps = await googleError(
      cal.events.list({ calendarId: 'primary', syncToken: token, privateExtendedProperty: ['a=b'] }),
    );
    expect([mixedProps.status, mixedProps.reason]).toEqual([400, 'invalid']);

    await control('POST', '/_emulator/sync-tokens/expire');
    const expired = await googleError(
      cal.events.list({ calendarId: 'primary', syncToken: uiDelta.data.nextSyncToken! }),
    );
    expect([expired.status, expired.reason]).toEqual([410, 'fullSyncRequired']);
    const garbage = await googleError(cal.events.list({ calendarId: 'primary', syncToken: 'not-a-token' }));
    expect([garbage.status, garbage.reason]).toEqual([410, 'fullSyncRequired']);
  });
});

describe('calendars and access', () => {
  test('calendar list, secondary calendars, ownership 404, forbid knob 403', async () => {
    const alice = calendarFor((await newUser('alice@example.com')).accessToken);
    const bob = calendarFor((await newUser('bob@example.com')).accessToken);
    const list = await alice.calendarList.list();
    expect(list.data.items!.map((c) => [c.id, c.primary, c.accessRole])).toEqual([
      ['alice@example.com', true, 'owner'],
    ]);

    const created = await alice.calendars.insert({
      requestBody: { summary: 'Appointments', timeZone: 'Europe/Berlin' },
    });
    expect(created.data.id).toMatch(/^[a-v0-9]+@group\.calendar\.google\.com$/);
    expect(created.data.timeZone).toBe('Europe/Berlin');
    const secondary = created.data.id!;
    await alice.events.insert({ calendarId: secondary, requestBody: { id: 'second001', ...slot(9) } });

    const foreign = await googleError(bob.events.list({ calendarId: secondary }));
    expect([foreign.status, foreign.reason]).toEqual([404, 'notFound']);
    const foreignPrimary = await googleError(bob.events.get({ calendarId: 'alice@example.com', eventId: 'second001' }));
    expect(foreignPrimary.status).toBe(404);

    await control('POST', `/_emulator/calendars/${encodeURIComponent(secondary)}/forbid`, { forbidden: true });
    const blocked = await googleError(alice.events.list({ calendarId: secondary }));
    expect([blocked.status, blocked.reason, blocked.message]).toEqual([403, 'forbidden', 'Forbidden']);
    await control('POST', `/_emulator/calendars/${encodeURIComponent(secondary)}/forbid`, { forbidden: false });

    const cannot = await googleError(alice.calendars.delete({ calendarId: 'primary' }));
    expect(cannot.status).toBe(400);
    expect((await alice.calendars.delete({ calendarId: secondary })).status).toBe(204);
    const gone = await googleError(alice.calendars.get({ calendarId: secondary }));
    expect(gone.status).toBe(404);

    const inspected = await control('GET', '/_emulator/users/alice@example.com/calendars');
    expect(inspected.calendars.map((c: { id: string }) => c.id)).toEqual(['alice@example.com']);
  });

  test('401 without or with a bad token', async () => {
    await newUser('a@example.com');
    const res = await fetch(`${base}/calendar/v3/calendars/primary/events`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        code: 401,
        message: 'Invalid Credentials',
        errors: [
          {
            domain: 'global',
            reason: 'authError',
            message: 'Invalid Credentials',
            location: 'Authorization',
            locationType: 'header',
          },
        ],
      },
    });
    const bad = await googleError(calendarFor('ya29.bogus').events.list({ calendarId: 'primary' }));
    expect([bad.status, bad.reason, bad.domain]).toEqual([401, 'authError', 'global']);
  });
});

describe('oauth', () => {
  test('refresh, expiry knob, revoke -> invalid_grant', async () => {
    const alice = await newUser('alice@example.com');
    const refreshed = await form('/token', {
      grant_type: 'refresh_token',
      refresh_token: alice.refreshToken,
      client_id: 'cid',
      client_secret: 'secret',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'https://www.googleapis.com/auth/calendar',
    });
    expect(refreshed.body.refresh_token).toBeUndefined();
    const viaJson = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: alice.refreshToken }),
    });
    expect(viaJson.status).toBe(200);

    const fresh = calendarFor(refreshed.body.access_token);
    expect((await fresh.events.list({ calendarId: 'primary' })).status).toBe(200);

    await control('POST', '/_emulator/users/alice@example.com/expire-access-tokens');
    expect((await googleError(fresh.events.list({ calendarId: 'primary' }))).status).toBe(401);

    // google-auth-library refreshes by itself against the emulator's token endpoint.
    const auth = new google.auth.OAuth2({
      clientId: 'cid',
      clientSecret: 'secret',
      endpoints: { oauth2TokenUrl: `${base}/token` },
      transporterOptions: { fetchImplementation },
    });
    auth.setCredentials({ refresh_token: alice.refreshToken });
    const auto = google.calendar({ version: 'v3', rootUrl: `${base}/`, auth, retry: false, fetchImplementation });
    expect((await auto.events.list({ calendarId: 'primary' })).status).toBe(200);

    const revoked = await form('/revoke', { token: alice.refreshToken });
    expect(revoked.status).toBe(200);
    const dead = await form('/token', {
      grant_type: 'refresh_token',
      refresh_token: alice.refreshToken,
      client_id: 'cid',
    });
    expect(dead).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
    });
    expect((await googleError(auto.events.list({ calendarId: 'primary' }))).status).toBe(401);

    const other = await newUser('alice@example.com');
    await control('POST', '/_emulator/users/alice@example.com/revoke');
    expect((await form('/token', { grant_type: 'refresh_token', refresh_token: other.refreshToken })).status).toBe(400);
    expect((await googleError(calendarFor(other.accessToken).events.list({ calendarId: 'primary' }))).status).toBe(401);
  });
});

describe('quotas and faults', () => {
  test('rate limit 403 usageLimits, per user', async () => {
    await control('POST', '/_emulator/config', { userRateLimitPerMinute: 3 });
    const a = calendarFor((await newUser('a@example.com')).accessToken);
    const b = calendarFor((await newUser('b@example.com')).accessToken);
    for (let i = 0; i < 3; i++) expect((await a.events.list({ calendarId: 'primary' })).status).toBe(200);
    const limited = await googleError(a.events.list({ calendarId: 'primary' }));
    expect([limited.status, limited.reason, limited.domain, limited.message]).toEqual([
      403,
      'rateLimitExceeded',
      'usageLimits',
      'Rate Limit Exceeded',
    ]);
    expect((await b.events.list({ calendarId: 'primary' })).status).toBe(200);
  });

  test('rate limit 429 with Retry-After', async () => {
    await control('POST', '/_emulator/config', { userRateLimitPerMinute: 1, rateLimitStyle: '429' });
    const a = calendarFor((await newUser('a@example.com')).accessToken);
    await a.events.list({ calendarId: 'primary' });
    const limited = await googleError(
      a.events.insert({ calendarId: 'primary', requestBody: { id: 'ratelim01', ...slot(9) } }),
    );
    expect([limited.status, limited.reason]).toEqual([429, 'rateLimitExceeded']);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const events = await control('GET', '/_emulator/calendars/a@example.com/events');
    expect(events.items).toEqual([]);
  });

  test('errorRate=1 for one user fails only that user, before applying', async () => {
    const a = calendarFor((await newUser('a@example.com')).accessToken);
    const b = calendarFor((await newUser('b@example.com')).accessToken);
    await control('POST', '/_emulator/faults', { user: 'a@example.com', errorRate: 1, errorStatuses: [503] });
    const failed = await googleError(
      a.events.insert({ calendarId: 'primary', requestBody: { id: 'fault0001', ...slot(9) } }),
    );
    expect([failed.status, failed.reason]).toEqual([503, 'backendError']);
    expect((await control('GET', '/_emulator/calendars/a@example.com/events')).items).toEqual([]);
    expect(
      (await b.events.insert({ calendarId: 'primary', requestBody: { id: 'fault0001', ...slot(9) } })).status,
    ).toBe(200);

    await control('POST', '/_emulator/faults', {
      user: 'a@example.com',
      errorRate: 1,
      errorStatuses: [429],
      retryAfterSeconds: 7,
    });
    const throttled = await googleError(a.events.list({ calendarId: 'primary' }));
    expect([throttled.status, throttled.reason, throttled.headers.get('retry-after')]).toEqual([
      429,
      'rateLimitExceeded',
      '7',
    ]);

    await control('DELETE', '/_emulator/faults?user=a@example.com');
    expect(
      (await a.events.insert({ calendarId: 'primary', requestBody: { id: 'fault0001', ...slot(9) } })).status,
    ).toBe(200);
    expect((await control('GET', '/_emulator/stats?user=a@example.com')).writes).toBe(1);
  });

  test('applyThenFail firstInsert: applied once, 500, retry gets 409', async () => {
    const a = calendarFor((await newUser('a@example.com')).accessToken);
    await control('POST', '/_emulator/faults', { applyThenFail: 'firstInsert' });
    const first = await googleError(
      a.events.insert({ calendarId: 'primary', requestBody: { id: 'atf000001', ...slot(9) } }),
    );
    expect([first.status, first.reason]).toEqual([500, 'backendError']);
    const retry = await googleError(
      a.events.insert({ calendarId: 'primary', requestBody: { id: 'atf000001', ...slot(9) } }),
    );
    expect([retry.status, retry.reason]).toEqual([409, 'duplicate']);
    const stored = await control('GET', '/_emulator/calendars/a@example.com/events');
    expect(stored.items.map((e: { id: string; status: string }) => [e.id, e.status])).toEqual([
      ['atf000001', 'confirmed'],
    ]);
    // Other writes are unaffected by 'firstInsert'.
    expect(
      (await a.events.patch({ calendarId: 'primary', eventId: 'atf000001', requestBody: { summary: 's' } })).status,
    ).toBe(200);

    await control('POST', '/_emulator/faults', { applyThenFail: 'always' });
    const del = await googleError(a.events.delete({ calendarId: 'primary', eventId: 'atf000001' }));
    expect(del.status).toBe(500);
    const retriedDelete = await googleError(a.events.delete({ calendarId: 'primary', eventId: 'atf000001' }));
    expect([retriedDelete.status, retriedDelete.reason]).toEqual([410, 'deleted']);
    expect((await control('GET', '/_emulator/stats?user=a@example.com')).writes).toBe(3);
  });

  test('stats count requests per operation and applied writes only', async () => {
    const a = calendarFor((await newUser('a@example.com')).accessToken);
    const b = calendarFor((await newUser('b@example.com')).accessToken);
    await a.events.insert({ calendarId: 'primary', requestBody: { id: 'stats0001', ...slot(9) } });
    await googleError(a.events.insert({ calendarId: 'primary', requestBody: { id: 'stats0001', ...slot(9) } }));
    await a.events.update({ calendarId: 'primary', eventId: 'stats0001', requestBody: { ...slot(10) } });
    await a.events.patch({ calendarId: 'primary', eventId: 'stats0001', requestBody: { summary: 'p' } });
    await a.events.get({ calendarId: 'primary', eventId: 'stats0001' });
    await a.events.delete({ calendarId: 'primary', eventId: 'stats0001' });
    await googleError(a.events.delete({ calendarId: 'primary', eventId: 'stats0001' }));
    await b.events.list({ calendarId: 'primary' });

    const stats = await control('GET', '/_emulator/stats?user=a@example.com');
    expect(stats).toEqual({
      requests: 7,
      writes: 4,
      byOperation: {
        'events.insert': { total: 2, ok: 1, failed: 1, byStatus: { 200: 1, 409: 1 } },
        'events.update': { total: 1, ok: 1, failed: 0, byStatus: { 200: 1 } },
        'events.patch': { total: 1, ok: 1, failed: 0, byStatus: { 200: 1 } },
        'events.get': { total: 1, ok: 1, failed: 0, byStatus: { 200: 1 } },
        'events.delete': { total: 2, ok: 1, failed: 1, byStatus: { 204: 1, 410: 1 } },
      },
    });
    const all = await control('GET', '/_emulator/stats');
    expect([all.requests, all.writes, all.byOperation['events.list'].total]).toEqual([8, 4, 1]);
    await control('POST', '/_emulator/stats/reset');
    expect(await control('GET', '/_emulator/stats')).toEqual({ byOperation: {}, writes: 0, requests: 0 });
  });

  test('control knobs: UI edit and hard delete', async () => {
    const a = calendarFor((await newUser('a@example.com')).accessToken);
    const ui = await control('POST', '/_emulator/calendars/a@example.com/events', {
      summary: 'made in UI',
      ...slot(9),
    });
    expect(ui.id).toMatch(/^[a-v0-9]+$/);
    expect((await a.events.get({ calendarId: 'primary', eventId: ui.id })).data.summary).toBe('made in UI');
    await control('DELETE', `/_emulator/calendars/a@example.com/events/${ui.id}?hard=true`);
    const gone = await googleError(a.events.get({ calendarId: 'primary', eventId: ui.id }));
    expect(gone.status).toBe(404);
    expect((await control('GET', '/_emulator/stats?user=a@example.com')).writes).toBe(0);
  });
});
