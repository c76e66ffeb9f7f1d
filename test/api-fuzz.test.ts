import fc from 'fast-check';
import { WorkflowNotFoundError } from '@temporalio/client';
import { appointmentBody, call } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient } from './helpers/world';

/** Property-based: whatever a client sends, the API answers 2xx or 4xx, and a 4xx starts nothing. */
describe('API input fuzzing', () => {
  const stack = useAppStack();
  let world: TenantWorld;
  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/zed', { name: 'Zed' });
  });

  const valid = appointmentBody({ revision: 1, staffIds: ['zed'] });
  // Valid bodies with one field replaced by anything, or removed, or an unknown field added.
  const mutated = fc.oneof(
    fc
      .record({ key: fc.constantFrom(...Object.keys(valid)), value: fc.anything() })
      .map(({ key, value }) => ({ ...valid, [key]: value })),
    fc
      .constantFrom(...Object.keys(valid))
      .map((key) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))),
    fc.record({ start: fc.string(), end: fc.string(), timeZone: fc.string() }).map((times) => ({ ...valid, ...times })),
    fc.anything(),
  );

  test('PUT bodies never get a 5xx; rejected ones start no workflow', async () => {
    const client = await temporalClient();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated, async (body) => {
        const id = `fuzz-${n++}`;
        const res = await call(stack.apiUrl, 'PUT', `/v1/appointments/${id}`, {
          key: world.key,
          rawBody: JSON.stringify(body) ?? 'null',
        });
        if (res.status >= 500 || ![202, 400].includes(res.status))
          throw new Error(`status ${res.status} for ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        if (res.status === 400) {
          if (typeof res.body?.message !== 'string' || !res.body.details?.issues?.length)
            throw new Error(`400 without a field: ${JSON.stringify(res.body)}`);
          const started = await client.workflow
            .getHandle(`appt:${world.tenantId}:${id}`)
            .describe()
            .then(
              () => true,
              (e) => !(e instanceof WorkflowNotFoundError),
            );
          if (started) throw new Error(`rejected body started a workflow: ${JSON.stringify(body)}`);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('query strings and paths never get a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), async (a, b) => {
        const paths = [
          `/v1/sync-failures?since=${encodeURIComponent(a)}&cursor=${encodeURIComponent(b)}`,
          `/v1/appointments/${encodeURIComponent(a || 'x')}/log?limit=${encodeURIComponent(b)}`,
          `/v1/appointments/${encodeURIComponent(a || 'x')}?revision=${encodeURIComponent(b)}`,
        ];
        for (const path of paths) {
          const res = await call(stack.apiUrl, 'GET', path, { key: world.key });
          if (res.status >= 500) throw new Error(`${path}: ${res.status}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});
