import { z } from 'zod';
import { appointmentBodySchema, createTenantSchema, googleLinkBodySchema, microsoftLinkBodySchema, oauthStartBodySchema, revisionOnlySchema, settingsUpdateSchema, staffBodySchema } from './schemas';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const error = { description: 'Error: `{ error, message, details.issues[{ field, message }] }`' };
const accepted = { description: 'Accepted: `{ outcome: accepted|ignored, revision, workflowId }`' };

/** The API's OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'calsync API', version: '0.1.0', description: 'Desired state of appointments in, calendar sync status out.' },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/appointments/{id}': {
        put: { summary: 'Set the whole desired state of an appointment (idempotent; highest revision wins)', requestBody: { content: json(appointmentBodySchema) }, responses: { 202: accepted, 400: error, 401: error, 409: error } },
        get: { summary: 'Where the sync of an appointment stands, per target', responses: { 200: { description: 'Status' }, 404: error } },
        delete: { summary: 'Delete: removes the event from every calendar', parameters: [{ name: 'revision', in: 'query', schema: { type: 'integer' } }], responses: { 202: accepted, 404: error } },
      },
      '/v1/appointments/{id}/cancel': {
        post: { summary: 'Cancel (the record is kept; calendars show it per the tenant setting)', requestBody: { content: json(revisionOnlySchema) }, responses: { 202: accepted, 404: error } },
      },
      '/v1/staff/{id}': { put: { summary: 'Create or update a staff member', requestBody: { content: json(staffBodySchema) }, responses: { 200: { description: 'Staff member' }, 400: error } } },
      '/v1/staff/{id}/links': {
        get: { summary: "A staff member's calendar links", responses: { 200: { description: 'Links' } } },
        post: { summary: 'Connect a calendar by OAuth consent: answers the authorizeUrl to send the browser to', requestBody: { content: json(oauthStartBodySchema) }, responses: { 201: { description: '{ authorizeUrl }' }, 400: error, 404: error } },
      },
      '/v1/staff/{id}/links/google': { post: { summary: 'Attach a Google calendar with a refresh token', requestBody: { content: json(googleLinkBodySchema) }, responses: { 201: { description: 'Link' }, 400: error } } },
      '/v1/staff/{id}/links/microsoft': { post: { summary: 'Attach a Microsoft 365 calendar with a refresh token (default calendar unless calendarId)', requestBody: { content: json(microsoftLinkBodySchema) }, responses: { 201: { description: 'Link' }, 400: error } } },
      '/v1/settings': {
        get: { summary: 'Tenant settings', responses: { 200: { description: 'Settings' } } },
        put: { summary: 'Change tenant settings (cancelledEvents, webhookUrl, webhookSecret, clientInvitations, businessName, organizerEmail, language)', requestBody: { content: json(settingsUpdateSchema) }, responses: { 200: { description: 'Settings' }, 400: error } },
      },
      '/v1/admin/tenants': { post: { summary: 'Create a tenant and its first API key (admin key)', requestBody: { content: json(createTenantSchema) }, responses: { 201: { description: 'Tenant and API key' }, 409: error } } },
      '/v1/admin/tenants/{tenantId}/api-keys': { post: { summary: 'Issue another API key for a tenant (admin key)', responses: { 201: { description: 'API key' } } } },
      '/v1/api-keys': {
        get: { summary: "The tenant's API keys: id, createdAt, lastUsedAt, revokedAt (never the key)", responses: { 200: { description: 'Keys' } } },
        post: { summary: 'Issue another API key (shown once): rotate without downtime', responses: { 201: { description: 'API key' } } },
      },
      '/v1/api-keys/{id}': { delete: { summary: 'Revoke an API key (refused for the last active one)', responses: { 200: { description: 'Revoked key' }, 404: error, 409: error } } },
      '/metrics': { get: { summary: 'Prometheus metrics (bearer METRICS_TOKEN when set)', security: [], responses: { 200: { description: 'Prometheus text' }, 401: error } } },
      '/healthz': { get: { summary: 'Liveness and dependencies', security: [], responses: { 200: { description: 'OK' } } } },
    },
  };
}
