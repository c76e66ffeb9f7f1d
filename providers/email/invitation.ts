import { DateTime } from 'luxon';
import { invitationTitle, type InvitationMethod } from '../../lib/clientInvitations';
import type { DesiredAppointment } from '../../lib/types';
import {
  addressProp,
  appointmentEvents,
  calendar,
  cleanText,
  integerProp,
  stampProp,
  stringifyCalendar,
  textProp,
  yearsOf,
  zoneOf,
  type JCalProperty,
  type Params,
} from '../../lib/ical';

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

/**
 * The VCALENDAR: METHOD, the VEVENT with UID/SEQUENCE/DTSTAMP, ORGANIZER and ATTENDEE, and the
 * VTIMEZONE of its TZID. A single appointment's times are in the location's zone (the client's
 * calendar shows where it happens); a series is written wholly in the appointment's zone, the zone
 * its rule is expanded in (DTSTART, RRULE, EXDATE, RECURRENCE-ID), and the client's calendar
 * converts it for display. Every value goes through lib/ical.ts (ical.js escapes and quotes).
 */
export function renderIcs(input: InvitationInput): string {
  const { desired } = input;
  const w = words[input.language];
  const cancel = input.method === 'CANCEL';
  // A zone the runtime does not know falls back to UTC times: still the right instants.
  const zone = desired.recurrence ? desired.timeZone : input.timeZone;
  const inZone = { ...desired, timeZone: zone };
  const organizer: Params = { cn: input.businessName };
  if (input.sentBy && input.sentBy.toLowerCase() !== input.organizerEmail.toLowerCase())
    organizer['sent-by'] = `mailto:${input.sentBy}`;
  const attendee: Params = {
    ...(desired.clientName ? { cn: desired.clientName } : {}),
    role: 'REQ-PARTICIPANT',
    partstat: 'NEEDS-ACTION',
    ...(cancel ? {} : { rsvp: 'TRUE' }),
  };
  const stamp = stampProp(input.stamp);
  const base = (changed?: { title?: string }): JCalProperty[] => [
    textProp('uid', input.uid),
    integerProp('sequence', input.sequence),
    stamp,
    textProp('summary', `${changed?.title ?? invitationTitle(desired)} – ${input.businessName}`),
    ...(desired.services.length ? [textProp('description', `${w.services}: ${desired.services.join(', ')}`)] : []),
    ...(desired.location ? [textProp('location', desired.location)] : []),
    textProp('status', cancel ? 'CANCELLED' : desired.status === 'tentative' ? 'TENTATIVE' : 'CONFIRMED'),
    addressProp('organizer', input.organizerEmail, organizer),
    addressProp('attendee', input.attendeeEmail, attendee),
  ];
  // A series: its rule and cancelled occurrences on the event, each changed occurrence a VEVENT of
  // its own (same UID, RECURRENCE-ID). A CANCEL without RECURRENCE-ID cancels the whole series.
  const events = appointmentEvents(inZone, base, { series: !cancel });
  const zones = zoneOf(inZone) && !desired.allDay ? [zone] : [];
  return stringifyCalendar(
    calendar(
      [
        textProp('prodid', `-//calsync//client-invitations//${input.language.toUpperCase()}`),
        textProp('method', cancel ? 'CANCEL' : 'REQUEST'),
      ],
      events,
      zones,
      yearsOf(desired),
    ),
  );
}

/** A mail header's text: no control characters at all (no header injection, no stray bytes). */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The whole message: subject, readable text and HTML in the tenant's language, and the .ics. */
export function renderInvitation(input: InvitationInput): RenderedInvitation {
  const { desired } = input;
  const w = words[input.language];
  const kind = input.method === 'CANCEL' ? 'cancel' : input.update ? 'update' : 'new';
  const title = invitationTitle(desired);
  const when = describeWhen(desired, input.timeZone, input.language);
  const subject = oneLine(`${w.subject[kind]}: ${title} – ${when.date}, ${when.time} (${input.businessName})`);
  // A series is written in the appointment's zone: where the location's differs, both are shown.
  const full =
    desired.recurrence && !desired.allDay && desired.timeZone !== input.timeZone
      ? `${when.full}; ${describeWhen(desired, desired.timeZone, input.language).full}`
      : when.full;
  const details: [string, string][] = [[w.when, full]];
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

  return { ics: renderIcs(input), subject, text: cleanText(text), html: cleanText(html) };
}
