import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { CONNECT_LANGUAGES } from './connect/i18n/languages';
import { crmAppointmentShape, crmSettingsShape } from './crmSchemas';
import { checkRecurrence, recurrenceBodySchema } from './recurrenceSchema';
import { lineText, multiLineText } from './textSchemas';
import { keptZone } from '../lib/isoInZone';
import { WEEKDAYS, type Weekday } from '../lib/slots';

export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1–128 characters of letters, digits, ".", "_" or "-"');
export const tenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2–63 lowercase letters, digits or "-"');

/**
 * Zone names found valid before. luxon's check builds an Intl.DateTimeFormat every time, a large
 * share of an appointment PUT's CPU; only valid names are kept, and at most MAX_KNOWN_ZONES of them
 * (case variants of one name are each valid), so no tenant can grow it without bound.
 */
const knownZones = new Set<string>();
const MAX_KNOWN_ZONES = 2000;
function isValidZone(tz: string): boolean {
  if (knownZones.has(tz)) return true;
  const valid = IANAZone.isValidZone(tz);
  if (valid && knownZones.size < MAX_KNOWN_ZONES) knownZones.add(tz);
  return valid;
}

export const timeZoneSchema = z.string().max(64).refine(isValidZone, 'must be an IANA time zone such as Europe/Madrid');

// Either an instant with an offset (2026-05-01T10:00:00+02:00, ...Z) or a wall-clock time read in `timeZone`.
const localOrOffsetDateTime = z
  .string()
  .max(40)
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/,
    'must be an ISO 8601 date-time',
  );
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export const appointmentStatuses = [
  'scheduled',
  'confirmed',
  'tentative',
  'completed',
  'no_show',
  'cancelled',
] as const;

const MAX_DURATION_DAYS = 31;
const DAY_MS = 86_400_000;

export const appointmentBodySchema = z
  .object({
    revision: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    type: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a lowercase identifier such as appointment or service_activity')
      .default('appointment'),
    start: localOrOffsetDateTime,
    end: localOrOffsetDateTime,
    timeZone: timeZoneSchema,
    title: lineText(300).optional(),
    services: z.array(lineText(200, 1)).max(50).default([]),
    clientName: lineText(200).optional(),
    status: z.enum(appointmentStatuses).default('scheduled'),
    description: multiLineText(8000).optional(),
    location: lineText(500).optional(),
    // The location's own zone: client invitations carry it (DTSTART;TZID=…) and need it.
    locationTimeZone: timeZoneSchema.optional(),
    clientEmail: z.email().max(320).optional(),
    staffIds: z.array(idSchema).max(50),
    ...crmAppointmentShape,
    /** A series (RRULE and exceptions): see api/recurrenceSchema.ts. */
    recurrence: recurrenceBodySchema.optional(),
  })
  .transform((body, ctx) => {
    // All-day appointments are dates (end exclusive); everything else needs a time of day.
    for (const key of ['start', 'end'] as const) {
      if (body.allDay && !DATE_ONLY.test(body[key]))
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be a date such as 2030-03-05 when allDay is true' });
      if (!body.allDay && DATE_ONLY.test(body[key]))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'must be an ISO 8601 date-time (a date alone needs allDay: true)',
        });
    }
    if (DATE_ONLY.test(body.start) !== body.allDay || DATE_ONLY.test(body.end) !== body.allDay) return z.NEVER;
    const start = DateTime.fromISO(body.start, { zone: body.timeZone });
    const end = DateTime.fromISO(body.end, { zone: body.timeZone });
    if (!start.isValid) ctx.addIssue({ code: 'custom', path: ['start'], message: 'is not a valid date-time' });
    if (!end.isValid) ctx.addIssue({ code: 'custom', path: ['end'], message: 'is not a valid date-time' });
    if (!start.isValid || !end.isValid) return z.NEVER;
    if (end <= start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
      return z.NEVER;
    }
    // luxon's calendar diff is costly: only near the limit (a day differs from 24 h by an hour at most).
    if (
      end.toMillis() - start.toMillis() > (MAX_DURATION_DAYS - 1) * DAY_MS &&
      end.diff(start, 'days').days > MAX_DURATION_DAYS
    ) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `must be at most ${MAX_DURATION_DAYS} days after start` });
      return z.NEVER;
    }
    if (new Set(body.staffIds).size !== body.staffIds.length) {
      ctx.addIssue({ code: 'custom', path: ['staffIds'], message: 'must not repeat a staff id' });
      return z.NEVER;
    }
    const [startUtc, endUtc] = [start.toUTC().toISO()!, end.toUTC().toISO()!];
    const recurrence = body.recurrence
      ? checkRecurrence(
          body.recurrence,
          { start: startUtc, end: endUtc, timeZone: body.timeZone, allDay: body.allDay },
          ctx,
        )
      : undefined;
    if (body.recurrence && !recurrence) return z.NEVER;
    return { ...body, start: startUtc, end: endUtc, recurrence };
  });
