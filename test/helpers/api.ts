import { randomUUID } from 'node:crypto';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; rawBody?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined || opts.rawBody !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** A tenant of its own for one test, with its API key. */
export async function createTenant(
  baseUrl: string,
  settings: Record<string, unknown> = {},
): Promise<{ tenantId: string; key: string }> {
  const tenantId = `t-${randomUUID().slice(0, 12)}`;
  const res = await call(baseUrl, 'POST', '/v1/admin/tenants', {
    key: process.env.CALSYNC_ADMIN_KEY,
    // Tests read events from the account's primary calendar unless they ask for the product
    // default (a dedicated calendar per link, `calendarMode: 'dedicated'`: test/link-calendars.test.ts).
    body: { id: tenantId, name: `Tenant ${tenantId}`, settings: { calendarMode: 'primary', ...settings } },
  });
  if (res.status !== 201) throw new Error(`creating tenant: ${res.status} ${JSON.stringify(res.body)}`);
  return { tenantId, key: res.body.apiKey };
}

export interface AppointmentInput {
  revision: number;
  start?: string;
  end?: string;
  timeZone?: string;
  title?: string;
  services?: string[];
  clientName?: string;
  status?: string;
  description?: string;
  location?: string;
  locationTimeZone?: string;
  clientEmail?: string;
  staffIds: string[];
  type?: string;
}

/** A valid appointment body, some days ahead, that tests vary field by field. */
export function appointmentBody(input: AppointmentInput, dayOffset = 3, hour = 10): Record<string, unknown> {
  const day = new Date(Date.now() + dayOffset * 86400000).toISOString().slice(0, 10);
  return {
    type: 'appointment',
    start: `${day}T${String(hour).padStart(2, '0')}:00:00`,
    end: `${day}T${String(hour + 1).padStart(2, '0')}:00:00`,
    timeZone: 'Europe/Madrid',
    title: 'Haircut',
    services: ['Haircut', 'Beard trim'],
    clientName: 'Ana García',
    status: 'confirmed',
    description: 'Prefers the window seat',
    location: 'Calle Mayor 1, Madrid',
    ...input,
  };
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30000,
  everyMs = 150,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
