import { z } from 'zod';
import { teamCalendarBodySchema } from './crmSchemas';
import { importSelectionSchema } from './routes/busyImport';
import { payloadsSchema } from './routes/codec';
import { connectFormSchema, connectSessionBodySchema, disconnectFormSchema } from './routes/connectPage';
import { passesQuerySchema } from './routes/reconcile';
import {
  appointmentBodySchema,
  availabilityBodySchema,
  availabilityCheckSchema,
  busyQuerySchema,
  createTenantSchema,
  credentialsBodySchema,
  credentialsFormSchema,
  failureListQuerySchema,
  linkBodySchema,
  logQuerySchema,
  oauthStartBodySchema,
  replayBodySchema,
  resyncBodySchema,
  revisionOnlySchema,
  revisionQuerySchema,
  settingsUpdateSchema,
  staffBodySchema,
} from './schemas';

/** One operation of the API, described with the zod schemas its route validates with. */
export interface Operation {
  id: string;
  tag: string;
  summary: string;
  description?: string;
  /** Who may call it: a tenant key (default), the admin key, the codec (admin) session, the connect page's session, anyone. */
  auth?: 'tenant' | 'admin' | 'codec' | 'connect' | 'public';
  body?: z.ZodType;
  /** An HTML form body (application/x-www-form-urlencoded). */
  form?: z.ZodType;
  bodyExample?: unknown;
  query?: z.ZodType;
  queryExample?: Record<string, unknown>;
  /** Answers other than errors, by status. */
  ok: Record<number, { description: string; type?: string; example?: unknown }>;
  /** Errors beyond those the operation's kind always has (400 with input, 401, 404 with ids, 429, 503). */
  errors?: number[];
}

const accepted = {
  description: 'Accepted, or ignored as older than what calsync holds',
  example: { outcome: 'accepted', revision: 3, workflowId: 'appt:salon-ana:a-1001' },
};
const html = (description: string) => ({ description, type: 'text/html' });
const redirect = (description: string) => ({ description, type: 'text/html' });

export const appointmentExample = {
  revision: 3,
  type: 'appointment',
  start: '2030-03-05T10:00:00',
  end: '2030-03-05T11:00:00',
  timeZone: 'Europe/Madrid',
  title: 'Haircut',
  services: ['Haircut', 'Beard trim'],
  clientName: 'Ana García',
  clientEmail: 'ana@example.com',
  status: 'confirmed',
  location: 'Calle Mayor 1, Madrid',
  locationTimeZone: 'Europe/Madrid',
  staffIds: ['anna'],
};

const linkExample = {
  id: '0b7c6f1e-3f0e-4a53-9d1e-2c5f7e9a1b2c',
  provider: 'google',
  accountEmail: 'anna@salon.example',
  status: 'active',
};

/**
 * Every route the API serves, `METHOD /path` with OpenAPI's `{param}`. test/openapi.test.ts walks
 * Express's router and fails on a route missing here (or an operation no route serves).
 */
