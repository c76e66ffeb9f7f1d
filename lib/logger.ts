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
  // Lines written in the background (pino's sonic-boom): a synchronous write per line was a sixth of
  // the API's CPU under load. Lines that arrive while a write is under way go out together; pino
  // flushes what is left when the process exits.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
export type Logger = ReturnType<typeof createLogger>;

/** Query parameters whose values are secrets wherever they appear (keys, tokens, OAuth codes and states, sessions). */
const SECRET_QUERY = /key|token|code|state|password|secret|authorization|session|signature/i;

/** A request URL as it may be logged: the value of every secret-bearing query parameter replaced. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  let changed = false;
  for (const name of new Set(params.keys())) {
    if (!SECRET_QUERY.test(name)) continue;
    params.set(name, '[redacted]');
    changed = true;
  }
  return changed ? `${url.slice(0, at)}?${params.toString().replace(/%5Bredacted%5D/g, '[redacted]')}` : url;
}
