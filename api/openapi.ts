import { z } from 'zod';
import { teamCalendarBodySchema } from './crmSchemas';
import { operations, type Operation } from './openapiOperations';
import { idSchema, providerNameSchema, tenantIdSchema } from './schemas';

/**
 * The API's OpenAPI 3.1 document, built from the operation table (api/openapiOperations.ts) and the
 * very zod schemas the routes validate with (zod 4's `z.toJSONSchema`, input side): a request the
 * document allows is a request the API takes. test/openapi.test.ts checks that every route Express
 * serves is in it, that it validates, and that every example passes its schema.
 */

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

/** Every error answer: `{ error, message, details? }`; a 400's `details.issues` names each bad field. */
export const errorBodySchema = z.object({
  error: z.string().meta({ description: 'machine-readable code', example: 'invalid_request' }),
  message: z.string().meta({ description: 'starts with the field at fault', example: 'end: must be after start' }),
  details: z
    .object({ issues: z.array(z.object({ field: z.string(), message: z.string() })).optional() })
    .passthrough()
    .optional(),
});

const ERRORS: Record<number, { description: string; example: z.input<typeof errorBodySchema> }> = {
  400: {
    description: 'Bad input: nothing was stored or started; `details.issues` names every bad field',
    example: {
      error: 'invalid_request',
      message: 'end: must be after start',
      details: { issues: [{ field: 'end', message: 'must be after start' }] },
    },
  },
  401: {
    description: 'No key, or a key that is unknown or revoked',
    example: { error: 'unauthorized', message: 'a valid API key is required' },
  },
  403: { description: 'Refused', example: { error: 'forbidden', message: 'not allowed' } },
  404: {
    description: "Not found (another tenant's ids too)",
    example: { error: 'not_found', message: 'no such thing' },
  },
  409: {
    description: 'Conflicts with the current state',
    example: { error: 'revision_conflict', message: 'revision 3 was already accepted with other content' },
  },
  429: {
    description: 'Too many requests for this key; retry after `Retry-After` seconds',
    example: { error: 'rate_limited', message: 'too many requests' },
  },
  503: {
    description: 'A dependency (PostgreSQL, Temporal) did not answer; retry',
    example: { error: 'unavailable', message: 'the request could not be completed; retry it' },
  },
};

/** Path parameters by name: the schemas `param()` checks them with. */
const PATH_PARAMS: Record<string, z.ZodType> = {
  id: idSchema,
  feedId: idSchema,
  replayId: idSchema,
  tenantId: tenantIdSchema,
  provider: providerNameSchema,
  file: z.string().regex(/^[A-Za-z0-9_-]+\.ics$/, 'must be <token>.ics'),
};

const SECURITY: Record<NonNullable<Operation['auth']>, Record<string, string[]>[]> = {
  tenant: [{ tenantKey: [] }],
  admin: [{ adminKey: [] }],
  codec: [{ adminKey: [] }, { codecSession: [] }],
  connect: [{ connectSession: [] }],
  public: [],
};

function parameters(path: string, op: Operation) {
  const inPath = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name!,
    in: 'path',
    required: true,
    schema: jsonSchema(PATH_PARAMS[name!] ?? z.string()),
  }));
  const query = op.query ? jsonSchema(op.query) : undefined;
  const required = new Set((query?.required as string[] | undefined) ?? []);
  const inQuery = Object.entries((query?.properties ?? {}) as Record<string, Record<string, unknown>>).map(
    ([name, schema]) => ({
      name,
      in: 'query',
      required: required.has(name),
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
      schema,
      ...(op.queryExample?.[name] !== undefined ? { example: op.queryExample[name] } : {}),
    }),
  );
  return [...inPath, ...inQuery];
}

function responses(path: string, op: Operation) {
  const out: Record<string, unknown> = {};
  for (const [status, ok] of Object.entries(op.ok)) {
    const type = ok.type ?? 'application/json';
    out[status] = {
      description: ok.description,
      ...(ok.example !== undefined || type !== 'application/json'
        ? { content: { [type]: ok.example !== undefined ? { example: ok.example } : {} } }
        : {}),
    };
  }
  // The errors every operation of its kind can answer, and those it names.
  const errors = new Set(op.errors ?? []);
  if (op.body || op.form || op.query || path.includes('{')) errors.add(400);
  if (path.includes('{') && op.auth !== 'public') errors.add(404);
  if (op.auth === 'tenant' || op.auth === 'admin' || op.auth === 'codec') errors.add(401);
  // Every route draws on a rate-limit budget (api/rateLimit.ts): the tenant's, or the caller's address.
  if (path !== '/healthz' && path !== '/metrics') errors.add(429);
  errors.add(503);
  for (const status of [...errors].sort()) {
    out[status] = { $ref: `#/components/responses/E${status}` };
  }
  return out;
}

function operation(path: string, op: Operation) {
  const body = op.body ?? op.form;
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    operationId: op.id,
    security: SECURITY[op.auth ?? 'tenant'],
    parameters: parameters(path, op),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: {
              [op.form ? 'application/x-www-form-urlencoded' : 'application/json']: {
                schema: jsonSchema(body),
                ...(op.bodyExample !== undefined ? { example: op.bodyExample } : {}),
              },
            },
          },
        }
      : {}),
    responses: responses(path, op),
  };
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(operations)) {
    const [method, path] = key.split(' ') as [string, string];
    (paths[path] ??= {})[method.toLowerCase()] = operation(path, op);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'calsync API',
      version: '0.1.0',
      description:
        'Desired state of appointments in, calendar sync status out. Bad input is a 400 whose `message` starts with the field at fault and whose `details.issues` lists every bad field; nothing is stored or started. Every answer carries `X-Request-Id`.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(Object.values(operations).map((op) => op.tag))].map((name) => ({ name })),
    components: {
      securitySchemes: {
        tenantKey: { type: 'http', scheme: 'bearer', description: "A tenant's API key (`csk_…`)" },
        adminKey: { type: 'http', scheme: 'bearer', description: 'An admin key (CALSYNC_ADMIN_KEY(S))' },
        codecSession: { type: 'apiKey', in: 'cookie', name: 'calsync_codec', description: 'Set by /codec/login' },
        connectSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'calsync_connect',
          description: 'Set by opening a connect-session URL',
        },
      },
      schemas: { Error: jsonSchema(errorBodySchema), TeamCalendar: jsonSchema(teamCalendarBodySchema) },
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([status, e]) => [
          `E${status}`,
          {
            description: e.description,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: e.example } },
          },
        ]),
      ),
    },
    paths,
  };
}