export const operations: Record<string, Operation> = {
  'PUT /v1/appointments/{id}': {
    id: 'putAppointment',
    tag: 'Appointments',
    summary: 'Set the whole desired state of an appointment (idempotent; highest revision wins)',
    description:
      'An older revision answers `ignored` with `currentRevision`; the same revision with other content is `409 revision_conflict`; the same request again is harmless.',
    body: appointmentBodySchema,
    bodyExample: appointmentExample,
    ok: { 202: accepted },
    errors: [409],
  },
  'GET /v1/appointments/{id}': {
    id: 'getAppointment',
    tag: 'Appointments',
    summary: 'Where the sync of an appointment stands, overall and per target',
    ok: {
      200: {
        description: 'Sync status',
        example: {
          id: 'a-1001',
          revision: 3,
          sync: { state: 'synced' },
          targets: [{ targetKey: 'cal:4f2a…', provider: 'google', state: 'synced', appliedRevision: 3, attempts: 1 }],
          warnings: [],
        },
      },
    },
  },
  'DELETE /v1/appointments/{id}': {
    id: 'deleteAppointment',
    tag: 'Appointments',
    summary: 'Delete: removes the event from every calendar; the workflow then closes',
    query: revisionQuerySchema,
    queryExample: { revision: 4 },
    ok: { 202: accepted },
  },
  'POST /v1/appointments/{id}/cancel': {
    id: 'cancelAppointment',
    tag: 'Appointments',
    summary: 'Cancel (the record stays; calendars drop the event or keep it marked cancelled, per the tenant setting)',
    body: revisionOnlySchema,
    bodyExample: { revision: 4 },
    ok: { 202: accepted },
  },
  'POST /v1/appointments/{id}/resync': {
    id: 'resyncAppointment',
    tag: 'Support',
    summary: 'Retry every target that is not in step (a closed workflow is started again); `force` rewrites them all',
    body: resyncBodySchema,
    bodyExample: { force: false },
    ok: { 202: { description: 'Requested', example: { status: 'requested', workflowId: 'appt:salon-ana:a-1001' } } },
  },
  'GET /v1/appointments/{id}/log': {
    id: 'appointmentLog',
    tag: 'Support',
    summary: 'Every attempt on every target, oldest first, and the warnings',
    query: logQuerySchema,
    queryExample: { limit: 100 },
    ok: {
      200: {
        description: 'Log entries and the cursor of the next page',
        example: {
          entries: [
            {
              targetKey: 'cal:4f2a…',
              action: 'write',
              result: 'ok',
              revision: 3,
              attempt: 1,
              durationMs: 182,
              requestId: 'b1d9…',
            },
          ],
          warnings: [],
          nextCursor: null,
        },
      },
    },
  },
  'GET /v1/sync-failures': {
    id: 'listSyncFailures',
    tag: 'Support',
    summary: 'Failed targets, newest first, filtered by time, provider, staff member and error code',
    query: failureListQuerySchema,
    queryExample: { provider: 'google', code: 'forbidden', limit: 50 },
    ok: {
      200: {
        description: 'Failures and the cursor of the next page',
        example: {
          failures: [
            {
              appointmentId: 'a-1001',
              targetKey: 'cal:4f2a…',
              provider: 'google',
              staffId: 'anna',
              code: 'forbidden',
              message: 'The caller does not have permission',
              failedAt: '2030-03-01T09:00:00Z',
            },
          ],
          nextCursor: null,
        },
      },
    },
  },
  'POST /v1/sync-failures/replay': {
    id: 'replaySyncFailures',
    tag: 'Support',
    summary: 'Resync every appointment matching the filters, at a bounded rate, durably (a replayFailures workflow)',
    body: replayBodySchema,
    bodyExample: { provider: 'google', code: 'forbidden', ratePerSecond: 20 },
    ok: { 202: { description: 'Started', example: { replayId: 'r-6c1f2b' } } },
  },
  'GET /v1/sync-failures/replays/{replayId}': {
    id: 'replayProgress',
    tag: 'Support',
    summary: "A replay's progress",
    ok: { 200: { description: 'Progress', example: { state: 'running', total: 40, replayed: 12 } } },
  },
  'PUT /v1/staff/{id}': {
    id: 'putStaff',
    tag: 'Staff',
    summary: 'Create or update a staff member; working hours are kept when left out, removed with null',
    body: staffBodySchema,
    bodyExample: {
      name: 'Anna Kowalska',
      email: 'anna@salon.example',
      timeZone: 'Europe/Warsaw',
      workingHours: {
        timeZone: 'Europe/Warsaw',
        weekly: { mon: [{ start: '09:00', end: '17:00' }], sat: [{ start: '10:00', end: '14:00' }] },
        daysOff: ['2030-12-24'],
      },
    },
    ok: { 200: { description: 'Staff member', example: { id: 'anna', name: 'Anna Kowalska' } } },
  },
  'GET /v1/staff/{id}/links': {
    id: 'listLinks',
    tag: 'Calendar links',
    summary: "A staff member's calendar links and their health",
    ok: { 200: { description: 'Links', example: { links: [linkExample] } } },
  },
  'POST /v1/staff/{id}/links': {
    id: 'startConsent',
    tag: 'Calendar links',
    summary: 'Connect a calendar by OAuth consent: answers the URL to send the browser to',
    body: oauthStartBodySchema,
    bodyExample: { provider: 'google', returnUrl: '/connected' },
    ok: {
      201: {
        description: 'Where to send the browser',
        example: { authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth?…' },
      },
    },
  },
  'POST /v1/staff/{id}/links/{provider}': {
    id: 'attachLink',
    tag: 'Calendar links',
    summary:
      "Attach an account by its refresh token (without calendarId the tenant's calendarMode decides); or, for a provider without OAuth (caldav: iCloud, Fastmail, Nextcloud, any CalDAV server), connect by username and app-specific password with a preset (icloud, fastmail, nextcloud, custom) or serverUrl, checked against the server first (a wrong password is a 400 naming password, nothing stored; a link needing re-authorisation takes the new password and resumes its held writes)",
    body: z.union([linkBodySchema, credentialsBodySchema]),
    bodyExample: { accountEmail: 'anna@salon.example', refreshToken: '1//0g…' },
    ok: { 201: { description: 'Link', example: linkExample } },
  },
  'DELETE /v1/links/{id}': {
    id: 'disconnectLink',
    tag: 'Calendar links',
    summary: "Disconnect: stop targeting the link, remove calsync's events (onDisconnect), revoke and erase the tokens",
    ok: { 202: { description: 'Disconnecting', example: { linkId: linkExample.id, status: 'disconnecting' } } },
  },
  'GET /v1/links/{id}/import': {
    id: 'getImport',
    tag: 'Busy time',
    summary: "Which of the link's calendars count as busy time, and how their import stands",
    ok: { 200: { description: 'Import status', example: { calendarIds: ['primary'], calendars: [] } } },
  },
  'PUT /v1/links/{id}/import': {
    id: 'putImport',
    tag: 'Busy time',
    summary: 'Choose the calendars imported as busy time (default: the primary calendar)',
    body: importSelectionSchema,
    bodyExample: { calendarIds: ['primary', 'team@group.calendar.google.com'] },
    ok: { 200: { description: 'Import status', example: { calendarIds: ['primary'], calendars: [] } } },
  },
  'POST /v1/links/{id}/reconcile': {
    id: 'reconcileLink',
    tag: 'Calendar links',
    summary: "Run a reconciliation pass of the link's calendar now",
    ok: {
      202: {
        description: 'Requested',
        example: { linkId: linkExample.id, status: 'requested', workflowId: 'reconcile:salon-ana:0b7c…' },
      },
    },
    errors: [409],
  },
  'GET /v1/links/{id}/reconcile': {
    id: 'reconcilePasses',
    tag: 'Calendar links',
    summary: 'What the last reconciliation passes found and did (counts), newest first',
    query: passesQuerySchema,
    queryExample: { limit: 10 },
    ok: { 200: { description: 'Passes', example: { lastPass: null, recentPasses: [] } } },
  },
  'GET /v1/staff/{id}/busy': {
    id: 'staffBusy',
    tag: 'Busy time',
    summary: "Merged busy time (appointments and imported time) in the caller's zone; window ≤ 62 days",
    query: busyQuerySchema,
    queryExample: { from: '2030-03-04T00:00:00', to: '2030-03-11T00:00:00', timeZone: 'Europe/Madrid' },
    ok: {
      200: {
        description: 'Busy time',
        example: {
          timeZone: 'Europe/Madrid',
          busy: [{ start: '2030-03-05T10:00:00+01:00', end: '2030-03-05T11:00:00+01:00' }],
          intervals: [],
        },
      },
    },
  },
  'POST /v1/staff/{id}/availability/check': {
    id: 'checkSlot',
    tag: 'Busy time',
    summary: 'Is a proposed slot free? Answers free or the conflicts',
    body: availabilityCheckSchema,
    bodyExample: { start: '2030-03-05T10:00:00', end: '2030-03-05T11:00:00', timeZone: 'Europe/Madrid' },
    ok: { 200: { description: 'Free or not', example: { free: true, conflicts: [] } } },
  },
  'POST /v1/availability': {
    id: 'availability',
    tag: 'Busy time',
    summary: 'Bookable slots across staff members or a team calendar, from working hours minus busy time',
    body: availabilityBodySchema,
    bodyExample: {
      staffIds: ['anna', 'ben'],
      durationMinutes: 60,
      window: { from: '2030-03-04T00:00:00', to: '2030-03-06T00:00:00' },
      timeZone: 'Europe/Madrid',
      bufferAfterMinutes: 10,
    },
    ok: {
      200: {
        description: 'Slots',
        example: {
          timeZone: 'Europe/Madrid',
          slots: [{ start: '2030-03-04T09:00:00+01:00', end: '2030-03-04T10:00:00+01:00', staffIds: ['anna'] }],
          truncated: false,
          staff: [{ staffId: 'anna', importedAsOf: '2030-03-01T08:55:00Z', needsReauth: false }],
        },
      },
    },
  },
  'POST /v1/staff/{id}/feeds': {
    id: 'createFeed',
    tag: 'Feeds',
    summary: "A revocable iCalendar subscription URL for the staff member's appointments (shown once)",
    ok: {
      201: { description: 'Feed', example: { id: 'f-1', url: 'https://calsync.example/feeds/Zk3…q.ics' } },
    },
  },
  'GET /v1/staff/{id}/feeds': {
    id: 'listFeeds',
    tag: 'Feeds',
    summary: "The staff member's feeds (never their tokens)",
    ok: { 200: { description: 'Feeds', example: { feeds: [{ id: 'f-1', createdAt: '2030-03-01T09:00:00Z' }] } } },
  },
  'DELETE /v1/staff/{id}/feeds/{feedId}': {
    id: 'revokeFeed',
    tag: 'Feeds',
    summary: 'Revoke a feed URL',
    ok: { 200: { description: 'Revoked', example: { id: 'f-1', revoked: true } } },
  },
  'GET /feeds/{file}': {
    id: 'feed',
    tag: 'Feeds',
    summary: 'The staff feed (`<token>.ics`, iCalendar), by its unguessable token',
    auth: 'public',
    ok: { 200: { description: 'The calendar', type: 'text/calendar' } },
    errors: [404],
  },
  'GET /v1/settings': {
    id: 'getSettings',
    tag: 'Settings',
    summary: 'Tenant settings (the webhook secret is never answered)',
    ok: { 200: { description: 'Settings', example: { settings: { calendarMode: 'dedicated', language: 'es' } } } },
  },
  'PUT /v1/settings': {
    id: 'putSettings',
    tag: 'Settings',
    summary: 'Change tenant settings; a change to what events show re-syncs future appointments',
    body: settingsUpdateSchema,
    bodyExample: {
      businessName: 'Salón Ana',
      calendarMode: 'dedicated',
      connectLanguage: 'es',
      clientInvitations: { enabled: true },
      organizerEmail: 'hola@salon-ana.example',
    },
    ok: { 200: { description: 'Settings (and `resync` when one started)', example: { settings: {} } } },
  },
  'GET /v1/settings/resync': {
    id: 'settingsResync',
    tag: 'Settings',
    summary: 'Progress of the latest settings re-sync',
    ok: {
      200: {
        description: 'Progress',
        example: { state: 'running', total: 120, resynced: 40, startedAt: '2030-03-01T09:00:00Z' },
      },
    },
  },
  'GET /v1/calendars': {
    id: 'listTeamCalendars',
    tag: 'Team calendars',
    summary: "The tenant's team calendars",
    ok: { 200: { description: 'Team calendars', example: { calendars: [] } } },
  },
  'PUT /v1/calendars/{id}': {
    id: 'putTeamCalendar',
    tag: 'Team calendars',
    summary: 'Create or change a team calendar (a calendar of one connected account, with members)',
    body: teamCalendarBodySchema,
    bodyExample: {
      name: 'Front desk',
      linkId: linkExample.id,
      members: [
        { staffId: 'anna', access: 'write' },
        { staffId: 'ben', access: 'read' },
      ],
    },
    ok: { 200: { description: 'Team calendar', example: { id: 'front-desk', name: 'Front desk' } } },
  },
  'GET /v1/calendars/{id}': {
    id: 'getTeamCalendar',
    tag: 'Team calendars',
    summary: 'One team calendar, with how its sharing stands',
    ok: { 200: { description: 'Team calendar', example: { id: 'front-desk', name: 'Front desk' } } },
  },
  'DELETE /v1/calendars/{id}': {
    id: 'deleteTeamCalendar',
    tag: 'Team calendars',
    summary: "Delete a team calendar: its future appointments leave its remote calendar, calsync's shares go",
    ok: { 202: { description: 'Deleting', example: { id: 'front-desk', status: 'deleting' } } },
  },
  'POST /v1/connect-sessions': {
    id: 'createConnectSession',
    tag: 'Connect page',
    summary: 'A connect page URL for a person to open (valid 5 minutes, once); with staffId, that person’s own page',
    body: connectSessionBodySchema,
    bodyExample: { staffId: 'anna' },
    ok: {
      201: {
        description: 'The URL',
        example: { url: 'https://calsync.example/connect?session=eyJ…', expiresAt: '2030-03-01T09:05:00Z' },
      },
    },
  },
  'GET /connect': {
    id: 'connectPage',
    tag: 'Connect page',
    summary: 'The connect page (HTML): with `?session=` it swaps the URL token for a cookie and redirects',
    auth: 'connect',
    ok: { 200: html('The page'), 303: redirect('Session opened: to the page') },
    errors: [401],
  },
  'GET /connect/links/{id}/disconnect': {
    id: 'connectConfirmDisconnect',
    tag: 'Connect page',
    summary: 'The confirmation before a disconnect, saying what happens to the events (HTML)',
    auth: 'connect',
    ok: { 200: html('The confirmation') },
    errors: [401],
  },
  'POST /connect/links': {
    id: 'connectStartConsent',
    tag: 'Connect page',
    summary: "The page's Connect button: redirects to the provider's consent",
    auth: 'connect',
    form: connectFormSchema,
    bodyExample: { csrf: '…', staffId: 'anna', provider: 'google' },
    ok: { 303: redirect("To the provider's consent page") },
    errors: [401, 403],
  },
  'POST /connect/credentials/{provider}': {
    id: 'connectByCredentials',
    tag: 'Connect page',
    summary:
      "The page's credentials form (CalDAV): checks the username and app-specific password with the server, then redirects back to the page; a refusal is a 400 page saying what to fix, nothing stored",
    auth: 'connect',
    form: credentialsFormSchema,
    bodyExample: {
      csrf: '…',
      staffId: 'anna',
      preset: 'icloud',
      username: 'anna@icloud.com',
      password: 'abcd-efgh-ijkl-mnop',
    },
    ok: { 303: redirect('Back to the connect page, the new link listed') },
    errors: [400, 401, 403],
  },
  'POST /connect/links/{id}/disconnect': {
    id: 'connectDisconnect',
    tag: 'Connect page',
    summary: "The confirmation's Disconnect button",
    auth: 'connect',
    form: disconnectFormSchema,
    bodyExample: { csrf: '…', staffId: 'anna' },
    ok: { 303: redirect('Back to the page') },
    errors: [401, 403],
  },
  'GET /connect/assets/{file}': {
    id: 'connectStylesheet',
    tag: 'Connect page',
    summary: "The connect page's stylesheet (its name carries a hash of its content)",
    auth: 'public',
    ok: { 200: { description: 'CSS', type: 'text/css' } },
  },
  'GET /oauth/callback/{provider}': {
    id: 'oauthCallback',
    tag: 'Calendar links',
    summary:
      'Where the provider sends the browser back: stores the link, then the success page or the page the consent started from; a denied consent, a bad state or the wrong account is a 400 page that stores nothing',
    auth: 'public',
    ok: { 200: html('Connected'), 302: redirect('Connected: back to returnUrl') },
  },
  'POST /webhooks/{provider}': {
    id: 'providerPush',
    tag: 'Busy time',
    summary: "A provider's push notification for busy-time import, checked against its channel's secret",
    auth: 'public',
    ok: {
      200: { description: 'Handshake answered (Graph `validationToken`)', type: 'text/plain' },
      202: { description: 'Taken' },
    },
    errors: [403, 404],
  },
  'POST /v1/admin/tenants': {
    id: 'createTenant',
    tag: 'Admin',
    summary: 'Create a tenant and its first API key (shown once)',
    auth: 'admin',
    body: createTenantSchema,
    bodyExample: { id: 'salon-ana', name: 'Salón Ana', settings: { language: 'es', connectLanguage: 'es' } },
    ok: {
      201: {
        description: 'Tenant and API key',
        example: { tenant: { id: 'salon-ana', name: 'Salón Ana' }, apiKey: 'csk_…' },
      },
    },
    errors: [409],
  },
  'POST /v1/admin/tenants/{tenantId}/api-keys': {
    id: 'issueTenantKey',
    tag: 'Admin',
    summary: 'Issue another API key for a tenant (shown once)',
    auth: 'admin',
    ok: { 201: { description: 'API key', example: { id: 'k-2', apiKey: 'csk_…' } } },
  },
  'GET /v1/api-keys': {
    id: 'listApiKeys',
    tag: 'API keys',
    summary: "The tenant's API keys (never the key or its hash)",
    ok: { 200: { description: 'Keys', example: { keys: [{ id: 'k-1', current: true, revokedAt: null }] } } },
  },
  'POST /v1/api-keys': {
    id: 'issueApiKey',
    tag: 'API keys',
    summary: 'Issue another API key (shown once): rotate without downtime',
    ok: { 201: { description: 'API key', example: { id: 'k-2', apiKey: 'csk_…' } } },
  },
  'DELETE /v1/api-keys/{id}': {
    id: 'revokeApiKey',
    tag: 'API keys',
    summary: "Revoke an API key (the tenant's last active key cannot be revoked: 409 last_key)",
    ok: { 200: { description: 'Revoked key', example: { id: 'k-1', revokedAt: '2030-03-01T09:00:00Z' } } },
    errors: [409],
  },
  'POST /codec/encode': {
    id: 'codecEncode',
    tag: 'Temporal UI codec',
    summary: "Temporal UI's remote codec: encrypt payloads (admins only)",
    auth: 'codec',
    body: payloadsSchema,
    bodyExample: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJhIjoxfQ==' }] },
    ok: { 200: { description: 'Payloads', example: { payloads: [] } } },
    errors: [403],
  },
  'POST /codec/decode': {
    id: 'codecDecode',
    tag: 'Temporal UI codec',
    summary: "Temporal UI's remote codec: decrypt payloads (admins only)",
    auth: 'codec',
    body: payloadsSchema,
    bodyExample: { payloads: [{ metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' }, data: 'AAEC' }] },
    ok: { 200: { description: 'Payloads', example: { payloads: [] } } },
    errors: [403],
  },
  'POST /codec/session': {
    id: 'codecSession',
    tag: 'Temporal UI codec',
    summary: "Admin key as bearer: sets the codec session cookie Temporal UI's requests carry",
    auth: 'admin',
    ok: { 200: { description: 'Cookie set', example: { expiresAt: '2030-03-01T17:00:00Z' } } },
  },
  'DELETE /codec/session': {
    id: 'codecLogout',
    tag: 'Temporal UI codec',
    summary: 'Ends the codec session',
    auth: 'public',
    ok: { 204: { description: 'Cookie cleared' } },
  },
  'GET /codec/login': {
    id: 'codecLoginForm',
    tag: 'Temporal UI codec',
    summary: 'A form to type the admin key into (a key in the URL is refused)',
    auth: 'public',
    ok: { 200: html('The form') },
  },
  'POST /codec/login': {
    id: 'codecLogin',
    tag: 'Temporal UI codec',
    summary: 'The form posts the admin key: sets the codec session cookie',
    auth: 'public',
    ok: { 200: html('Signed in') },
    errors: [401],
  },
  'GET /openapi.json': {
    id: 'openApi',
    tag: 'Operations',
    summary: 'This document',
    auth: 'public',
    ok: { 200: { description: 'OpenAPI 3.1' } },
  },
  'GET /docs': {
    id: 'apiReference',
    tag: 'Operations',
    summary: 'The API reference page, rendered from this document',
    auth: 'public',
    ok: { 200: html('The reference') },
  },
  'GET /docs/assets/{file}': {
    id: 'apiReferenceAssets',
    tag: 'Operations',
    summary: "The reference page's script and styles (served by calsync)",
    auth: 'public',
    ok: { 200: { description: 'Script or stylesheet', type: 'application/javascript' } },
    errors: [404],
  },
  'GET /healthz': {
    id: 'health',
    tag: 'Operations',
    summary: 'Database and Temporal reachability',
    auth: 'public',
    ok: { 200: { description: 'Healthy', example: { status: 'ok', database: 'ok', temporal: 'ok' } } },
  },
  'GET /metrics': {
    id: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics (bearer METRICS_TOKEN when set; loopback callers only when not)',
    auth: 'public',
    ok: { 200: { description: 'Prometheus text', type: 'text/plain' } },
    errors: [401],
  },
};
