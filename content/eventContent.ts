import { DateTime } from 'luxon';
import { resolveCrmSettings, type CrmSettings } from '../lib/crmSettings';
import type { DesiredAppointment } from '../lib/types';
import { selectAttendees } from './attendees';
import { seriesContent } from './recurrenceContent';
import { renderBlock, renderInline, type TemplateValues } from './template';
import type { EventContent } from './types';

export const CALSYNC_TAG = 'calsyncId';
/**
 * The tag every event calsync writes to a target carries: tenant and target, so one filter lists
 * exactly the events a link's reconciliation owns (providers filter by name and value, not by
 * name alone), and never another tenant's in a shared calendar.
 */
export const OWNER_TAG = 'calsyncOwner';

export function ownerTag(tenantId: string, targetKey: string): string {
  return `${tenantId}|${targetKey}`;
}

/** The value of calsync's tag on every event of one appointment. */
export function calsyncTag(tenantId: string, appointmentId: string): string {
  return `${tenantId}:${appointmentId}`;
}

const statusLabels: Record<DesiredAppointment['status'], string> = {
  scheduled: 'Scheduled',
  confirmed: 'Confirmed',
  tentative: 'Tentative',
  completed: 'Completed',
  no_show: 'No-show',
  cancelled: 'Cancelled',
};

/** What an event shows unless the tenant (or the entity type) says otherwise: the Versum fields. */
export const DEFAULT_TITLE_TEMPLATE = '{title}[ – {clientName}]';
export const DEFAULT_DESCRIPTION_TEMPLATE = [
  '[Client: {clientName}]',
  '[Services: {services}]',
  'Status: {status}',
  '[Client record: {clientLink}]',
  '[Document: {documentLink}]',
  '[Attachments:\n{attachments}]',
  '',
  '{description}',
].join('\n');
const PRIVATE_TITLE = 'Busy';

export interface RenderOptions {
  cancelled: boolean;
  /** The tenant's stored settings; defaults when absent. */
  settings?: CrmSettings;
  /**
   * This copy is the organizer copy: the one of the appointment's staff copies that carries its
   * attendees and may tell them (the others carry none).
   */
  notifyAttendees?: boolean;
  /** Addresses never made attendees (the client when it gets calsync's own e-mail invitation). */
  excludeAttendees?: string[];
}

function templateValues(desired: DesiredAppointment, typeLabel: string): TemplateValues {
  const what = desired.title?.trim() || desired.services.join(', ') || typeLabel;
  const fixed: Record<string, string | undefined> = {
    title: what,
    type: typeLabel,
    clientName: desired.clientName,
    services: desired.services.join(', '),
    status: statusLabels[desired.status],
    location: desired.location,
    description: desired.description,
    clientLink: desired.links?.client,
    documentLink: desired.links?.document,
    attachments: desired.attachments?.map((a) => `- ${a.name}: ${a.url}`).join('\n'),
  };
  return (name) => {
    if (name.startsWith('fields.')) {
      const value = desired.fields?.[name.slice('fields.'.length)];
      return value === undefined ? undefined : String(value);
    }
    return fixed[name] || undefined;
  };
}

/**
 * The event as this tenant's stored settings render it: what every copy calsync writes shows, and
 * what reconciliation expects to find. The client who gets calsync's own e-mail invitation is not
 * an attendee too (a second invitation).
 */
export function renderTenantEvent(
  desired: DesiredAppointment,
  storedSettings: Record<string, any> | undefined,
  opts: { cancelled: boolean; notifyAttendees?: boolean },
): EventContent {
  const excludeAttendees =
    storedSettings?.clientInvitations?.enabled && desired.clientEmail ? [desired.clientEmail] : [];
  return renderEventContent(desired, {
    cancelled: opts.cancelled,
    settings: resolveCrmSettings(storedSettings),
    notifyAttendees: opts.notifyAttendees,
    excludeAttendees,
  });
}

/**
 * Renders an appointment into provider-neutral event content, by the tenant's templates (the
 * entity type's first), privacy mode, attendee rules and reminders.
 */
export function renderEventContent(desired: DesiredAppointment, opts: RenderOptions): EventContent {
  const settings = opts.settings ?? resolveCrmSettings(undefined);
  const type = settings.entityTypes[desired.type];
  const typeLabel = type?.label ?? 'Appointment';
  const values = templateValues(desired, typeLabel);
  const busyOnly = settings.eventContent.privacy === 'busy';
  const title = busyOnly
    ? PRIVATE_TITLE
    : renderInline(type?.title ?? settings.eventContent.title ?? DEFAULT_TITLE_TEMPLATE, values) || typeLabel;
  const description = busyOnly
    ? ''
    : renderBlock(type?.description ?? settings.eventContent.description ?? DEFAULT_DESCRIPTION_TEMPLATE, values);
  const location = busyOnly
    ? undefined
    : type?.location
      ? renderInline(type.location, values) || undefined
      : desired.location;
  // One copy per guest: only the copy that tells attendees (the organizer copy, one per appointment)
  // carries them. Every other staff copy is its own event (own id and iCalUID), so guests on it
  // would see the appointment once per staff calendar, and Outlook would mail them from each.
  const attendees =
    busyOnly || !opts.notifyAttendees
      ? []
      : selectAttendees(desired.attendees, settings.attendees, opts.excludeAttendees);
  const reminders = desired.reminders ?? settings.eventContent.reminders;
  const recurrence = seriesContent(desired, (state) => renderEventContent(state, opts));
  return {
    summary: opts.cancelled ? `Cancelled: ${title}` : title,
    description,
    location,
    start: wallClock(desired.start, desired.timeZone),
    end: wallClock(desired.end, desired.timeZone),
    timeZone: desired.timeZone,
    tentative: desired.status === 'tentative',
    cancelled: opts.cancelled,
    ...(desired.allDay ? { allDay: true } : {}),
    ...(attendees.length
      ? { attendees, notifyAttendees: Boolean(opts.notifyAttendees) && settings.attendees.notifyExternal }
      : {}),
    ...(reminders ? { reminders } : {}),
    ...(busyOnly ? { private: true } : {}),
    ...(recurrence ? { recurrence } : {}),
    tags: {
      [CALSYNC_TAG]: calsyncTag(desired.tenantId, desired.appointmentId),
      calsyncType: desired.type,
      calsyncRevision: String(desired.revision),
    },
  };
}

/** The instant as local time with its offset in the appointment's zone: what calendars display. */
function wallClock(instant: string, timeZone: string): string {
  return DateTime.fromISO(instant, { zone: 'utc' }).setZone(timeZone).toISO({ suppressMilliseconds: true })!;
}
