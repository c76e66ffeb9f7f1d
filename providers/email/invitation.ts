import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { DateTime } from 'luxon';
import { invitationTitle, type InvitationMethod } from '../../lib/clientInvitations';
import type { DesiredAppointment } from '../../lib/types';
import { vtimezone } from '../../lib/vtimezone';
import { icalTimes } from '../../lib/icalTimes';
import { icalSeries } from '../../lib/recurrence';

export type InvitationLanguage = 'en' | 'es';

/** One iMIP message (RFC 6047): what the client's calendar and the client read. */
export interface InvitationInput {
  method: InvitationMethod;
  /** A REQUEST that replaces one the same address already got. */
  update: boolean;
  uid: string;
  sequence: number;
  desired: DesiredAppointment;
  /** IANA zone of the location: DTSTART/DTEND carry it, with its VTIMEZONE. */
  timeZone: string;
  businessName: string;
  organizerEmail: string;
  /** The address the mail really comes from, when it is not the organizer's (ORGANIZER;SENT-BY). */
  sentBy?: string;
  attendeeEmail: string;
  language: InvitationLanguage;
  stamp?: Date;
}

export interface RenderedInvitation {
  ics: string;
  subject: string;
  text: string;
  html: string;
}

interface Words {
  subject: Record<'new' | 'update' | 'cancel', string>;
  hello: (name?: string) => string;
  lead: Record<'new' | 'update' | 'cancel', (business: string) => string>;
  when: string;
  allDay: string;
  where: string;
  services: string;
  add: string;
  updates: string;
  cancelNote: string;
  outlook: string;
}

const words: Record<InvitationLanguage, Words> = {
  en: {
    subject: { new: 'Invitation', update: 'Updated invitation', cancel: 'Cancelled' },
    hello: (name) => (name ? `Hello ${name},` : 'Hello,'),
    lead: {
      new: (b) => `Your appointment with ${b} is booked:`,
      update: (b) => `Your appointment with ${b} has changed:`,
      cancel: (b) => `Your appointment with ${b} has been cancelled:`,
    },
    when: 'When',
    allDay: 'all day',
    where: 'Where',
    services: 'Services',
    add: 'Add it to your calendar with the invitation in this e-mail, or with a link:',
    updates: 'If anything changes, you will get an update of this same event.',
    cancelNote: 'Opening this message removes the event from your calendar.',
    outlook: 'Outlook',
  },
  es: {
    subject: { new: 'Invitación', update: 'Invitación actualizada', cancel: 'Cancelada' },
    hello: (name) => (name ? `Hola, ${name}:` : 'Hola:'),
    lead: {
      new: (b) => `Tu cita con ${b} está reservada:`,
      update: (b) => `Tu cita con ${b} ha cambiado:`,
      cancel: (b) => `Tu cita con ${b} ha sido cancelada:`,
    },
    when: 'Cuándo',
    allDay: 'todo el día',
    where: 'Dónde',
    services: 'Servicios',
    add: 'Añádela a tu calendario con la invitación de este correo o con un enlace:',
    updates: 'Si algo cambia, recibirás una actualización de este mismo evento.',
    cancelNote: 'Al abrir este mensaje, el evento desaparece de tu calendario.',
    outlook: 'Outlook',
  },
};

