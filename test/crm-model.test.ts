import { controlCall, googleEmulator, microsoftEmulator } from './helpers/emulator';
import { appointmentBody, waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';

const googleControl = controlCall(() => process.env.GOOGLE_EMULATOR_URL!);
const msControl = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);
const googleGuestMail = async (email: string) =>
  (await googleControl('GET', `/_emulator/users/${encodeURIComponent(email)}/guest-mail`)).items;
const outlookMail = async (email: string) =>
  (await msControl('GET', `/_emulator/users/${encodeURIComponent(email)}/mail`)).items;

/** A contact with three addresses, a lead, a user of the tenant, and a company with one of its people. */
const people = [
  {
    kind: 'contact',
    id: 'c1',
    name: 'Carmen Ruiz',
    emails: ['carmen@client.example', 'carmen.home@mail.example', 'carmen.3@mail.example'],
  },
  { kind: 'lead', id: 'l1', name: 'Luis Lead', emails: ['luis@lead.example'] },
  { kind: 'user', id: 'u1', name: 'Uma Staff', emails: ['uma@salon.example'] },
  { kind: 'contact', id: 'c2', name: 'Opted Out', emails: ['nope@client.example'], optedOut: true },
  { kind: 'account', id: 'a1', name: 'Acme', emails: ['office@acme.example'], optedOut: true },
  { kind: 'contact', id: 'c3', name: 'Acme Person', emails: ['person@acme.example'], accountId: 'a1' },
];

const attendeeEmails = (event: any) =>
  (event.attendees ?? []).map((a: any) => a.email ?? a.emailAddress?.address).sort();

