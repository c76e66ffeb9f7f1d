import { z } from 'zod';
import { attendeeKinds } from '../lib/crmSettings';
import { templateProblem } from '../content/template';
import { lineText } from './textSchemas';

/** A title/description/location template: every `{field}` must be one calsync knows. */
const template = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((value, ctx) => {
      const problem = templateProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

const entityTypeName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a lowercase identifier such as appointment or site_visit');

export const reminderSchema = z
  .object({
    method: z.enum(['popup', 'email']).default('popup'),
    // Google's limit (4 weeks); Graph takes any, but one rule for both keeps them alike.
    minutesBefore: z.number().int().min(0).max(40320),
  })
  .strict();
export const remindersSchema = z.array(reminderSchema).max(5);

export const entityTypeSettingsSchema = z
  .object({
    label: z.string().trim().min(1).max(100).optional(),
    sync: z.boolean().default(true),
    title: template(300).optional(),
    description: template(4000).optional(),
    location: template(500).optional(),
  })
  .strict();

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain such as example.com');

export const attendeeSettingsSchema = z
  .object({
    kinds: z.array(z.enum(attendeeKinds)).max(attendeeKinds.length).default([]),
    emailsPerPerson: z.number().int().min(1).max(10).default(1),
    notifyExternal: z.boolean().default(false),
    internalDomains: z.array(domain).max(50).default([]),
  })
  .strict();

export const eventContentSettingsSchema = z
  .object({
    title: template(300).optional(),
    description: template(4000).optional(),
    privacy: z.enum(['full', 'busy']).default('full'),
    reminders: remindersSchema.optional(),
  })
  .strict();

/** The CRM model's part of the tenant settings (merged into tenantSettingsSchema). */
export const crmSettingsShape = {
  /** Declared entity types by name (the built-in `appointment` and `service_activity` may be re-mapped or switched off too). */
  entityTypes: z
    .record(entityTypeName, entityTypeSettingsSchema)
    .refine((r) => Object.keys(r).length <= 100, 'must declare at most 100 entity types')
    .optional(),
  attendees: attendeeSettingsSchema.optional(),
  eventContent: eventContentSettingsSchema.optional(),
  /** Appointments re-synced per second after a settings change (≈ writes per second into one calendar). */
  resyncRatePerSecond: z.number().int().min(1).max(50).optional(),
};

/** A CRM person or company attending: its e-mail fields in the CRM's order. */
export const attendeeSchema = z
  .object({
    kind: z.enum(attendeeKinds),
    id: z.string().min(1).max(128),
    name: lineText(200).optional(),
    emails: z.array(z.email().max(320)).max(10).default([]),
    /** The person (or, on an account, the company and its people) does not want calendar invitations. */
    optedOut: z.boolean().default(false),
    /** The company a lead or contact belongs to: an opted-out account opts its people out. */
    accountId: z.string().min(1).max(128).optional(),
  })
  .strict();

const httpUrl = z.url({ protocol: /^https?$/ }).max(2000);

/** The CRM model's part of an appointment body (merged into appointmentBodySchema). */
export const crmAppointmentShape = {
  /** False: the appointment is kept out of (and removed from) every remote calendar. */
  syncEnabled: z.boolean().default(true),
  attendees: z.array(attendeeSchema).max(200).optional(),
  /** The entity's own CRM fields, for the entity type's mapping (`{fields.name}`). */
  fields: z
    .record(
      z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'field names must be letters, digits or _'),
      z.union([z.string().max(2000), z.number(), z.boolean()]),
    )
    .refine((r) => Object.keys(r).length <= 50, 'must have at most 50 fields')
    .optional(),
  /** Links back to the CRM. */
  links: z.object({ client: httpUrl.optional(), document: httpUrl.optional() }).strict().optional(),
  attachments: z
    .array(z.object({ name: lineText(200, 1), url: httpUrl }).strict())
    .max(20)
    .optional(),
  reminders: remindersSchema.optional(),
  /** Team calendars (PUT /v1/calendars/:id) the appointment belongs to, besides its staff's own calendars. */
  calendarIds: z
    .array(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1–128 characters of letters, digits, ".", "_" or "-"'))
    .max(20)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a calendar id')
    .optional(),
  /**
   * Staff members the event is shared with (people outside its calendars, not assigned to it): it
   * appears in their connected calendars too, but does not make them busy.
   */
  sharedWithStaffIds: z
    .array(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1–128 characters of letters, digits, ".", "_" or "-"'))
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a staff id')
    .optional(),
  /** Whole days: start and end are dates (`2030-03-05`, end exclusive) read in `timeZone`. */
  allDay: z.boolean().default(false),
};

/** A team calendar: one calendar of one connected account, with members. */
export const teamCalendarBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** The connected account (a staff member's calendar link) that holds the calendar. */
    linkId: z.string().min(1).max(100),
    /** A calendar of that account; the link's own calendar when absent. */
    remoteCalendarId: z.string().min(1).max(1024).optional(),
    members: z
      .array(
        z
          .object({
            staffId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be a staff id'),
            access: z.enum(['read', 'write']),
          })
          .strict(),
      )
      .max(200)
      .default([])
      .refine((m) => new Set(m.map((x) => x.staffId)).size === m.length, 'must not repeat a staff member'),
  })
  .strict();