export type AppointmentBody = z.output<typeof appointmentBodySchema>;

export const revisionOnlySchema = z.object({
  revision: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});
export const revisionQuerySchema = z.object({
  revision: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** Which changes e-mail the client an iCalendar invitation (all three on once `enabled`, unless switched off). */
export const clientInvitationSettingsSchema = z
  .object({
    enabled: z.boolean(),
    onCreate: z.boolean().default(true),
    onChange: z.boolean().default(true),
    onCancel: z.boolean().default(true),
  })
  .strict();

export const tenantSettingsSchema = z.object({
  cancelledEvents: z.enum(['remove', 'keep']).optional(),
  /** How much of an appointment staff subscription feeds show: everything, the title, or just "Busy". */
  feedDetail: z.enum(['full', 'title', 'busy']).optional(),
  /** What disconnecting a calendar link does to calsync's events in it. */
  onDisconnect: z.enum(['remove', 'keep']).optional(),
  /** Where a new link's events go: a calendar of its own named after the business (default), or the primary one. */
  calendarMode: z.enum(['dedicated', 'primary']).optional(),
  clientInvitations: clientInvitationSettingsSchema.optional(),
  /** The organizer's name in invitations; the tenant's name when absent. */
  businessName: lineText(200, 1).optional(),
  /** The organizer's address in invitations (replies go there); MAIL_FROM when absent. */
  organizerEmail: z.email().max(320).optional(),
  language: z.enum(['en', 'es']).optional(),
  /** The connect page's language; without it, the browser's (Accept-Language), else English. */
  connectLanguage: z.enum(CONNECT_LANGUAGES).optional(),
  /** Keep the titles of events imported from staff calendars (busy time only, by default). */
  importTitles: z.boolean().optional(),
  /** Reconciliation: restore events changed or deleted by hand in staff calendars (default), or only record the drift. */
  reconcileRestore: z.boolean().optional(),
  /**
   * Which accounts may be connected by consent: the staff member's own e-mail (default), any account
   * of these domains, or any account at all.
   */
  consentAccounts: z
    .union([
      z.literal('staffEmail'),
      z.literal('any'),
      z
        .object({
          domains: z
            .array(
              z
                .string()
                .trim()
                .toLowerCase()
                .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain'),
            )
            .min(1)
            .max(50),
        })
        .strict(),
    ])
    .optional(),
  /** Availability (POST /v1/availability): tentative imported busy time blocks slots (default), or not. */
  tentativeBlocks: z.boolean().optional(),
  ...crmSettingsShape,
});

/** What PUT /v1/settings accepts: the sync settings plus the CRM webhook (its secret is stored sealed). */
export const settingsUpdateSchema = tenantSettingsSchema
  .extend({
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .nullable()
      .optional(),
    webhookSecret: z.string().min(16).max(256).optional(),
  })
  .strict();

export const createTenantSchema = z.object({
  id: tenantIdSchema,
  name: z.string().trim().min(1).max(200),
  settings: tenantSettingsSchema.default({}),
});

const wallTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time HH:MM (24:00 ends the day)');
const dayHours = z
  .array(
    z
      .object({ start: wallTime, end: wallTime })
      .strict()
      .refine((r) => r.end > r.start, { path: ['end'], message: 'must be after start' }),
  )
  .max(12);
const calendarDate = z
  .string()
  .regex(DATE_ONLY, 'must be a date YYYY-MM-DD')
  .refine((d) => DateTime.fromISO(d).isValid, 'is not a valid date');

/** When a staff member can be booked: weekly hours in their own zone, dates with other hours (`[]`: off), days off. */
export const workingHoursSchema = z
  .object({
    timeZone: timeZoneSchema,
    weekly: z
      .object(
        Object.fromEntries(WEEKDAYS.map((d) => [d, dayHours.optional()])) as Record<
          Weekday,
          z.ZodOptional<typeof dayHours>
        >,
      )
      .strict(),
    overrides: z
      .array(z.object({ date: calendarDate, hours: dayHours }).strict())
      .max(400)
      .refine((o) => new Set(o.map((x) => x.date)).size === o.length, 'must not repeat a date')
      .optional(),
    daysOff: z.array(calendarDate).max(400).optional(),
  })
  .strict();

export const staffBodySchema = z.object({
  name: lineText(200, 1),
  email: z.email().max(320).optional(),
  timeZone: timeZoneSchema.optional(),
  /** Absent: the stored hours stay; null: none (bookable whenever not busy). */
  workingHours: workingHoursSchema.nullable().optional(),
});

/** A provider's name as it appears in URLs and on links; whether calsync has it is the registry's answer. */
export const providerNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a provider name such as google');

/** Attaching an account by its refresh token; without calendarId the tenant's calendarMode decides the calendar. */
export const linkBodySchema = z.object({
  accountEmail: z.email().max(320),
  refreshToken: z.string().min(1).max(4096),
  calendarId: z.string().min(1).max(1024).optional(),
});

export const resyncBodySchema = z.object({
  targetKey: z.string().min(1).max(200).optional(),
  force: z.boolean().default(false),
});

export const logQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.coerce.number().int().min(0).optional(),
});

