import { credentialsBodySchema } from './routes/connectCredentials';
import { z } from 'zod';
import { teamCalendarBodySchema } from './crmSchemas';
import {
  appointmentBodySchema,
  availabilityBodySchema,
  availabilityCheckSchema,
  createTenantSchema,
  linkBodySchema,
  oauthStartBodySchema,
  revisionOnlySchema,
  settingsUpdateSchema,
  staffBodySchema,
} from './schemas';

const json = (schema: z.ZodType) => ({
  'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) },
});
const error = { description: 'Error: `{ error, message, details.issues[{ field, message }] }`' };
const accepted = { description: 'Accepted: `{ outcome: accepted|ignored, revision, workflowId }`' };

/** The API's OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'calsync API',
      version: '0.1.0',
      description: 'Desired state of appointments in, calendar sync status out.',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/appointments/{id}': {
        put: {
          summary: 'Set the whole desired state of an appointment (idempotent; highest revision wins)',
          requestBody: { content: json(appointmentBodySchema) },
          responses: { 202: accepted, 400: error, 401: error, 409: error },
        },
        get: {
          summary: 'Where the sync of an appointment stands, per target',
          responses: { 200: { description: 'Status' }, 404: error },
        },
        delete: {
          summary: 'Delete: removes the event from every calendar',
          parameters: [{ name: 'revision', in: 'query', schema: { type: 'integer' } }],
          responses: { 202: accepted, 404: error },
        },
      },
      '/v1/appointments/{id}/cancel': {
        post: {
          summary: 'Cancel (the record is kept; calendars show it per the tenant setting)',
          requestBody: { content: json(revisionOnlySchema) },
          responses: { 202: accepted, 404: error },
        },
      },
      '/v1/staff/{id}': {
        put: {
          summary:
            'Create or update a staff member; `workingHours` (weekly hours in their zone, date overrides, days off) are kept when left out, removed with null',
          requestBody: { content: json(staffBodySchema) },
          responses: { 200: { description: 'Staff member' }, 400: error },
        },
      },
      '/v1/staff/{id}/links': {
        get: { summary: "A staff member's calendar links", responses: { 200: { description: 'Links' } } },
        post: {
          summary: 'Connect a calendar by OAuth consent: answers the authorizeUrl to send the browser to',
          requestBody: { content: json(oauthStartBodySchema) },
          responses: { 201: { description: '{ authorizeUrl }' }, 400: error, 404: error },
        },
      },
      '/v1/staff/{id}/links/{provider}': {
        post: {
          summary:
            "Attach a calendar account with a refresh token; provider is a registry name (google, microsoft); without calendarId the tenant's calendarMode decides",
          requestBody: { content: json(linkBodySchema) },
          responses: { 201: { description: 'Link' }, 400: error, 404: error },
        },
      },
      '/v1/staff/{id}/links/caldav': {
        post: {
          summary:
            'Connect a CalDAV account (iCloud, Fastmail, Nextcloud, any server) by username and app-specific password: preset (icloud, fastmail, nextcloud, custom) or serverUrl; checked against the server first (a wrong password is a 400 naming password, nothing stored); a link needing re-authorisation takes the new password and resumes its held writes',
          requestBody: { content: json(credentialsBodySchema) },
          responses: { 201: { description: 'Link' }, 400: error, 404: error },
        },
      },
      '/v1/settings': {
        get: { summary: 'Tenant settings', responses: { 200: { description: 'Settings' } } },
        put: {
          summary:
            'Change tenant settings (reconcileRestore, importTitles, tentativeBlocks, cancelledEvents, webhookUrl, webhookSecret, clientInvitations, businessName, organizerEmail, language, entityTypes, attendees, eventContent, resyncRatePerSecond); a change to what events show re-syncs future appointments',
          requestBody: { content: json(settingsUpdateSchema) },
          responses: { 200: { description: 'Settings (and `resync` when one started)' }, 400: error },
        },
      },
      '/v1/settings/resync': {
        get: {
          summary: 'Progress of the latest settings re-sync: { state, total, resynced }',
          responses: { 200: { description: 'Progress' }, 404: error },
        },
      },
      '/v1/calendars': {
        get: { summary: "The tenant's team calendars", responses: { 200: { description: 'Team calendars' } } },
      },
      '/v1/calendars/{id}': {
        put: {
          summary: 'Create or change a team calendar (a calendar of one connected account, with members)',
          requestBody: { content: json(teamCalendarBodySchema) },
          responses: { 200: { description: 'Team calendar' }, 400: error },
        },
        get: { summary: 'One team calendar', responses: { 200: { description: 'Team calendar' }, 404: error } },
        delete: {
          summary:
            "Delete a team calendar: its future appointments leave its remote calendar and its members lose calsync's shares, in the background; saving it again brings it back",
          responses: { 202: accepted, 404: error },
        },
      },
      '/v1/staff/{id}/busy': {
        get: {
          summary:
            "Merged busy time (calsync's appointments and time imported from the staff member's calendars) for ?from&to (≤ 62 days) in ?timeZone; `intervals` lists them with their source. Reads PostgreSQL only",
          responses: { 200: { description: '{ busy, intervals }' }, 400: error, 404: error },
        },
      },
      '/v1/staff/{id}/availability/check': {
        post: {
          summary: 'Is a proposed slot free? Answers free or the conflicts (appointments and imported busy time)',
          requestBody: { content: json(availabilityCheckSchema) },
          responses: { 200: { description: '{ free, conflicts }' }, 400: error, 404: error },
        },
      },
      '/v1/availability': {
        post: {
          summary:
            "Bookable slots across staff members (staffIds, or a team calendar's members by calendarId; at most 50) in a window of at most 62 days: each person's working hours (stored with the staff member, or sent per request) minus calsync's appointments and imported busy time, widened by the buffers; `any` lists who is free in each slot (`pick: balanced` names the least booked), `all` needs everyone. Reads PostgreSQL only",
          requestBody: { content: json(availabilityBodySchema) },
          responses: {
            200: {
              description:
                '{ timeZone, slots: [{ start, end, staffIds }], truncated, staff: [{ staffId, importedAsOf, needsReauth }] }',
            },
            400: error,
            404: error,
          },
        },
      },
      '/v1/staff/{id}/feeds': {
        post: {
          summary: "A revocable iCalendar subscription URL for the staff member's appointments (shown once)",
          responses: { 201: { description: '{ id, url }' }, 404: error },
        },
        get: {
          summary: "The staff member's feeds (never their tokens)",
          responses: { 200: { description: 'Feeds' }, 404: error },
        },
      },
      '/v1/staff/{id}/feeds/{feedId}': {
        delete: { summary: 'Revoke a feed URL', responses: { 200: { description: 'Revoked' }, 404: error } },
      },
      '/feeds/{token}.ics': {
        get: {
          summary: 'The staff feed (iCalendar), by its unguessable token',
          security: [],
          responses: { 200: { description: 'text/calendar' }, 404: error },
        },
      },
      '/v1/links/{id}/import': {
        get: {
          summary: "Which of the link's calendars count as busy time, and how their import stands",
          responses: { 200: { description: 'Import status' }, 404: error },
        },
        put: {
          summary: 'Choose the calendars imported as busy time: { calendarIds } (default: the primary calendar)',
          responses: { 200: { description: 'Import status' }, 400: error, 404: error },
        },
      },
      '/v1/links/{id}': {
        delete: {
          summary:
            "Disconnect: stop targeting the link, remove calsync's events (onDisconnect), revoke and erase the tokens",
          responses: { 202: { description: '{ linkId, status }' }, 404: error },
        },
      },
      '/v1/connect-sessions': {
        post: {
          summary: 'A connect page URL for a person to open (valid 5 minutes): { staffId? } → { url, expiresAt }',
          responses: { 201: { description: '{ url, expiresAt }' }, 400: error, 404: error },
        },
      },
      '/webhooks/{provider}': {
        post: {
          summary:
            "A provider's push notifications for busy-time import, read by its module (Google: X-Goog-Channel-Token checked; Graph: clientState checked, ?validationToken echoed)",
          security: [],
          responses: {
            200: { description: 'Handshake answered' },
            202: { description: 'Taken' },
            204: { description: 'Taken' },
            403: error,
            404: error,
          },
        },
      },
      '/v1/links/{id}/reconcile': {
        post: {
          summary: "Run a reconciliation pass of the link's calendar now",
          responses: { 202: { description: '{ linkId, status: requested, workflowId }' }, 404: error, 409: error },
        },
        get: {
          summary: 'What the last reconciliation passes of the link found and did (counts)',
          responses: { 200: { description: '{ lastPass, recentPasses }' }, 404: error },
        },
      },
      '/v1/admin/tenants': {
        post: {
          summary: 'Create a tenant and its first API key (admin key)',
          requestBody: { content: json(createTenantSchema) },
          responses: { 201: { description: 'Tenant and API key' }, 409: error },
        },
      },
      '/v1/admin/tenants/{tenantId}/api-keys': {
        post: {
          summary: 'Issue another API key for a tenant (admin key)',
          responses: { 201: { description: 'API key' } },
        },
      },
      '/v1/api-keys': {
        get: {
          summary: "The tenant's API keys: id, createdAt, lastUsedAt, revokedAt (never the key)",
          responses: { 200: { description: 'Keys' } },
        },
        post: {
          summary: 'Issue another API key (shown once): rotate without downtime',
          responses: { 201: { description: 'API key' } },
        },
      },
      '/v1/api-keys/{id}': {
        delete: {
          summary: 'Revoke an API key (refused for the last active one)',
          responses: { 200: { description: 'Revoked key' }, 404: error, 409: error },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (bearer METRICS_TOKEN when set)',
          security: [],
          responses: { 200: { description: 'Prometheus text' }, 401: error },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness and dependencies', security: [], responses: { 200: { description: 'OK' } } },
      },
    },
  };
}
