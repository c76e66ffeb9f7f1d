import { google, type calendar_v3 } from 'googleapis';

export interface GoogleClientOptions {
  rootUrl: string;
  accessToken: string;
  timeoutMs?: number;
}

/**
 * The one way calsync builds a `googleapis` Calendar client (writes, provisioning, sharing and
 * busy-time reads alike): the base URL from configuration, the link's access token, and no retries
 * of its own, because googleapis retries 5xx by itself, re-applying writes, and Temporal owns retries.
 * Node's own fetch: gaxios' dynamic import of node-fetch fails in some sandboxes (jest).
 */
export function googleCalendarClient(opts: GoogleClientOptions): calendar_v3.Calendar {
  const fetchImplementation: typeof fetch = globalThis.fetch;
  const auth = new google.auth.OAuth2({ transporterOptions: { fetchImplementation } });
  auth.setCredentials({ access_token: opts.accessToken });
  return google.calendar({
    version: 'v3',
    auth,
    rootUrl: opts.rootUrl,
    retry: false,
    timeout: opts.timeoutMs ?? 15000,
    fetchImplementation,
  });
}
