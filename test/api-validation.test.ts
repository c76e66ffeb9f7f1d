import { WorkflowNotFoundError } from '@temporalio/client';
import { appointmentBody, call } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient, testDb } from './helpers/world';

/** The API's contract: bad input is a 400 that names the field and starts nothing; tenants are walled off. */
describe('API validation and tenancy', () => {
  const stack = useAppStack();
  let world: TenantWorld;
  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/mia', { name: 'Mia' });
  });

  async function expectNothingStarted(appointmentId: string) {
    expect((await world.call('GET', `/v1/appointments/${appointmentId}`)).status).toBe(404);
    const client = await temporalClient();
    await expect(
      client.workflow.getHandle(`appt:${world.tenantId}:${appointmentId}`).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }

  const valid = () => appointmentBody({ revision: 1, staffIds: ['mia'] });
  const cases: [string, (b: Record<string, unknown>) => unknown, string][] = [
    ['missing revision', ({ revision: _r, ...rest }) => rest, 'revision'],
    ['revision as a string', (b) => ({ ...b, revision: '1' }), 'revision'],
    ['negative revision', (b) => ({ ...b, revision: -1 }), 'revision'],
    ['missing start', ({ start: _s, ...rest }) => rest, 'start'],
    ['end before start', (b) => ({ ...b, end: String(b.start).replace('T10:', 'T09:') }), 'end'],
    ['end equal to start', (b) => ({ ...b, end: b.start }), 'end'],
    ['not a date', (b) => ({ ...b, start: 'tomorrow at ten' }), 'start'],
    ['impossible date', (b) => ({ ...b, start: '2026-02-30T10:00:00' }), 'start'],
    ['unknown time zone', (b) => ({ ...b, timeZone: 'Mars/Olympus_Mons' }), 'timeZone'],
    ['oversized description', (b) => ({ ...b, description: 'x'.repeat(8001) }), 'description'],
    ['oversized client name', (b) => ({ ...b, clientName: 'x'.repeat(201) }), 'clientName'],
    ['staffIds not an array', (b) => ({ ...b, staffIds: 'mia' }), 'staffIds'],
    ['a service of the wrong type', (b) => ({ ...b, services: ['Cut', 42] }), 'services[1]'],
    ['unknown status', (b) => ({ ...b, status: 'maybe' }), 'status'],
    ['unknown staff member', (b) => ({ ...b, staffIds: ['mia', 'nobody'] }), 'staffIds[1]'],
    ['repeated staff member', (b) => ({ ...b, staffIds: ['mia', 'mia'] }), 'staffIds'],
    // iCalendar and mail allow no control characters but tab in text (descriptions: line breaks too).
    ['a title with U+0007', (b) => ({ ...b, title: 'Cut\u0007' }), 'title'],
    ['a title with a line break', (b) => ({ ...b, title: 'Cut\nBEGIN:VEVENT' }), 'title'],
    ['a client name with U+001B', (b) => ({ ...b, clientName: 'Ana\u001b[31m' }), 'clientName'],
    ['a location with U+0000', (b) => ({ ...b, location: 'Calle\u0000 1' }), 'location'],
    ['a service with U+007F', (b) => ({ ...b, services: ['Cut', 'Dye\u007f'] }), 'services[1]'],
    ['a description with U+0008', (b) => ({ ...b, description: 'Line one\nline\b two' }), 'description'],
  ];

  test('a title with a tab and a description with line breaks are accepted', async () => {
    const res = await world.call('PUT', '/v1/appointments/tabbed', {
      ...valid(),
      title: 'Cut\tand wash',
      description: 'Line one\r\nline two\tindented',
    });
    expect(res.status).toBe(202);
  });

  test('a staff name with a control character is a 400 naming name', async () => {
    const res = await world.call('PUT', '/v1/staff/bel', { name: 'Bel\u0007' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^name: must not contain control characters/);
    expect((await world.call('PUT', '/v1/staff/bel', { name: 'Bel "B" \\ ; ,\tx' })).status).toBe(200);
  });

  test.each(cases)('%s → 400 naming %s, nothing started', async (_name, mutate, field) => {
    const id = `bad-${field.replace(/\W/g, '')}-${Math.random().toString(36).slice(2, 8)}`;
    const res = await world.call('PUT', `/v1/appointments/${id}`, mutate(valid()));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.message.startsWith(`${field}:`)).toBe(true);
    expect(res.body.details.issues.map((i: { field: string }) => i.field)).toContain(field);
    await expectNothingStarted(id);
  });

  test('malformed JSON and a bad id in the path are 400s', async () => {
    const malformed = await call(stack.apiUrl, 'PUT', '/v1/appointments/x1', {
      key: world.key,
      rawBody: '{"revision": 1,',
    });
    expect(malformed.status).toBe(400);
    await expectNothingStarted('x1');
    const badId = await world.call('PUT', `/v1/appointments/${'a'.repeat(200)}`, valid());
    expect(badId.status).toBe(400);
    expect(badId.body.message).toMatch(/^id:/);
  });

  test('a missing or wrong API key is 401', async () => {
    expect((await call(stack.apiUrl, 'PUT', '/v1/appointments/k1', { body: valid() })).status).toBe(401);
    expect((await call(stack.apiUrl, 'PUT', '/v1/appointments/k1', { key: 'csk_wrong', body: valid() })).status).toBe(
      401,
    );
    expect(
      (await call(stack.apiUrl, 'POST', '/v1/admin/tenants', { key: world.key, body: { id: 'sneaky', name: 'x' } }))
        .status,
    ).toBe(401);
    await expectNothingStarted('k1');
  });

  test("one tenant cannot see or change another tenant's appointments", async () => {
    const other = await TenantWorld.create(stack.apiUrl);
    const created = await world.put('shared-id', { revision: 5, staffIds: ['mia'], title: 'Mine' });
    expect(created.status).toBe(202);

    expect((await other.call('GET', '/v1/appointments/shared-id')).status).toBe(404);
    expect((await other.call('POST', '/v1/appointments/shared-id/cancel', {})).status).toBe(404);
    expect((await other.call('DELETE', '/v1/appointments/shared-id')).status).toBe(404);
    // Staff ids are per tenant too: the other tenant cannot assign this tenant's staff.
    const theirs = await other.put('shared-id', { revision: 1, staffIds: ['mia'] });
    expect(theirs.status).toBe(400);

    const mine = await world.call('GET', '/v1/appointments/shared-id');
    expect(mine.body).toMatchObject({ revision: 5, status: 'confirmed', deleted: false });
    const rows = await testDb()('appointments')
      .where({ id: 'shared-id' })
      .whereIn('tenant_id', [world.tenantId, other.tenantId]);
    expect(rows.map((r) => r.tenant_id)).toEqual([world.tenantId]);
  });

  test('tenant B can read, change, replay or list nothing of tenant A, on every endpoint', async () => {
    const a = await TenantWorld.create(stack.apiUrl);
    const b = await TenantWorld.create(stack.apiUrl);
    await a.call('PUT', '/v1/staff/ana', { name: 'Ana' });
    await a.put('a-visit', { revision: 1, staffIds: ['ana'] });
    const replay = await a.call('POST', '/v1/sync-failures/replay', {});
    expect(replay.status).toBe(202);

    const notFound: [string, string, unknown?][] = [
      ['GET', '/v1/appointments/a-visit'],
      ['GET', '/v1/appointments/a-visit/log'],
      ['POST', '/v1/appointments/a-visit/cancel', {}],
      ['DELETE', '/v1/appointments/a-visit'],
      ['POST', '/v1/appointments/a-visit/resync', {}],
      ['GET', `/v1/sync-failures/replays/${replay.body.replayId}`],
      ['POST', '/v1/staff/ana/links/google', { accountEmail: 'x@example.test', refreshToken: 'r' }],
    ];
    for (const [method, path, body] of notFound) {
      const res = await b.call(method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect((await b.call('GET', '/v1/staff/ana/links')).body.links).toEqual([]);
    expect((await b.put('a-visit', { revision: 9, staffIds: ['ana'] })).status).toBe(400);
    expect((await b.call('GET', '/v1/sync-failures')).body.failures).toEqual([]);

    // A's appointment is untouched by all of that.
    const mine = await a.call('GET', '/v1/appointments/a-visit');
    expect(mine.body).toMatchObject({ revision: 1, status: 'confirmed', deleted: false });
  });

  test('an unknown calendar provider is a 400 naming provider, never another provider; nothing is stored', async () => {
    const body = { accountEmail: 'mia@example.test', refreshToken: 'r' };
    for (const [method, path, sent] of [
      ['POST', '/v1/staff/mia/links/caldav-unknown', body],
      ['POST', '/v1/staff/mia/links/Google', body],
      ['POST', '/v1/staff/mia/links', { provider: 'outlook' }],
    ] as const) {
      const res = await world.call(method, path, sent);
      expect([path, res.status, res.body.error]).toEqual([path, 400, 'invalid_request']);
      expect(res.body.message).toMatch(/^provider: /);
      expect(res.body.details.issues.map((i: { field: string }) => i.field)).toEqual(['provider']);
    }
    expect(await testDb()('calendar_links').where({ tenant_id: world.tenantId })).toEqual([]);
    // A push to a provider calsync does not have reaches nothing.
    const push = await call(stack.apiUrl, 'POST', '/webhooks/outlook', { body: { value: [] } });
    expect(push.status).toBe(404);
  });

  test('the OpenAPI document describes the appointment body', async () => {
    const res = await call(stack.apiUrl, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const schema = res.body.paths['/v1/appointments/{id}'].put.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['revision', 'start', 'end', 'timeZone', 'staffIds']));
  });
});
