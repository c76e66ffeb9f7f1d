import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import ICAL from 'ical.js';
import { sendClientInvitation, type InvitationResult } from '../activities/clientInvitation';
import type { ActivityDeps } from '../activities/deps';
import { clientInvitationTarget } from '../lib/clientInvitations';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { calsyncDataConverter } from '../lib/payloadCodec';
import type { DesiredAppointment } from '../lib/types';
import { renderIcs } from '../providers/email/invitation';
import { waitUntil } from './helpers/api';
import { mimeTree, useAppStackWithSmtp, type ReceivedMail, type TestSmtpServer } from './helpers/smtp';
import { TenantWorld, temporalClient, testDb } from './helpers/world';

/**
 * The AgendaPro case: the client gets an iMIP invitation (RFC 6047) by e-mail; changes update and
 * cancellations remove the same event. API → appointmentSync → sendClientInvitation → a real SMTP
 * server in this process, whose messages are parsed with mailparser and ical.js.
 */
const MAIL_FROM = 'Calsync Invitations <invitations@calsync.test>';
let smtp: TestSmtpServer;
/** Workflows of this file whose histories must replay against the current code. */
const replayable: string[] = [];

const INVITES = { clientInvitations: { enabled: true } };
// A Tuesday; 10:00 in Madrid is 09:00 UTC (CET).
const DAY = '2030-03-05';
const visit = (extra: Record<string, unknown> = {}) => ({
  start: `${DAY}T10:00:00`,
  end: `${DAY}T11:00:00`,
  timeZone: 'Europe/Madrid',
  locationTimeZone: 'Europe/Madrid',
  clientEmail: 'ana@client.test',
  ...extra,
});

interface Invitation {
  mail: ReceivedMail;
  calendar: ICAL.Component;
  event: ICAL.Component;
  ics: string;
}