/** API → appointmentSync → pushToTarget → emulated Google and Microsoft events: the CRM model's switches. */
describe('CRM model: settings, entity types, attendees, event content', () => {
  const stack = useAppStack();

  describe('settings API', () => {
    test('GET shows the defaults, built-in entity types included; PUT round-trips', async () => {
      const world = await TenantWorld.create(stack.apiUrl);
      const initial = await world.call('GET', '/v1/settings');
      expect(initial.status).toBe(200);
      expect(initial.body.entityTypes).toEqual({
        appointment: { label: 'Appointment', sync: true },
        service_activity: { label: 'Service activity', sync: true },
      });
      expect(initial.body.attendees).toEqual({
        kinds: [],
        emailsPerPerson: 1,
        notifyExternal: false,
        internalDomains: [],
      });
      expect(initial.body.eventContent).toEqual({ privacy: 'full' });

      const put = await world.call('PUT', '/v1/settings', {
        entityTypes: {
          site_visit: { label: 'Site visit', title: '{fields.site}[ – {clientName}]', location: '{fields.address}' },
          service_activity: { sync: false },
        },
        attendees: {
          kinds: ['contact', 'user'],
          emailsPerPerson: 2,
          notifyExternal: true,
          internalDomains: ['Salon.example'],
        },
        eventContent: {
          title: '{type}: {title}',
          privacy: 'full',
          reminders: [{ method: 'popup', minutesBefore: 30 }],
        },
      });
      expect(put.status).toBe(200);
      expect(put.body.entityTypes.site_visit).toEqual({
        label: 'Site visit',
        sync: true,
        title: '{fields.site}[ – {clientName}]',
        location: '{fields.address}',
      });
      expect(put.body.entityTypes.service_activity).toEqual({ label: 'Service activity', sync: false });
      expect(put.body.attendees.internalDomains).toEqual(['salon.example']);
      const { resync: _resync, ...stored } = put.body;
      expect((await world.call('GET', '/v1/settings')).body).toEqual(stored);
    });

    const bad: [string, Record<string, unknown>, string][] = [
      ['unknown template field', { eventContent: { title: '{clientname}' } }, 'eventContent.title'],
      [
        'unbalanced optional part',
        { eventContent: { description: '[Client: {clientName}' } },
        'eventContent.description',
      ],
      ['unknown privacy mode', { eventContent: { privacy: 'secret' } }, 'eventContent.privacy'],
      [
        'too many reminders',
        { eventContent: { reminders: Array(6).fill({ minutesBefore: 10 }) } },
        'eventContent.reminders',
      ],
      [
        'reminder too early',
        { eventContent: { reminders: [{ minutesBefore: 50000 }] } },
        'eventContent.reminders[0].minutesBefore',
      ],
      ['unknown attendee kind', { attendees: { kinds: ['contact', 'supplier'] } }, 'attendees.kinds[1]'],
      ['zero e-mails per person', { attendees: { emailsPerPerson: 0 } }, 'attendees.emailsPerPerson'],
      ['not a domain', { attendees: { internalDomains: ['not a domain'] } }, 'attendees.internalDomains[0]'],
      ['unknown attendee setting', { attendees: { notify: true } }, 'attendees'],
      ['bad entity type name', { entityTypes: { 'Site Visit': { sync: true } } }, 'entityTypes.Site Visit'],
      [
        'entity type sync not a boolean',
        { entityTypes: { site_visit: { sync: 'yes' } } },
        'entityTypes.site_visit.sync',
      ],
      [
        'entity type template field unknown',
        { entityTypes: { site_visit: { title: '{nope}' } } },
        'entityTypes.site_visit.title',
      ],
    ];
    test.each(bad)('%s → 400 naming %s, nothing stored', async (_name, body, field) => {
      const world = await TenantWorld.create(stack.apiUrl);
      const res = await world.call('PUT', '/v1/settings', body);
      expect(res.status).toBe(400);
      expect(res.body.message.startsWith(`${field}:`)).toBe(true);
      expect((await world.call('GET', '/v1/settings')).body.attendees.kinds).toEqual([]);
    });

    const badAppointments: [string, Record<string, unknown>, string][] = [
      [
        'attendee with a bad e-mail',
        { attendees: [{ kind: 'contact', id: 'c1', emails: ['not-an-email'] }] },
        'attendees[0].emails[0]',
      ],
      ['attendee of an unknown kind', { attendees: [{ kind: 'supplier', id: 's1', emails: [] }] }, 'attendees[0].kind'],
      ['all-day with a time', { allDay: true }, 'start'],
      ['a date without allDay', { start: '2030-03-05', end: '2030-03-06' }, 'start'],
      ['client link not a URL', { links: { client: 'crm/clients/1' } }, 'links.client'],
      ['attachment without a URL', { attachments: [{ name: 'Quote' }] }, 'attachments[0].url'],
      ['reminder method unknown', { reminders: [{ method: 'sms', minutesBefore: 10 }] }, 'reminders[0].method'],
      ['syncEnabled not a boolean', { syncEnabled: 'no' }, 'syncEnabled'],
    ];
    test.each(badAppointments)('appointment: %s → 400 naming %s', async (_name, change, field) => {
      const world = await TenantWorld.create(stack.apiUrl);
      const res = await world.call('PUT', '/v1/appointments/bad-1', {
        ...appointmentBody({ revision: 1, staffIds: [] }),
        ...change,
      });
      expect(res.status).toBe(400);
      expect(res.body.message.startsWith(`${field}:`)).toBe(true);
      expect((await world.call('GET', '/v1/appointments/bad-1')).status).toBe(404);
    });
  });

  describe('entity types', () => {
    test('a declared type maps its own fields; a type switched off leaves the calendar; built-ins sync by default', async () => {
      const world = await TenantWorld.create(stack.apiUrl);
      const anna = await world.staffWithGoogle('anna');
      await world.call('PUT', '/v1/settings', {
        entityTypes: {
          site_visit: {
            label: 'Site visit',
            title: '{fields.site} ({type})[ – {clientName}]',
            description: 'Contract {fields.contract}',
            location: '{fields.address}',
          },
        },
      });
      await world.call('PUT', '/v1/appointments/sv-1', {
        ...appointmentBody({ revision: 1, staffIds: ['anna'] }),
        type: 'site_visit',
        fields: { site: 'Warehouse 7', address: 'Polígono Sur 7, Sevilla', contract: 'K-2031' },
      });
      await world.put(
        'act-1',
        { revision: 1, staffIds: ['anna'], type: 'service_activity', title: 'Boiler service' },
        4,
      );
      await world.waitSynced('sv-1', 1);
      await world.waitSynced('act-1', 1);
      const byType = async () =>
        Object.fromEntries(
          (await googleEmulator.liveEvents(anna.calendarId)).map((e) => [
            e.extendedProperties!.private!.calsyncType,
            e,
          ]),
        );
      const events = await byType();
      expect(events.site_visit).toMatchObject({
        summary: 'Warehouse 7 (Site visit) – Ana García',
        location: 'Polígono Sur 7, Sevilla',
        description: 'Contract K-2031',
      });
      expect(events.service_activity).toMatchObject({ summary: 'Boiler service – Ana García' });

      // Service activities off: the re-sync takes them out of the calendar; other types stay.
      const off = await world.call('PUT', '/v1/settings', { entityTypes: { service_activity: { sync: false } } });
      expect(off.body.resync).toEqual({
        state: 'running',
        types: ['service_activity', 'site_visit'],
        progressUrl: '/v1/settings/resync',
      });
      await waitUntil(
        'service activity removed',
        async () => JSON.stringify(Object.keys(await byType())) === '["site_visit"]',
      );
      const status = await world.status('act-1');
      expect(status.sync.targets.map((t: any) => t.state)).toEqual(['removed']);
      expect(status.warnings.map((w: any) => w.errorCode)).toEqual(['entity_type_off']);

      // On again (and the site-visit mapping kept): it comes back.
      await world.call('PUT', '/v1/settings', {
        entityTypes: {
          site_visit: {
            label: 'Site visit',
            title: '{fields.site} ({type})[ – {clientName}]',
            description: 'Contract {fields.contract}',
            location: '{fields.address}',
          },
        },
      });
      await waitUntil(
        'service activity back',
        async () =>
          Object.keys(await byType())
            .sort()
            .join() === 'service_activity,site_visit',
      );
    });

    test('an appointment switched off leaves every remote calendar, Google and Microsoft, and comes back when on', async () => {
      const world = await TenantWorld.create(stack.apiUrl);
      const anna = await world.staffWithGoogle('anna');
      const ben = await world.staffWithMicrosoft('ben');
      await world.put('off-1', { revision: 1, staffIds: ['anna', 'ben'] });
      await world.waitSynced('off-1', 1);
      expect(await googleEmulator.liveEvents(anna.calendarId)).toHaveLength(1);
      expect(await microsoftEmulator.events(ben.email)).toHaveLength(1);

      await world.call('PUT', '/v1/appointments/off-1', {
        ...appointmentBody({ revision: 2, staffIds: ['anna', 'ben'] }),
        syncEnabled: false,
      });
      const off = await world.waitSynced('off-1', 2);
      expect(off.sync.targets.map((t: any) => t.state)).toEqual(['removed', 'removed']);
      expect(off.warnings.map((w: any) => w.errorCode)).toEqual(['appointment_sync_off']);
      expect(await googleEmulator.liveEvents(anna.calendarId)).toEqual([]);
      expect(await microsoftEmulator.events(ben.email)).toEqual([]);

      await world.put('off-1', { revision: 3, staffIds: ['anna', 'ben'] });
      await world.waitSynced('off-1', 3);
      expect(await googleEmulator.liveEvents(anna.calendarId)).toHaveLength(1);
      expect(await microsoftEmulator.events(ben.email)).toHaveLength(1);
    });
  });

  describe('attendees', () => {
    async function attendeeWorld(attendees: Record<string, unknown>) {
      const world = await TenantWorld.create(stack.apiUrl, {});
      const put = await world.call('PUT', '/v1/settings', {
        attendees: { internalDomains: ['salon.example'], ...attendees },
      });
      expect(put.status).toBe(200);
      return world;
    }
    const withPeople = (revision: number, staffIds: string[], extra: Record<string, unknown> = {}) => ({
      ...appointmentBody({ revision, staffIds }),
      attendees: people,
      ...extra,
    });

    test.each([
      [1, ['carmen@client.example', 'luis@lead.example', 'uma@salon.example']],
      [2, ['carmen.home@mail.example', 'carmen@client.example', 'luis@lead.example', 'uma@salon.example']],
      [
        3,
        [
          'carmen.3@mail.example',
          'carmen.home@mail.example',
          'carmen@client.example',
          'luis@lead.example',
          'uma@salon.example',
        ],
      ],
    ])('e-mails per person %i; opted-out people and companies stay out (Google)', async (count, expected) => {
      const world = await attendeeWorld({ kinds: ['contact', 'lead', 'user', 'account'], emailsPerPerson: count });
      const anna = await world.staffWithGoogle('anna');
      await world.call('PUT', '/v1/appointments/att-1', withPeople(1, ['anna']));
      await world.waitSynced('att-1', 1);
      const [event] = await googleEmulator.liveEvents(anna.calendarId);
      expect(attendeeEmails(event)).toEqual(expected);
      expect((event as any).attendees.find((a: any) => a.email === 'luis@lead.example')).toMatchObject({
        displayName: 'Luis Lead',
        responseStatus: 'needsAction',
      });
    });

    test('an entity kind switched off leaves its people out; notifications off mails nobody (Google)', async () => {
      const world = await attendeeWorld({ kinds: ['contact', 'user'], notifyExternal: false });
      const anna = await world.staffWithGoogle('anna');
      await world.call('PUT', '/v1/appointments/att-2', withPeople(1, ['anna']));
      await world.waitSynced('att-2', 1);
      const [event] = await googleEmulator.liveEvents(anna.calendarId);
      expect(attendeeEmails(event)).toEqual(['carmen@client.example', 'uma@salon.example']);
      expect(await googleGuestMail(anna.email)).toEqual([]);

      // Leads on: the next sync adds them.
      await world.call('PUT', '/v1/settings', {
        attendees: { kinds: ['contact', 'user', 'lead'], internalDomains: ['salon.example'] },
      });
      await world.call('PUT', '/v1/appointments/att-2', withPeople(2, ['anna']));
      await world.waitSynced('att-2', 2);
      expect(attendeeEmails((await googleEmulator.liveEvents(anna.calendarId))[0])).toEqual([
        'carmen@client.example',
        'luis@lead.example',
        'uma@salon.example',
      ]);
    });

    test('external notifications on: Google mails the guests once, from one calendar, on create and on cancel', async () => {
      const world = await attendeeWorld({ kinds: ['contact', 'user'], notifyExternal: true });
      const anna = await world.staffWithGoogle('anna');
      const carla = await world.staffWithGoogle('carla');
      await world.call('PUT', '/v1/appointments/att-3', withPeople(1, ['anna', 'carla']));
      await world.waitSynced('att-3', 1);
      const mails = [...(await googleGuestMail(anna.email)), ...(await googleGuestMail(carla.email))];
      expect(mails.map((m: any) => [m.kind, m.sendUpdates, [...m.to].sort()])).toEqual([
        ['invitation', 'externalOnly', ['carmen@client.example', 'uma@salon.example']],
      ]);
      // One copy per guest: the organizer copy carries the attendees, the other staff copy none
      // (each copy is its own event, so a guest would otherwise get the appointment twice).
      const guestsPerCopy = await Promise.all(
        [anna.calendarId, carla.calendarId].map(async (cal) =>
          attendeeEmails((await googleEmulator.liveEvents(cal))[0]),
        ),
      );
      expect(guestsPerCopy.sort((a, b) => b.length - a.length)).toEqual([
        ['carmen@client.example', 'uma@salon.example'],
        [],
      ]);

      // A new title (and a settings re-sync) is nothing to mail guests about; a new time is.
      await world.call('PUT', '/v1/appointments/att-3', withPeople(2, ['anna', 'carla'], { title: 'Renamed' }));
      await world.waitSynced('att-3', 2);
      await world.call('PUT', '/v1/settings', { eventContent: { title: 'Visit: {title}' } });
      await waitUntil(
        're-sync',
        async () => (await world.call('GET', '/v1/settings/resync')).body.state === 'completed',
      );
      await waitUntil(
        'retitled',
        async () => (await googleEmulator.liveEvents(carla.calendarId))[0]?.summary === 'Visit: Renamed',
      );
      await world.call(
        'PUT',
        '/v1/appointments/att-3',
        withPeople(3, ['anna', 'carla'], {
          title: 'Renamed',
          start: appointmentBody({ revision: 3, staffIds: [] }, 3, 12).start,
          end: appointmentBody({ revision: 3, staffIds: [] }, 3, 12).end,
        }),
      );
      await world.waitSynced('att-3', 3);
      const guestMail = async () =>
        [...(await googleGuestMail(anna.email)), ...(await googleGuestMail(carla.email))].map((m: any) => m.kind);
      expect(await guestMail()).toEqual(['invitation', 'update']);

      await world.call('POST', '/v1/appointments/att-3/cancel', {});
      await world.waitSynced('att-3', 4);
      expect(await guestMail()).toEqual(['invitation', 'update', 'cancellation']);
    });

    test('Microsoft, two staff: only the organizer copy carries attendees, so Outlook mails each guest once', async () => {
      const world = await attendeeWorld({ kinds: ['contact', 'user'], notifyExternal: true });
      const bo = await world.staffWithMicrosoft('bo');
      const bu = await world.staffWithMicrosoft('bu');
      await world.call('PUT', '/v1/appointments/att-6', withPeople(1, ['bo', 'bu']));
      await world.waitSynced('att-6', 1);
      const copies = await Promise.all([bo.email, bu.email].map(async (e) => (await microsoftEmulator.events(e))[0]));
      expect(copies.every(Boolean)).toBe(true);
      const guests = copies.map((event) => attendeeEmails(event));
      expect(guests.sort((a, b) => b.length - a.length)).toEqual([['carmen@client.example', 'uma@salon.example'], []]);
      const mails = [...(await outlookMail(bo.email)), ...(await outlookMail(bu.email))];
      expect(mails.map((m: any) => [m.kind, [...m.to].sort()])).toEqual([
        ['invitation', ['carmen@client.example', 'uma@salon.example']],
      ]);
    });

    test('Microsoft: internal attendees always, external ones only with notifications on (Outlook mails every attendee)', async () => {
      const quiet = await attendeeWorld({ kinds: ['contact', 'user'], notifyExternal: false });
      const ben = await quiet.staffWithMicrosoft('ben');
      await quiet.call('PUT', '/v1/appointments/att-4', withPeople(1, ['ben']));
      await quiet.waitSynced('att-4', 1);
      expect(attendeeEmails((await microsoftEmulator.events(ben.email))[0])).toEqual(['uma@salon.example']);
      expect((await outlookMail(ben.email)).map((m: any) => m.to)).toEqual([['uma@salon.example']]);

      const loud = await attendeeWorld({ kinds: ['contact', 'user'], notifyExternal: true, emailsPerPerson: 2 });
      const bea = await loud.staffWithMicrosoft('bea');
      await loud.call('PUT', '/v1/appointments/att-5', withPeople(1, ['bea']));
      await loud.waitSynced('att-5', 1);
      const [event] = await microsoftEmulator.events(bea.email);
      expect(attendeeEmails(event)).toEqual(['carmen.home@mail.example', 'carmen@client.example', 'uma@salon.example']);
      expect(
        (event as any).attendees.find((a: any) => a.emailAddress.address === 'carmen@client.example').emailAddress.name,
      ).toBe('Carmen Ruiz');
      expect((await outlookMail(bea.email)).map((m: any) => [m.kind, [...m.to].sort()])).toEqual([
        ['invitation', ['carmen.home@mail.example', 'carmen@client.example', 'uma@salon.example']],
      ]);

      // Switched off: the event leaves, and Outlook tells its attendees.
      await loud.call('PUT', '/v1/appointments/att-5', withPeople(2, ['bea'], { syncEnabled: false }));
      await loud.waitSynced('att-5', 2);
      expect(await microsoftEmulator.events(bea.email)).toEqual([]);
      expect((await outlookMail(bea.email)).map((m: any) => m.kind)).toEqual(['invitation', 'cancellation']);
    });

    test('the client who gets calsync’s own e-mail invitation is never also an attendee', async () => {
      const world = await TenantWorld.create(stack.apiUrl, { clientInvitations: { enabled: true } });
      await world.call('PUT', '/v1/settings', { attendees: { kinds: ['contact'], notifyExternal: true } });
      const anna = await world.staffWithGoogle('anna');
      await world.call(
        'PUT',
        '/v1/appointments/att-6',
        withPeople(1, ['anna'], { clientEmail: 'carmen@client.example' }),
      );
      await world.waitSynced('att-6', 1);
      expect(attendeeEmails((await googleEmulator.liveEvents(anna.calendarId))[0])).toEqual([]);
    });
  });

  describe('event content', () => {
    test('templates, links, attachments, reminders and all-day events, in Google and Microsoft', async () => {
      const world = await TenantWorld.create(stack.apiUrl);
      const anna = await world.staffWithGoogle('anna');
      const ben = await world.staffWithMicrosoft('ben');
      await world.call('PUT', '/v1/settings', {
        eventContent: {
          title: '{services}[ · {clientName}]',
          description:
            '[Client: {clientName}]\n[Open in CRM: {clientLink}]\n[Quote: {documentLink}]\n[Files:\n{attachments}]',
          reminders: [{ method: 'popup', minutesBefore: 10 }],
        },
      });
      await world.call('PUT', '/v1/appointments/c-1', {
        ...appointmentBody({ revision: 1, staffIds: ['anna', 'ben'] }),
        links: { client: 'https://crm.example/clients/42', document: 'https://crm.example/quotes/7' },
        attachments: [{ name: 'Floor plan', url: 'https://files.example/plan.pdf' }],
        reminders: [
          { method: 'email', minutesBefore: 1440 },
          { method: 'popup', minutesBefore: 30 },
        ],
      });
      await world.call('PUT', '/v1/appointments/c-2', {
        ...appointmentBody({ revision: 1, staffIds: ['anna', 'ben'], title: 'Inventory' }),
        services: [],
        allDay: true,
        start: '2030-03-05',
        end: '2030-03-07',
        timeZone: 'Europe/Madrid',
      });
      await world.waitSynced('c-1', 1);
      await world.waitSynced('c-2', 1);
      const google = Object.fromEntries(
        (await googleEmulator.liveEvents(anna.calendarId)).map((e) => [
          e.extendedProperties!.private!.calsyncId.split(':')[1],
          e as any,
        ]),
      );
      expect(google['c-1']).toMatchObject({
        summary: 'Haircut, Beard trim · Ana García',
        description:
          'Client: Ana García\nOpen in CRM: https://crm.example/clients/42\nQuote: https://crm.example/quotes/7\nFiles:\n- Floor plan: https://files.example/plan.pdf',
        reminders: {
          useDefault: false,
          overrides: [
            { method: 'email', minutes: 1440 },
            { method: 'popup', minutes: 30 },
          ],
        },
      });
      // The tenant's reminders where the appointment has none; an all-day event is dates, end exclusive.
      expect(google['c-2']).toMatchObject({
        start: { date: '2030-03-05' },
        end: { date: '2030-03-07' },
        reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 10 }] },
      });

      const graph = Object.fromEntries(
        (await microsoftEmulator.events(ben.email)).map((e) => [
          microsoftEmulator.tag(e, 'calsyncId')!.split(':')[1],
          e as any,
        ]),
      );
      expect(graph['c-1']).toMatchObject({
        subject: 'Haircut, Beard trim · Ana García',
        isReminderOn: true,
        reminderMinutesBeforeStart: 1440,
      });
      expect(graph['c-1'].body.content).toContain('Quote: https://crm.example/quotes/7');
      expect(graph['c-2']).toMatchObject({
        isAllDay: true,
        start: { dateTime: '2030-03-05T00:00:00.0000000', timeZone: 'Romance Standard Time' },
        end: { dateTime: '2030-03-07T00:00:00.0000000', timeZone: 'Romance Standard Time' },
        reminderMinutesBeforeStart: 10,
      });
      // calsync's projection keeps the instants (busy time, backfill) at the zone's midnights.
      const status = await world.status('c-2');
      expect([status.start, status.end]).toEqual(['2030-03-04T23:00:00.000Z', '2030-03-06T23:00:00.000Z']);
    });

    test('privacy mode writes only "Busy": no client, description, location or attendees', async () => {
      const world = await TenantWorld.create(stack.apiUrl);
      await world.call('PUT', '/v1/settings', {
        eventContent: { privacy: 'busy' },
        attendees: { kinds: ['contact'], notifyExternal: true },
      });
      const anna = await world.staffWithGoogle('anna');
      const ben = await world.staffWithMicrosoft('ben');
      await world.call('PUT', '/v1/appointments/p-1', {
        ...appointmentBody({ revision: 1, staffIds: ['anna', 'ben'] }),
        attendees: people,
      });
      await world.waitSynced('p-1', 1);
      const [g] = (await googleEmulator.liveEvents(anna.calendarId)) as any[];
      expect([g.summary, g.description, g.location, g.visibility, g.attendees ?? []]).toEqual([
        'Busy',
        '',
        undefined,
        'private',
        [],
      ]);
      const [m] = (await microsoftEmulator.events(ben.email)) as any[];
      expect([m.subject, m.body.content, m.location.displayName, m.sensitivity, m.attendees]).toEqual([
        'Busy',
        '',
        '',
        'private',
        [],
      ]);
      await waitUntil(
        'no mail',
        async () => (await googleGuestMail(anna.email)).length === 0 && (await outlookMail(ben.email)).length === 0,
      );
    });
  });

  describe('settings re-sync', () => {
    test('a new title template reaches every future appointment in the background, not past ones; progress is queryable', async () => {
      const world = await TenantWorld.create(stack.apiUrl);
      const anna = await world.staffWithGoogle('anna');
      const ben = await world.staffWithMicrosoft('ben');
      for (let i = 1; i <= 3; i++)
        await world.put(`f-${i}`, { revision: 1, staffIds: ['anna', 'ben'], title: `Visit ${i}` }, i + 1);
      await world.put('past', { revision: 1, staffIds: ['anna'], title: 'Old visit' }, -3);
      // Two weekly series that began three weeks ago: one ended after two visits, one runs on.
      await world.call('PUT', '/v1/appointments/ended-series', {
        ...appointmentBody({ revision: 1, staffIds: ['anna'], title: 'Ended course' }, -21),
        recurrence: { rrule: 'FREQ=WEEKLY;COUNT=2' },
      });
      await world.call('PUT', '/v1/appointments/open-series', {
        ...appointmentBody({ revision: 1, staffIds: ['anna'], title: 'Weekly course' }, -21),
        recurrence: { rrule: 'FREQ=WEEKLY' },
      });
      for (const id of ['f-1', 'f-2', 'f-3', 'past', 'ended-series', 'open-series']) await world.waitSynced(id, 1);

      // Not a content setting: nothing to re-sync.
      const language = await world.call('PUT', '/v1/settings', { language: 'es' });
      expect(language.body.resync).toBeUndefined();
      expect((await world.call('GET', '/v1/settings/resync')).status).toBe(404);

      const put = await world.call('PUT', '/v1/settings', { eventContent: { title: '[{clientName}: ]{title}' } });
      expect(put.body.resync).toEqual({ state: 'running', progressUrl: '/v1/settings/resync' });
      await waitUntil(
        're-sync completed',
        async () => (await world.call('GET', '/v1/settings/resync')).body.state === 'completed',
      );
      // The series that runs on is re-synced; the one that ended, like the past visit, is left as it was.
      expect((await world.call('GET', '/v1/settings/resync')).body).toMatchObject({
        state: 'completed',
        total: 4,
        resynced: 4,
      });
      const want = ['Ana García: Visit 1', 'Ana García: Visit 2', 'Ana García: Visit 3'];
      await waitUntil('Google events renamed', async () => {
        const titles = (await googleEmulator.liveEvents(anna.calendarId)).map((e) => e.summary).sort();
        return (
          JSON.stringify(titles) ===
          JSON.stringify(
            [...want, 'Ana García: Weekly course', 'Ended course – Ana García', 'Old visit – Ana García'].sort(),
          )
        );
      });
      await waitUntil(
        'Graph events renamed',
        async () =>
          JSON.stringify((await microsoftEmulator.events(ben.email)).map((e) => e.subject).sort()) ===
          JSON.stringify(want),
      );
    });
  });
});