export const failureFilterSchema = z.object({
  since: z.iso.datetime({ offset: true }).optional(),
  provider: providerNameSchema.optional(),
  staff: idSchema.optional(),
  code: z.string().min(1).max(100).optional(),
});

export const failureListQuerySchema = failureFilterSchema.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(500).optional(),
});

export const replayBodySchema = failureFilterSchema.extend({
  ratePerSecond: z.number().int().min(1).max(100).default(10),
});

// A date-time with an offset, or a wall-clock time read in `timeZone`, as in appointment bodies.
const instantOrLocal = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/, 'must be an ISO 8601 date-time');
const MAX_WINDOW_DAYS = 62;

/** Two date-times read in `timeZone`, the second after the first and at most 62 days later. */
function parseWindow(
  texts: [string, string],
  timeZone: string,
  names: [string, string],
  ctx: z.RefinementCtx,
  at: string[] = [],
): [Date, Date] | undefined {
  const zone = keptZone(timeZone);
  const [first, second] = texts.map((t) => DateTime.fromISO(t, { zone }));
  if (!first!.isValid) ctx.addIssue({ code: 'custom', path: [...at, names[0]], message: 'is not a valid date-time' });
  if (!second!.isValid) ctx.addIssue({ code: 'custom', path: [...at, names[1]], message: 'is not a valid date-time' });
  if (!first!.isValid || !second!.isValid) return undefined;
  if (second! <= first!) {
    ctx.addIssue({ code: 'custom', path: [...at, names[1]], message: `must be after ${names[0]}` });
    return undefined;
  }
  if (second!.diff(first!, 'days').days > MAX_WINDOW_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, names[1]],
      message: `must be at most ${MAX_WINDOW_DAYS} days after ${names[0]}`,
    });
    return undefined;
  }
  return [first!.toJSDate(), second!.toJSDate()];
}

export const busyQuerySchema = z
  .object({ from: instantOrLocal, to: instantOrLocal, timeZone: timeZoneSchema.default('UTC') })
  .transform((q, ctx) => {
    const window = parseWindow([q.from, q.to], q.timeZone, ['from', 'to'], ctx);
    return window ? { from: window[0], to: window[1], timeZone: q.timeZone } : z.NEVER;
  });

