import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { freePort, httpAnswers, spawnNode, waitFor, type Service } from '../scripts/stack';
import { call } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';

/**
 * Busy time computed on the API's worker threads (issue 15) answers exactly what the same
 * computation inline answers: two APIs on the same database, one sending every read to a thread,
 * one keeping every read inline, asked the same questions about series with exceptions, all-day
 * series and DST changes in the window. A third API with a tiny work budget shows the bound.
 */
describe('busy time on worker threads', () => {
  // Every read, however small, on a thread.
  const stack = useAppStack({ BUSY_INLINE_MAX_INTERVALS: '-1' });
  const extra: Service[] = [];
  let inlineUrl: string;
  let tightUrl: string;
  let world: TenantWorld;

  async function startApi(env: NodeJS.ProcessEnv): Promise<string> {
    const port = await freePort();
    const api = spawnNode('api', 'api/main.ts', {
      env: {
        CALSYNC_TASK_QUEUE: stack.taskQueue,
        API_PORT: String(port),
        API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '1000000',
        ...env,
      },
      logFile: path.join(process.env.CALSYNC_TEST_TMP!, `api-${stack.taskQueue}-${port}.log`),
    });
    extra.push(api);
    const url = `http://127.0.0.1:${port}`;
    await waitFor('API', () => httpAnswers(`${url}/healthz`), 60000);
    return url;
  }

  // The window: March and April 2027, with Europe's (28 March), North America's (14 March) and
  // Sydney's (4 April) DST changes in it.
  const from = '2027-03-01T00:00:00Z';
  const to = '2027-04-30T00:00:00Z';

  beforeAll(async () => {
    [inlineUrl, tightUrl] = await Promise.all([
      startApi({ BUSY_INLINE_MAX_INTERVALS: '1000000000' }),
      startApi({ BUSY_INLINE_MAX_INTERVALS: '-1', BUSY_WORK_BUDGET_MS: '1' }),
    ]);
    world = await TenantWorld.create(stack.apiUrl);
    for (const id of ['ana', 'empty'])
      expect((await world.call('PUT', `/v1/staff/${id}`, { name: id })).status).toBe(200);
    const put = async (id: string, body: Record<string, unknown>) => {
      const res = await world.call('PUT', `/v1/appointments/${id}`, {
        revision: 1,
        title: id,
        staffIds: ['ana'],
        ...body,
      });
      expect([id, res.status, res.body?.message]).toEqual([id, 202, undefined]);
    };
    // Daily in Madrid since 2024, one occurrence cancelled and one moved in the window.
    await put('daily', {
      start: '2024-01-15T09:30',
      end: '2024-01-15T10:15',
      timeZone: 'Europe/Madrid',
      recurrence: {
        rrule: 'FREQ=DAILY',
        exceptions: [
          { originalStart: '2027-03-10', cancelled: true },
          { originalStart: '2027-03-12', start: '2027-03-12T15:00', end: '2027-03-12T16:00' },
          { originalStart: '2027-03-30', title: 'retitled' },
        ],
      },
    });
    // Mondays and Wednesdays in New York across its DST change.
    await put('weekly-ny', {
      start: '2025-06-02T08:00',
      end: '2025-06-02T09:30',
      timeZone: 'America/New_York',
      recurrence: { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE' },
    });
    // All day every Sunday in Madrid: 28 March 2027 is 23 hours long.
    await put('sundays', {
      start: '2025-03-30',
      end: '2025-03-31',
      allDay: true,
      timeZone: 'Europe/Madrid',
      recurrence: { rrule: 'FREQ=WEEKLY' },
    });
    // The last Friday of each month in Sydney, its DST ending on 4 April.
    await put('last-friday', {
      start: '2025-01-31T18:00',
      end: '2025-01-31T19:00',
      timeZone: 'Australia/Sydney',
      recurrence: { rrule: 'FREQ=MONTHLY;BYDAY=-1FR' },
    });
    // Ten more daily series, so one answer holds hundreds of intervals.
    for (let i = 0; i < 10; i++) {
      const hh = String(11 + i).padStart(2, '0');
      await put(`more-${i}`, {
        start: `2023-05-0${1 + (i % 9)}T${hh}:00`,
        end: `2023-05-0${1 + (i % 9)}T${hh}:20`,
        timeZone: 'Europe/Madrid',
        recurrence: { rrule: 'FREQ=DAILY' },
      });
    }
    await put('single', { start: '2027-03-28T12:00:00Z', end: '2027-03-28T13:00:00Z', timeZone: 'UTC' });
  });

  afterAll(async () => {
    await Promise.all(extra.map((s) => s.stop()));
  });

  /** The same request to both APIs: the bodies and where each was computed. */
  async function both(method: string, route: string, body?: unknown) {
    const ask = async (url: string) => {
      const res = await fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${world.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const where = /desc="(\w+)"/.exec(res.headers.get('server-timing') ?? '')?.[1];
      return { status: res.status, where, body: (await res.json()) as any };
    };
    const [thread, inline] = await Promise.all([ask(stack.apiUrl), ask(inlineUrl)]);
    return { thread, inline };
  }

  test.each(['Europe/Madrid', 'America/New_York', 'UTC', 'Asia/Kolkata'])(
    'GET busy in %s: the thread answers what inline does',
    async (zone) => {
      const { thread, inline } = await both(
        'GET',
        `/v1/staff/ana/busy?from=${from}&to=${to}&timeZone=${encodeURIComponent(zone)}`,
      );
      expect([thread.status, thread.where, inline.status, inline.where]).toEqual([200, 'thread', 200, 'inline']);
      expect(thread.body).toEqual(inline.body);
      const starts = (id: string) =>
        (thread.body.intervals as { appointmentId: string; start: string }[])
          .filter((i) => i.appointmentId === id)
          .map((i) => i.start);
      expect(starts('daily')).toHaveLength(59);
      expect(thread.body.intervals.length).toBeGreaterThan(600);
      if (zone === 'Europe/Madrid') {
        // 09:30 in Madrid either side of its DST change; the cancelled day missing, the moved one moved.
        expect(starts('daily')).toEqual(
          expect.arrayContaining([
            '2027-03-27T09:30:00+01:00',
            '2027-03-29T09:30:00+02:00',
            '2027-03-12T15:00:00+01:00',
          ]),
        );
        expect(starts('daily').filter((s) => s.startsWith('2027-03-10'))).toEqual([]);
        expect(
          thread.body.intervals.find(
            (i: { appointmentId: string; start: string }) =>
              i.appointmentId === 'sundays' && i.start.startsWith('2027-03-28'),
          ),
        ).toMatchObject({ start: '2027-03-28T00:00:00+01:00', end: '2027-03-29T00:00:00+02:00' });
      }
      if (zone === 'America/New_York')
        expect(starts('weekly-ny')).toEqual(
          expect.arrayContaining(['2027-03-10T08:00:00-05:00', '2027-03-15T08:00:00-04:00']),
        );
    },
  );

  test('availability check and availability: the same answers on a thread and inline', async () => {
    const check = await both('POST', '/v1/staff/ana/availability/check', {
      start: '2027-03-28T00:00',
      end: '2027-03-29T00:00',
      timeZone: 'Europe/Madrid',
    });
    expect([check.thread.status, check.thread.where, check.inline.where]).toEqual([200, 'thread', 'inline']);
    expect(check.thread.body).toEqual(check.inline.body);
    expect(check.thread.body.free).toBe(false);
    expect(check.thread.body.conflicts.map((c: { appointmentId: string }) => c.appointmentId)).toEqual(
      expect.arrayContaining(['sundays', 'daily', 'single']),
    );

    const slots = await both('POST', '/v1/availability', {
      staffIds: ['ana', 'empty'],
      mode: 'all',
      durationMinutes: 30,
      bufferBeforeMinutes: 10,
      window: { from: '2027-03-25T00:00', to: '2027-04-06T00:00' },
      timeZone: 'Europe/Madrid',
      workingHours: { ana: { timeZone: 'Australia/Sydney', weekly: { fri: [{ start: '08:00', end: '20:00' }] } } },
    });
    expect([slots.thread.status, slots.thread.where, slots.inline.where]).toEqual([200, 'thread', 'inline']);
    expect(slots.thread.body).toEqual(slots.inline.body);
    expect(slots.thread.body.slots.length).toBeGreaterThan(10);
  });

  test('a read past its work budget answers 503 with Retry-After, and the API goes on answering', async () => {
    // Many milliseconds of work on any machine: hundreds of occurrences and two people's 5-minute grid over 60 days.
    const heavy = {
      staffIds: ['ana', 'empty'],
      durationMinutes: 30,
      slotIntervalMinutes: 5,
      maxSlots: 2000,
      window: { from, to },
      timeZone: 'Europe/Madrid',
    };
    const over = await call(tightUrl, 'POST', '/v1/availability', { key: world.key, body: heavy });
    expect([over.status, over.body.error]).toEqual([503, 'work_budget_exceeded']);
    const res = await fetch(`${tightUrl}/v1/availability`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(heavy),
    });
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '5']);
    // The same read within its budget elsewhere, and the tight API still answers the rest.
    expect((await call(stack.apiUrl, 'POST', '/v1/availability', { key: world.key, body: heavy })).status).toBe(200);
    expect((await call(tightUrl, 'GET', '/v1/settings', { key: world.key })).status).toBe(200);
  });
  test('the ETag is made with the answer, the same on a thread and inline; If-None-Match answers 304 until the busy time changes', async () => {
    const route = `/v1/staff/ana/busy?from=${from}&to=${to}&timeZone=Europe/Madrid`;
    const get = (url: string, etag?: string) =>
      fetch(`${url}${route}`, {
        headers: { authorization: `Bearer ${world.key}`, ...(etag ? { 'if-none-match': etag } : {}) },
      });
    const [thread, inline] = await Promise.all([get(stack.apiUrl), get(inlineUrl)]);
    const body = Buffer.from(await thread.arrayBuffer());
    expect(Buffer.from(await inline.arrayBuffer()).equals(body)).toBe(true);
    const etag = thread.headers.get('etag')!;
    // Express's own weak ETag of the body (length and SHA-1), as before it was made on the thread.
    const sha1 = createHash('sha1').update(body).digest('base64').slice(0, 27);
    expect(etag).toBe(`W/"${body.length.toString(16)}-${sha1}"`);
    expect(inline.headers.get('etag')).toBe(etag);
    // node:http, not fetch: fetch adds Cache-Control: no-cache to a request with If-None-Match.
    const conditional = (url: string) =>
      new Promise<[number, string]>((resolve, reject) => {
        const req = http.get(
          `${url}${route}`,
          { headers: { authorization: `Bearer ${world.key}`, 'if-none-match': etag } },
          (res) => {
            let text = '';
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve([res.statusCode!, text]));
          },
        );
        req.on('error', reject);
      });
    for (const url of [stack.apiUrl, inlineUrl]) expect(await conditional(url)).toEqual([304, '']);
    // A new appointment in the window: the same question has another answer, and another ETag.
    const put = await world.call('PUT', '/v1/appointments/etag-probe', {
      revision: 1,
      title: 'probe',
      staffIds: ['ana'],
      start: '2027-04-02T07:00:00Z',
      end: '2027-04-02T07:30:00Z',
      timeZone: 'UTC',
    });
    expect(put.status).toBe(202);
    for (const url of [stack.apiUrl, inlineUrl]) {
      expect((await conditional(url))[0]).toBe(200);
      const changed = await get(url);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect(JSON.stringify(await changed.json())).toContain('etag-probe');
    }
  });
});