// Parameter values (CN) may not hold a DQUOTE or control characters in iCalendar.
const paramSafe = (value: string) => value.replace(/["\u0000-\u001f\u007f]/g, '').trim();

function local(instant: string, zone: string, language: InvitationLanguage): DateTime {
  return DateTime.fromISO(instant, { zone: 'utc' }).setZone(zone).setLocale(language);
}

/**
 * "Tuesday, March 2, 2027, 10:00–11:00 (Europe/Madrid)" in the tenant's language; an all-day
 * appointment is its dates in its own zone: "Tuesday, March 2, 2027, all day".
 */
export function describeWhen(
  desired: DesiredAppointment,
  zone: string,
  language: InvitationLanguage,
): { date: string; time: string; full: string } {
  if (desired.allDay) {
    const first = local(desired.start, desired.timeZone, language);
    const last = local(desired.end, desired.timeZone, language).minus({ days: 1 });
    const date = first.toLocaleString(DateTime.DATE_HUGE);
    const allDay = words[language].allDay;
    return {
      date,
      time: allDay,
      full: first.hasSame(last, 'day')
        ? `${date}, ${allDay}`
        : `${date} – ${last.toLocaleString(DateTime.DATE_HUGE)}, ${allDay}`,
    };
  }
  const start = local(desired.start, zone, language);
  const end = local(desired.end, zone, language);
  const date = start.toLocaleString(DateTime.DATE_HUGE);
  const sameDay = start.hasSame(end, 'day');
  const range = sameDay
    ? `${start.toFormat('HH:mm')}–${end.toFormat('HH:mm')}`
    : `${start.toFormat('HH:mm')} – ${end.toLocaleString(DateTime.DATE_HUGE)} ${end.toFormat('HH:mm')}`;
  return { date, time: start.toFormat('HH:mm'), full: `${date}, ${range} (${zone})` };
}

/**
 * "Add to calendar" links: a one-off copy for people who do not open the invitation itself. An
 * all-day appointment is its dates (Google's end date exclusive, as calsync's is).
 */
export function calendarLinks(
  desired: DesiredAppointment,
  summary: string,
  zone: string,
): { google: string; outlook: string } {
  const inZone = (iso: string) =>
    DateTime.fromISO(iso, { zone: 'utc' }).setZone(desired.allDay ? desired.timeZone : zone);
  const googleTime = (iso: string) =>
    desired.allDay
      ? inZone(iso).toFormat('yyyyLLdd')
      : DateTime.fromISO(iso, { zone: 'utc' }).toFormat("yyyyLLdd'T'HHmmss'Z'");
  const outlookTime = (iso: string) =>
    desired.allDay ? inZone(iso).toISODate()! : inZone(iso).toISO({ suppressMilliseconds: true })!;
  const google = new URL('https://calendar.google.com/calendar/render');
  google.searchParams.set('action', 'TEMPLATE');
  google.searchParams.set('text', summary);
  google.searchParams.set('dates', `${googleTime(desired.start)}/${googleTime(desired.end)}`);
  google.searchParams.set('ctz', zone);
  if (desired.location) google.searchParams.set('location', desired.location);
  const outlook = new URL('https://outlook.live.com/calendar/0/action/compose');
  outlook.searchParams.set('rru', 'addevent');
  outlook.searchParams.set('subject', summary);
  outlook.searchParams.set('startdt', outlookTime(desired.start));
  outlook.searchParams.set('enddt', outlookTime(desired.end));
  if (desired.allDay) outlook.searchParams.set('allday', 'true');
  if (desired.location) outlook.searchParams.set('location', desired.location);
  return { google: google.toString(), outlook: outlook.toString() };
}

/** The VCALENDAR: METHOD, one VEVENT with UID/SEQUENCE/DTSTAMP, ORGANIZER and ATTENDEE, and the VTIMEZONE of its TZID. */
export function renderIcs(input: InvitationInput): string {
  const { desired } = input;
  const w = words[input.language];
  const cancel = input.method === 'CANCEL';
  const calendar = ical({
    prodId: { company: 'calsync', product: 'client-invitations', language: input.language.toUpperCase() },
    method: cancel ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  });
  // Without a generator ical-generator writes TZID=… with no VTIMEZONE, which Outlook rejects.
  // A zone the library does not know falls back to UTC times: still the right instants.
  const zone = vtimezone(input.timeZone);
  calendar.timezone({ name: null, generator: (tz) => (zone && tz === zone.tzid ? zone.block : null) });
  const series = icalSeries(desired);
  const base = {
    id: input.uid,
    sequence: input.sequence,
    stamp: DateTime.fromJSDate(input.stamp ?? new Date(), { zone: 'utc' }),
    summary: `${invitationTitle(desired)} – ${input.businessName}`,
    description: desired.services.length ? `${w.services}: ${desired.services.join(', ')}` : null,
    location: desired.location ?? null,
    status: cancel
      ? ICalEventStatus.CANCELLED
      : desired.status === 'tentative'
        ? ICalEventStatus.TENTATIVE
        : ICalEventStatus.CONFIRMED,
    organizer: {
      name: paramSafe(input.businessName),
      email: input.organizerEmail,
      ...(input.sentBy && input.sentBy.toLowerCase() !== input.organizerEmail.toLowerCase()
        ? { sentBy: input.sentBy }
        : {}),
    },
    attendees: [
      {
        email: input.attendeeEmail,
        name: desired.clientName ? paramSafe(desired.clientName) : null,
        role: ICalAttendeeRole.REQ,
        status: ICalAttendeeStatus.NEEDSACTION,
        rsvp: !cancel,
      },
    ],
  };
  // A series: its rule and cancelled occurrences on the event, each changed occurrence a VEVENT of
  // its own (same UID, RECURRENCE-ID). A CANCEL without RECURRENCE-ID cancels the whole series.
  // Luxon values: ical-generator formats them in the event's zone (native Dates would use the host's).
  const inZone = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(desired.timeZone);
  const tzid = zone?.tzid ?? null;
  calendar.createEvent({
    ...base,
    ...icalTimes({ start: inZone(desired.start), end: inZone(desired.end) }, desired.allDay, tzid),
    ...(series && !cancel ? { repeating: series.repeating } : {}),
  });
  for (const c of cancel ? [] : (series?.changed ?? [])) {
    calendar.createEvent({
      ...base,
      ...icalTimes(c, desired.allDay, tzid),
      ...(c.title ? { summary: `${c.title} – ${input.businessName}` } : {}),
    });
  }
  return calendar.toString();
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The whole message: subject, readable text and HTML in the tenant's language, and the .ics. */
export function renderInvitation(input: InvitationInput): RenderedInvitation {
  const { desired } = input;
  const w = words[input.language];
  const kind = input.method === 'CANCEL' ? 'cancel' : input.update ? 'update' : 'new';
  const title = invitationTitle(desired);
  const when = describeWhen(desired, input.timeZone, input.language);
  const subject = `${w.subject[kind]}: ${title} – ${when.date}, ${when.time} (${input.businessName})`;
  const details: [string, string][] = [[w.when, when.full]];
  if (desired.location) details.push([w.where, desired.location]);
  if (desired.services.length) details.push([w.services, desired.services.join(', ')]);
  const links =
    kind === 'cancel' ? undefined : calendarLinks(desired, `${title} – ${input.businessName}`, input.timeZone);

  const text = [
    w.hello(desired.clientName),
    '',
    w.lead[kind](input.businessName),
    '',
    `  ${title}`,
    ...details.map(([k, v]) => `  ${k}: ${v}`),
    '',
    ...(links
      ? [w.add, `  Google Calendar: ${links.google}`, `  ${w.outlook}: ${links.outlook}`, '', w.updates]
      : [w.cancelNote]),
    '',
    input.businessName,
    '',
  ].join('\n');

  const html = [
    `<!doctype html><html lang="${input.language}"><body style="font-family:sans-serif">`,
    `<p>${escapeHtml(w.hello(desired.clientName))}</p>`,
    `<p>${escapeHtml(w.lead[kind](input.businessName))}</p>`,
    `<p><strong>${escapeHtml(title)}</strong><br>`,
    details.map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`).join('<br>'),
    '</p>',
    links
      ? `<p>${escapeHtml(w.add)}</p><p><a href="${escapeHtml(links.google)}">Google Calendar</a> · <a href="${escapeHtml(links.outlook)}">${escapeHtml(w.outlook)}</a></p><p>${escapeHtml(w.updates)}</p>`
      : `<p>${escapeHtml(w.cancelNote)}</p>`,
    `<p>${escapeHtml(input.businessName)}</p>`,
    '</body></html>',
  ].join('\n');

  return { ics: renderIcs(input), subject, text, html };
}