export const availabilityCheckSchema = z
  .object({
    start: instantOrLocal,
    end: instantOrLocal,
    timeZone: timeZoneSchema,
    excludeAppointmentId: idSchema.optional(),
  })
  .transform((b, ctx) => {
    const window = parseWindow([b.start, b.end], b.timeZone, ['start', 'end'], ctx);
    return window
      ? { start: window[0], end: window[1], timeZone: b.timeZone, excludeAppointmentId: b.excludeAppointmentId }
      : z.NEVER;
  });

/** A same-origin path only (`/done?x=1`): never `//host`, `/\host` or an absolute URL (no open redirect). */
const sameOriginPath = z
  .string()
  .max(2048)
  .refine((v) => /^\/(?![/\\])[^\s\\]*$/.test(v), 'must be a path on this site, starting with a single /');

/** Starts the OAuth authorization-code flow that connects a staff member's calendar. */
export const oauthStartBodySchema = z.object({
  provider: providerNameSchema,
  returnUrl: sameOriginPath.optional(),
});

export const MAX_AVAILABILITY_STAFF = 50;
export const MAX_AVAILABILITY_SLOTS = 2000;
const minutes = (max: number) => z.number().int().min(0).max(max);

/** Bookable slots across staff members (or a team calendar's members) in a window of at most 62 days. */
export const availabilityBodySchema = z
  .object({
    staffIds: z.array(idSchema).min(1).max(MAX_AVAILABILITY_STAFF).optional(),
    /** A team calendar: its members are the staff. */
    calendarId: idSchema.optional(),
    mode: z.enum(['any', 'all']).default('any'),
    /** `any` mode: each slot names only the least-booked free person. */
    pick: z.enum(['balanced']).optional(),
    durationMinutes: z.number().int().min(5).max(1440),
    window: z.object({ from: instantOrLocal, to: instantOrLocal }),
    timeZone: timeZoneSchema,
    slotIntervalMinutes: z.number().int().min(5).max(1440).default(15),
    bufferBeforeMinutes: minutes(720).default(0),
    bufferAfterMinutes: minutes(720).default(0),
    minimumNoticeMinutes: minutes(MAX_WINDOW_DAYS * 1440).default(0),
    /** Per staff id: replaces that person's stored working hours for this request. */
    workingHours: z
      .record(idSchema, workingHoursSchema)
      .refine(
        (w) => Object.keys(w).length <= MAX_AVAILABILITY_STAFF,
        `must name at most ${MAX_AVAILABILITY_STAFF} staff`,
      )
      .optional(),
    excludeAppointmentId: idSchema.optional(),
    maxSlots: z.number().int().min(1).max(MAX_AVAILABILITY_SLOTS).default(500),
  })
  .transform((b, ctx) => {
    if ((b.staffIds === undefined) === (b.calendarId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['staffIds'], message: 'give either staffIds or calendarId' });
      return z.NEVER;
    }
    if (b.staffIds && new Set(b.staffIds).size !== b.staffIds.length) {
      ctx.addIssue({ code: 'custom', path: ['staffIds'], message: 'must not repeat a staff id' });
      return z.NEVER;
    }
    if (b.pick && b.mode !== 'any') {
      ctx.addIssue({ code: 'custom', path: ['pick'], message: 'only in mode "any"' });
      return z.NEVER;
    }
    const window = parseWindow([b.window.from, b.window.to], b.timeZone, ['from', 'to'], ctx, ['window']);
    return window ? { ...b, from: window[0], to: window[1] } : z.NEVER;
  });
export type AvailabilityBody = z.output<typeof availabilityBodySchema>;

/** Connecting by username and (app-specific) password (CalDAV): api/routes/connectCredentials.ts. */
const credentialsFields = {
  preset: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a preset id such as icloud')
    .optional(),
  serverUrl: z.string().trim().max(2048).optional(),
  username: z.string().trim().min(1, 'is required').max(320),
  password: z.string().min(1, 'is required').max(1024),
};
export const credentialsBodySchema = z.object(credentialsFields).strict();
export const credentialsFormSchema = z.object({
  csrf: z.string().min(1).max(200),
  staffId: idSchema,
  ...credentialsFields,
});
