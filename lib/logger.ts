import pino from 'pino';

const secretFields = [
  'refreshToken',
  'accessToken',
  'refresh_token',
  'access_token',
  'id_token',
  'apiKey',
  'key_hash',
  'password',
  'token',
  'authorization',
  'Authorization',
];
const personalFields = [
  'clientName',
  'clientEmail',
  'description',
  'email',
  'accountEmail',
  'account_email',
  'attendees',
];
const fields = [...secretFields, ...personalFields];

/** Top level, one and two levels deep: `{ desired: { clientName } }` and `{ input: { desired: { clientName } } }`. */
export const redactPaths = [
  ...fields,
  ...fields.map((f) => `*.${f}`),
  ...fields.map((f) => `*.*.${f}`),
  // pino-http's request and response.
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  // HTTP client errors (gaxios, fetch) carry the request they made: bearer token, body with personal data.
  'err.config',
  'err.response.config',
  'err.response.request',
  'err.request',
  'err.cause.config',
];

/** Structured logs; secrets and personal data are redacted wherever they may appear. */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
) {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
export type Logger = ReturnType<typeof createLogger>;