/** The iCalendar of a received message, from its inline text/calendar part (the .ics attachment must be the same). */
function invitation(mail: ReceivedMail): Invitation {
  const inline = mail.parsed.attachments.find((a) => a.contentType === 'text/calendar');
  const attached = mail.parsed.attachments.find((a) => a.contentType === 'application/ics');
  expect(inline).toBeDefined();
  expect(attached?.content.toString('utf8')).toBe(inline!.content.toString('utf8'));
  const ics = inline!.content.toString('utf8');
  const calendar = new ICAL.Component(ICAL.parse(ics));
  // ical.js resolves TZID only through registered zones: register the message's own VTIMEZONE.
  for (const tz of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  const reparsed = new ICAL.Component(ICAL.parse(ics));
  return { mail, calendar: reparsed, event: reparsed.getFirstSubcomponent('vevent')!, ics };
}

/** The iTIP rules ical.js does not check. */
function expectITip(inv: Invitation, method: 'REQUEST' | 'CANCEL') {
  const { calendar, event } = inv;
  expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
  expect(calendar.getFirstPropertyValue('prodid')).toMatch(/^-\/\/calsync\/\/client-invitations\/\/(EN|ES)$/);
  expect(calendar.getFirstPropertyValue('method')).toBe(method);
  expect(calendar.getAllSubcomponents('vevent')).toHaveLength(1);
  for (const name of ['uid', 'dtstamp', 'sequence', 'dtstart', 'dtend', 'organizer', 'attendee'])
    expect(event.hasProperty(name)).toBe(true);
  expect(String(event.getFirstPropertyValue('dtstamp'))).toMatch(/Z$/);
  // Every TZID has its VTIMEZONE.
  const tzids = new Set(['dtstart', 'dtend'].map((p) => event.getFirstProperty(p)!.getParameter('tzid') as string));
  const zones = new Set(
    calendar.getAllSubcomponents('vtimezone').map((z) => z.getFirstPropertyValue('tzid') as string),
  );
  for (const tzid of tzids) expect(zones.has(tzid)).toBe(true);
  // MIME: multipart/mixed → multipart/alternative (text, HTML, text/calendar; method=…) + the .ics attachment.
  const tree = mimeTree(inv.mail.raw);
  expect(tree.contentType).toBe('multipart/mixed');
  expect(tree.children.map((c) => c.contentType)).toEqual(['multipart/alternative', 'application/ics']);
  const [alternative, attachment] = tree.children;
  expect(alternative!.children.map((c) => c.contentType)).toEqual(['text/plain', 'text/html', 'text/calendar']);
  expect(alternative!.children[2]!.params.method).toBe(method);
  expect(alternative!.children[2]!.params.charset).toBe('utf-8');
  expect(attachment!.headers['content-transfer-encoding']).toBe('base64');
  expect(attachment!.headers['content-disposition']).toBe(
    `attachment; filename=${method === 'CANCEL' ? 'cancel.ics' : 'invite.ics'}`,
  );
}

function sequenceOf(inv: Invitation): number {
  return Number(inv.event.getFirstPropertyValue('sequence'));
}

async function mailsTo(address: string, count: number): Promise<ReceivedMail[]> {
  return waitUntil(`${count} mail(s) to ${address}`, async () => {
    const mails = smtp.to(address);
    return mails.length >= count ? mails : undefined;
  });
}

async function invitationRows(world: TenantWorld, appointmentId: string) {
  return testDb()('client_invitations')
    .where({ tenant_id: world.tenantId, appointment_id: appointmentId })
    .orderBy('sequence')
    .select('sequence', 'method', 'email', 'message_id', 'uid', 'sent_at');
}

function emailTarget(status: any) {
  return status.sync.targets.find((t: any) => t.targetKey === 'email:client');
}

describe('client invitations by e-mail', () => {
  const mail = useAppStackWithSmtp(MAIL_FROM);
  const stack = mail.stack;
  beforeAll(() => {
    smtp = mail.server();
  });

  test('create, move, invisible changes, cancel and delete: one event in the client calendar, SEQUENCE rising, same UID', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      ...INVITES,
      businessName: 'Barber & Co',
      organizerEmail: 'desk@barber.test',
      language: 'en',
    });
    await world.staffWithGoogle('sam');
    await world.staffWithGoogle('tom');
    const client = 'ana.lifecycle@client.test';

    replayable.push(`appt:${world.tenantId}:visit-1`);
    const created = await world.put('visit-1', {
      revision: 1,
      staffIds: ['sam'],
      title: 'Haircut',
      ...visit({ clientEmail: client }),
    });
    expect(created.status).toBe(202);
    const synced = await world.waitSynced('visit-1', 1);
    const target = emailTarget(synced);
    const uid = clientInvitationTarget(world.tenantId, 'visit-1').remoteId;
    expect(target).toMatchObject({
      provider: 'email',
      state: 'synced',
      appliedRevision: 1,
      remoteId: uid,
      lastError: null,
    });
    expect(synced.warnings).toEqual([]);

    const [first] = await mailsTo(client, 1);
    expect(first!.from).toBe('invitations@calsync.test');
    expect(first!.to).toEqual([client]);
    expect(first!.user).toBe('calsync'); // SMTP_USER / SMTP_PASS were used
    expect(first!.parsed.from?.text).toBe('"Barber & Co" <invitations@calsync.test>');
    expect(first!.parsed.replyTo?.text).toBe('desk@barber.test');
    expect(first!.parsed.subject).toBe('Invitation: Haircut – Tuesday, March 5, 2030, 10:00 (Barber & Co)');
    const rows1 = await invitationRows(world, 'visit-1');
    expect(rows1).toHaveLength(1);
    expect(rows1[0]).toMatchObject({ sequence: 0, method: 'REQUEST', email: client, uid });
    expect(first!.parsed.messageId).toBe(rows1[0].message_id);
    expect(rows1[0].message_id).toMatch(/^<invite\.[0-9a-f]{32}\.0@calsync\.test>$/);

    const inv1 = invitation(first!);
    expectITip(inv1, 'REQUEST');
    expect(inv1.event.getFirstPropertyValue('uid')).toBe(uid);
    expect(sequenceOf(inv1)).toBe(0);
    expect(inv1.event.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(inv1.event.getFirstPropertyValue('summary')).toBe('Haircut – Barber & Co');
    expect(inv1.event.getFirstPropertyValue('location')).toBe('Calle Mayor 1, Madrid');
    expect(inv1.event.getFirstPropertyValue('description')).toBe('Services: Haircut, Beard trim');
    const dtstart = inv1.event.getFirstProperty('dtstart')!;
    expect(dtstart.getParameter('tzid')).toBe('Europe/Madrid');
    expect(dtstart.getFirstValue()!.toString()).toBe(`${DAY}T10:00:00`);
    expect(inv1.event.getFirstProperty('dtend')!.getFirstValue()!.toString()).toBe(`${DAY}T11:00:00`);
    // The VTIMEZONE is a real one: with it, 10:00 in Madrid is 09:00 UTC.
    const event = new ICAL.Event(inv1.event);
    expect(event.startDate.toJSDate().toISOString()).toBe(`${DAY}T09:00:00.000Z`);
    expect(event.endDate.toJSDate().toISOString()).toBe(`${DAY}T10:00:00.000Z`);
    const organizer = inv1.event.getFirstProperty('organizer')!;
    expect(organizer.getFirstValue()).toBe('mailto:desk@barber.test');
    expect(organizer.getParameter('cn')).toBe('Barber & Co');
    expect(organizer.getParameter('sent-by')).toBe('mailto:invitations@calsync.test');
    const attendee = inv1.event.getFirstProperty('attendee')!;
    expect(String(attendee.getFirstValue()).toLowerCase()).toBe(`mailto:${client}`);
    expect(attendee.getParameter('cn')).toBe('Ana García');
    expect(attendee.getParameter('partstat')).toBe('NEEDS-ACTION');
    // Readable parts, in English, with add-to-calendar links; the internal note stays internal.
    const text = first!.parsed.text!;
    expect(text).toContain(
      'Hello Ana García,\n\nYour appointment with Barber & Co is booked:\n\n  Haircut\n  When: Tuesday, March 5, 2030, 10:00–11:00 (Europe/Madrid)\n  Where: Calle Mayor 1, Madrid\n  Services: Haircut, Beard trim\n',
    );
    expect(text).toContain(
      '  Google Calendar: https://calendar.google.com/calendar/render?action=TEMPLATE&text=Haircut+%E2%80%93+Barber+%26+Co&dates=20300305T090000Z%2F20300305T100000Z&ctz=Europe%2FMadrid&location=Calle+Mayor+1%2C+Madrid\n',
    );
    expect(text).toContain(
      '  Outlook: https://outlook.live.com/calendar/0/action/compose?rru=addevent&subject=Haircut+%E2%80%93+Barber+%26+Co&startdt=2030-03-05T10%3A00%3A00%2B01%3A00&enddt=2030-03-05T11%3A00%3A00%2B01%3A00&location=Calle+Mayor+1%2C+Madrid\n',
    );
    const html = first!.parsed.html as string;
    expect(html).toContain('<p>Hello Ana García,</p>');
    expect(html).toContain(
      '<a href="https://calendar.google.com/calendar/render?action=TEMPLATE&amp;text=Haircut+%E2%80%93+Barber+%26+Co',
    );
    expect(html).toContain('Barber &amp; Co');
    for (const part of [text, html, inv1.ics]) expect(part).not.toContain('window seat');

    // Moved: a new REQUEST, same UID, higher SEQUENCE.
    await world.put('visit-1', {
      revision: 2,
      staffIds: ['sam'],
      title: 'Haircut',
      ...visit({ clientEmail: client, start: `${DAY}T12:00:00`, end: `${DAY}T13:00:00` }),
    });
    await world.waitSynced('visit-1', 2);
    const [, second] = await mailsTo(client, 2);
    expect(second!.parsed.subject).toBe('Updated invitation: Haircut – Tuesday, March 5, 2030, 12:00 (Barber & Co)');
    const inv2 = invitation(second!);
    expectITip(inv2, 'REQUEST');
    expect(inv2.event.getFirstPropertyValue('uid')).toBe(uid);
    expect(sequenceOf(inv2)).toBe(1);
    expect(inv2.event.getFirstProperty('dtstart')!.getFirstValue()!.toString()).toBe(`${DAY}T12:00:00`);
    expect(second!.parsed.text).toContain('Your appointment with Barber & Co has changed:');
    expect(second!.parsed.messageId).not.toBe(first!.parsed.messageId);

    // What the client does not see: an internal note, then another staff member. No mail.
    await world.put('visit-1', {
      revision: 3,
      staffIds: ['sam'],
      title: 'Haircut',
      description: 'Internal: pays by card',
      ...visit({ clientEmail: client, start: `${DAY}T12:00:00`, end: `${DAY}T13:00:00` }),
    });
    await world.waitSynced('visit-1', 3);
    await world.put('visit-1', {
      revision: 4,
      staffIds: ['tom'],
      title: 'Haircut',
      description: 'Internal: pays by card',
      ...visit({ clientEmail: client, start: `${DAY}T12:00:00`, end: `${DAY}T13:00:00` }),
    });
    const afterReassign = await world.waitSynced('visit-1', 4);
    expect(emailTarget(afterReassign)).toMatchObject({ state: 'synced', appliedRevision: 4 });
    expect(smtp.to(client)).toHaveLength(2);
    const log = (await world.call('GET', '/v1/appointments/visit-1/log')).body.entries.filter(
      (e: any) => e.targetKey === 'email:client',
    );
    expect(log.map((e: any) => [e.revision, e.action, e.result])).toEqual([
      [1, 'request', 'sent'],
      [2, 'request', 'sent'],
      [3, 'request', 'unchanged'],
      [4, 'request', 'unchanged'],
    ]);

    // Cancelled: METHOD:CANCEL, STATUS:CANCELLED, higher SEQUENCE, same UID.
    const cancelled = await world.call('POST', '/v1/appointments/visit-1/cancel', {});
    expect(cancelled.body.revision).toBe(5);
    const afterCancel = await world.waitSynced('visit-1', 5);
    expect(emailTarget(afterCancel)).toMatchObject({ state: 'removed', appliedRevision: 5 });
    const [, , third] = await mailsTo(client, 3);
    expect(third!.parsed.subject).toBe('Cancelled: Haircut – Tuesday, March 5, 2030, 12:00 (Barber & Co)');
    const inv3 = invitation(third!);
    expectITip(inv3, 'CANCEL');
    expect(inv3.event.getFirstPropertyValue('uid')).toBe(uid);
    expect(sequenceOf(inv3)).toBe(2);
    expect(inv3.event.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(third!.parsed.text).toContain('Your appointment with Barber & Co has been cancelled:');
    expect(third!.parsed.text).not.toContain('calendar.google.com');

    // Deleted after the cancellation: the client's calendar has nothing left to lose.
    await world.call('DELETE', '/v1/appointments/visit-1');
    await world.waitSynced('visit-1', 6);
    expect(smtp.to(client)).toHaveLength(3);
    expect((await invitationRows(world, 'visit-1')).map((r: any) => [r.sequence, r.method])).toEqual([
      [0, 'REQUEST'],
      [1, 'REQUEST'],
      [2, 'CANCEL'],
    ]);
  });

  test('Spanish templates; a delete cancels; a new address gets the event and the old one loses it', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      ...INVITES,
      businessName: 'Salón Lola',
      organizerEmail: 'hola@salonlola.test',
      language: 'es',
    });
    await world.staffWithGoogle('lola');
    const first = 'lucia@client.test';
    const second = 'lucia.nueva@client.test';

    replayable.push(`appt:${world.tenantId}:cita-1`);
    await world.put('cita-1', {
      revision: 1,
      staffIds: ['lola'],
      title: 'Corte',
      clientName: 'Lucía',
      ...visit({ clientEmail: first, start: '2030-07-09T10:00:00', end: '2030-07-09T11:00:00' }),
    });
    await world.waitSynced('cita-1', 1);
    const [mail] = await mailsTo(first, 1);
    expect(mail!.parsed.subject).toBe('Invitación: Corte – martes, 9 de julio de 2030, 10:00 (Salón Lola)');
    expect(mail!.parsed.text).toContain(
      'Hola, Lucía:\n\nTu cita con Salón Lola está reservada:\n\n  Corte\n  Cuándo: martes, 9 de julio de 2030, 10:00–11:00 (Europe/Madrid)\n  Dónde: Calle Mayor 1, Madrid\n  Servicios: Haircut, Beard trim\n',
    );
    expect(mail!.parsed.text).toContain('Añádela a tu calendario con la invitación de este correo o con un enlace:');
    expect(mail!.parsed.html).toContain('<html lang="es">');
    const inv = invitation(mail!);
    expectITip(inv, 'REQUEST');
    expect(inv.calendar.getFirstPropertyValue('prodid')).toBe('-//calsync//client-invitations//ES');
    expect(inv.event.getFirstProperty('organizer')!.getParameter('cn')).toBe('Salón Lola');
    // Summer time: 10:00 in Madrid is 08:00 UTC.
    expect(new ICAL.Event(inv.event).startDate.toJSDate().toISOString()).toBe('2030-07-09T08:00:00.000Z');

    // The client's address changes: CANCEL to the old one, then a fresh REQUEST to the new one.
    await world.put('cita-1', {
      revision: 2,
      staffIds: ['lola'],
      title: 'Corte',
      clientName: 'Lucía',
      ...visit({ clientEmail: second, start: '2030-07-09T10:00:00', end: '2030-07-09T11:00:00' }),
    });
    await world.waitSynced('cita-1', 2);
    const [, cancelOld] = await mailsTo(first, 2);
    const [toNew] = await mailsTo(second, 1);
    expect(cancelOld!.parsed.subject).toBe('Cancelada: Corte – martes, 9 de julio de 2030, 10:00 (Salón Lola)');
    expect(sequenceOf(invitation(cancelOld!))).toBe(1);
    expectITip(invitation(cancelOld!), 'CANCEL');
    expect(toNew!.parsed.subject).toBe('Invitación: Corte – martes, 9 de julio de 2030, 10:00 (Salón Lola)');
    const newInv = invitation(toNew!);
    expect(sequenceOf(newInv)).toBe(2);
    expect(newInv.event.getFirstPropertyValue('uid')).toBe(inv.event.getFirstPropertyValue('uid'));

    // Deleted without a cancellation first: a CANCEL all the same.
    await world.call('DELETE', '/v1/appointments/cita-1');
    await world.waitSynced('cita-1', 3);
    const [, cancelNew] = await mailsTo(second, 2);
    const cancelInv = invitation(cancelNew!);
    expectITip(cancelInv, 'CANCEL');
    expect(cancelInv.event.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(sequenceOf(cancelInv)).toBe(3);
    expect(cancelNew!.parsed.text).toContain('Tu cita con Salón Lola ha sido cancelada:');
    expect(smtp.to(first)).toHaveLength(2);
    expect(smtp.to(second)).toHaveLength(2);
  });

  test('a missing e-mail, time zone or setting sends nothing and says so; fixing it and saving again sends the mail', async () => {
    const world = await TenantWorld.create(stack.apiUrl, INVITES);
    await world.staffWithGoogle('uma');
    const client = 'missing@client.test';

    // Neither e-mail nor time zone.
    replayable.push(`appt:${world.tenantId}:m-1`);
    await world.put('m-1', {
      revision: 1,
      staffIds: ['uma'],
      ...visit({ clientEmail: undefined, locationTimeZone: undefined }),
    });
    const s1 = await waitUntil('warnings', async () => {
      const s = await world.status('m-1');
      return s.warnings.length === 2 ? s : undefined;
    });
    expect(s1.warnings.map((w: any) => [w.targetKey, w.errorCode, w.revision])).toEqual([
      ['email:client', 'client_email_missing', 1],
      ['email:client', 'location_time_zone_missing', 1],
    ]);
    expect(s1.warnings[1].errorMessage).toBe(
      'the location has no time zone (locationTimeZone, IANA); no invitation is sent',
    );
    await world.waitSynced('m-1', 1);
    expect(emailTarget(await world.status('m-1'))).toBeUndefined();

    // The e-mail is there now, the time zone is still missing.
    await world.put('m-1', {
      revision: 2,
      staffIds: ['uma'],
      ...visit({ clientEmail: client, locationTimeZone: undefined }),
    });
    const s2 = await waitUntil('warning at revision 2', async () => {
      const s = await world.status('m-1');
      return s.revision === 2 && s.warnings.length > 0 ? s : undefined;
    });
    expect(s2.warnings.map((w: any) => w.errorCode)).toEqual(['location_time_zone_missing']);
    const log = await world.call('GET', '/v1/appointments/m-1/log');
    expect(log.body.warnings.map((w: any) => [w.revision, w.errorCode])).toEqual([
      [1, 'client_email_missing'],
      [1, 'location_time_zone_missing'],
      [2, 'location_time_zone_missing'],
    ]);
    expect(smtp.to(client)).toHaveLength(0);

    // Fixed and saved again: the invitation goes out, and the warnings are gone.
    await world.put('m-1', { revision: 3, staffIds: ['uma'], ...visit({ clientEmail: client }) });
    const s3 = await world.waitSynced('m-1', 3);
    expect(s3.warnings).toEqual([]);
    expect(emailTarget(s3)).toMatchObject({ state: 'synced', appliedRevision: 3 });
    const [mail] = await mailsTo(client, 1);
    expect(sequenceOf(invitation(mail!))).toBe(0);

    // A tenant without the setting: a warning, no mail; switched on and saved again: the mail.
    const off = await TenantWorld.create(stack.apiUrl, {});
    await off.staffWithGoogle('vic');
    const offClient = 'off@client.test';
    await off.put('o-1', { revision: 1, staffIds: ['vic'], ...visit({ clientEmail: offClient }) });
    const o1 = await waitUntil('setting warning', async () => {
      const s = await off.status('o-1');
      return s.warnings.length > 0 ? s : undefined;
    });
    expect(o1.warnings.map((w: any) => [w.errorCode, w.errorMessage])).toEqual([
      [
        'client_invitations_off',
        'client invitations are switched off for this tenant (settings.clientInvitations.enabled); no e-mail is sent',
      ],
    ]);
    await off.waitSynced('o-1', 1);
    expect(smtp.to(offClient)).toHaveLength(0);

    // On, but not for new appointments.
    const partly = await off.call('PUT', '/v1/settings', { clientInvitations: { enabled: true, onCreate: false } });
    expect(partly.status).toBe(200);
    expect(partly.body.clientInvitations).toEqual({ enabled: true, onCreate: false, onChange: true, onCancel: true });
    await off.put('o-1', { revision: 2, staffIds: ['vic'], ...visit({ clientEmail: offClient }) });
    const o2 = await waitUntil('onCreate warning', async () => {
      const s = await off.status('o-1');
      return s.revision === 2 && s.warnings.length > 0 ? s : undefined;
    });
    expect(o2.warnings.map((w: any) => w.errorMessage)).toEqual([
      'client invitations are switched off for this kind of change (settings.clientInvitations.onCreate); no e-mail is sent',
    ]);

    expect((await off.call('PUT', '/v1/settings', { clientInvitations: { enabled: true } })).status).toBe(200);
    await off.put('o-1', { revision: 3, staffIds: ['vic'], ...visit({ clientEmail: offClient }) });
    const o3 = await off.waitSynced('o-1', 3);
    expect(o3.warnings).toEqual([]);
    await mailsTo(offClient, 1);
    expect(smtp.to(offClient)).toHaveLength(1);

    // Bad settings and bodies are refused with the field at fault.
    const bad = await off.call('PUT', '/v1/settings', { language: 'fr' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^language/);
    const badBody = await off.put('o-2', {
      revision: 1,
      staffIds: ['vic'],
      ...visit({ locationTimeZone: 'Mars/Olympus' }),
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body.message).toMatch(/^locationTimeZone/);
  });

  test('SMTP 4xx is retried, connection refused is retried, 5xx fails at once and is listed; none sends twice', async () => {
    const world = await TenantWorld.create(stack.apiUrl, INVITES);
    await world.staffWithGoogle('will');

    // 451 twice, then accepted: one mail, two logged failures, SEQUENCE 0.
    const busy = 'busy@client.test';
    smtp.rejectNext.push(451, 451);
    await world.put('s-1', { revision: 1, staffIds: ['will'], ...visit({ clientEmail: busy }) });
    await world.waitSynced('s-1', 1);
    const [mail] = await mailsTo(busy, 1);
    expect(sequenceOf(invitation(mail!))).toBe(0);
    const log1 = (await world.call('GET', '/v1/appointments/s-1/log')).body.entries.filter(
      (e: any) => e.targetKey === 'email:client',
    );
    expect(log1.map((e: any) => [e.attempt, e.result, e.errorCode])).toEqual([
      [1, 'error', 'smtp_451'],
      [2, 'error', 'smtp_451'],
      [3, 'sent', null],
    ]);
    expect(smtp.rejectNext).toEqual([]);

    // 550: permanent, failed at once, in the failures list with its code; no mail, no sequence used.
    const refused = 'refused@client.test';
    smtp.rejectNext.push(550);
    replayable.push(`appt:${world.tenantId}:s-1`, `appt:${world.tenantId}:s-2`, `appt:${world.tenantId}:s-3`);
    await world.put('s-2', { revision: 1, staffIds: ['will'], ...visit({ clientEmail: refused }) });
    const failed = await waitUntil('failed invitation', async () => {
      const s = await world.status('s-2');
      return s.sync.state === 'failed' ? s : undefined;
    });
    expect(emailTarget(failed)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: { code: 'smtp_550', message: 'Message failed: 550 test server says 550' },
    });
    const failures = await world.call('GET', '/v1/sync-failures?provider=email');
    expect(failures.body.failures.map((f: any) => [f.appointmentId, f.targetKey, f.errorCode, f.attempts])).toEqual([
      ['s-2', 'email:client', 'smtp_550', 1],
    ]);
    expect(smtp.to(refused)).toHaveLength(0);
    expect(await invitationRows(world, 's-2')).toEqual([]);
    // Support replays it once the mailbox is fixed: sent, SEQUENCE 0.
    expect((await world.call('POST', '/v1/appointments/s-2/resync', {})).status).toBe(202);
    await world.waitSynced('s-2', 1);
    const [late] = await mailsTo(refused, 1);
    expect(sequenceOf(invitation(late!))).toBe(0);

    // The server is down: retried until it is back, then exactly one mail.
    const patient = 'patient@client.test';
    await smtp.close();
    try {
      await world.put('s-3', { revision: 1, staffIds: ['will'], ...visit({ clientEmail: patient }) });
      await waitUntil('a refused connection in the log', async () => {
        const s = await world.status('s-3');
        return emailTarget(s)?.lastError?.code === 'smtp_connection' ? s : undefined;
      });
      const retrying = await world.status('s-3');
      expect(emailTarget(retrying).state).toBe('retrying');
    } finally {
      await smtp.listen();
    }
    await world.waitSynced('s-3', 1);
    await mailsTo(patient, 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.to(patient)).toHaveLength(1);
    expect(smtp.to(busy)).toHaveLength(1);
  });

  test('a zone alias is its own TZID with its VTIMEZONE; an unknown zone falls back to UTC times', () => {
    const desired = {
      tenantId: 't',
      appointmentId: 'a',
      revision: 1,
      type: 'appointment',
      status: 'confirmed',
      start: `${DAY}T09:00:00.000Z`,
      end: `${DAY}T10:00:00.000Z`,
      timeZone: 'UTC',
      services: [],
      staffIds: [],
      deleted: false,
    } as DesiredAppointment;
    const base = {
      method: 'REQUEST' as const,
      update: false,
      uid: 'u@calsync',
      sequence: 0,
      desired,
      businessName: 'B',
      organizerEmail: 'o@b.test',
      attendeeEmail: 'c@d.test',
      language: 'en' as const,
    };
    const lines = (timeZone: string) =>
      renderIcs({ ...base, timeZone })
        .split('\r\n')
        // TZID of the VTIMEZONE, and the event's own times (not the observances' DTSTARTs).
        .filter((l, i, all) => /^TZID/.test(l) || (/^(DTSTART|DTEND)/.test(l) && all.indexOf('BEGIN:VEVENT') < i));
    expect(lines('US/Eastern')).toEqual([
      'TZID:US/Eastern',
      'DTSTART;TZID=US/Eastern:20300305T040000',
      'DTEND;TZID=US/Eastern:20300305T050000',
    ]);
    expect(lines('UTC')).toEqual(['TZID:UTC', 'DTSTART;TZID=UTC:20300305T090000', 'DTEND;TZID=UTC:20300305T100000']);
    expect(lines('Not/AZone')).toEqual(['DTSTART:20300305T090000Z', 'DTEND:20300305T100000Z']);
  });

  test('the activity retried after a successful send sends nothing again, even two attempts at once', async () => {
    const world = await TenantWorld.create(stack.apiUrl, INVITES);
    await world.staffWithGoogle('xena');
    const client = 'once@client.test';
    await world.put('x-1', { revision: 1, staffIds: ['xena'], ...visit({ clientEmail: client }) });
    await world.waitSynced('x-1', 1);
    await mailsTo(client, 1);

    const deps = {
      db: testDb(),
      config: loadConfig({ ...process.env, ...mail.env }),
      logger: createLogger('test', 'silent'),
    } as unknown as ActivityDeps;
    const stored = (await testDb()('appointments').where({ tenant_id: world.tenantId, id: 'x-1' }).first('desired'))
      .desired as DesiredAppointment;
    const input = (desired: DesiredAppointment) => ({
      target: clientInvitationTarget(world.tenantId, 'x-1'),
      desired,
      mode: 'upsert' as const,
      maxAttempts: 10,
    });
    const attempt = (desired: DesiredAppointment, n: number): Promise<InvitationResult> =>
      new MockActivityEnvironment({ attempt: n }).run(sendClientInvitation, deps, input(desired));

    // The workflow's attempt succeeded; Temporal retries it anyway (lost completion): nothing new.
    const retried = await attempt(stored, 2);
    expect(retried).toEqual({ outcome: 'unchanged', remoteExists: true, sent: [] });
    expect(smtp.to(client)).toHaveLength(1);

    // A new state, two attempts racing (a timed-out attempt still running beside its retry): one mail.
    const moved: DesiredAppointment = {
      ...stored,
      revision: 2,
      start: `${DAY}T15:00:00.000Z`,
      end: `${DAY}T16:00:00.000Z`,
    };
    const [a, b] = await Promise.all([attempt(moved, 1), attempt(moved, 2)]);
    expect([a.outcome, b.outcome].sort()).toEqual(['sent', 'unchanged']);
    expect([...a.sent, ...b.sent]).toEqual([{ method: 'REQUEST', sequence: 1 }]);
    const again = await attempt(moved, 3);
    expect(again.outcome).toBe('unchanged');
    await new Promise((r) => setTimeout(r, 300));
    const mails = smtp.to(client);
    expect(mails).toHaveLength(2);
    expect(sequenceOf(invitation(mails[1]!))).toBe(1);
    expect(invitation(mails[1]!).event.getFirstProperty('dtstart')!.getFirstValue()!.toString()).toBe(
      `${DAY}T16:00:00`,
    );
    expect((await invitationRows(world, 'x-1')).map((r: any) => [r.sequence, r.method, r.sent_at !== null])).toEqual([
      [0, 'REQUEST', true],
      [1, 'REQUEST', true],
    ]);
  });

  test('the histories of these workflows replay against the current code (determinism of the invitation path)', async () => {
    const client = await temporalClient();
    const histories = await Promise.all(
      replayable.map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const scheduled = histories.flatMap((h) =>
      (h.history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean),
    );
    expect(scheduled).toContain('sendClientInvitation');
    const failures: string[] = [];
    const replayer = Worker.runReplayHistories(
      {
        workflowBundle: { codePath: process.env.CALSYNC_WORKFLOW_BUNDLE! },
        dataConverter: calsyncDataConverter(loadConfig().payloadKeys),
      },
      histories,
    );
    for await (const result of replayer)
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    expect(failures).toEqual([]);
  });
});
