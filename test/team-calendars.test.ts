import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { appointmentBody, waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';

/**
 * A tenant with Anna (Google) and Ben (Microsoft), and two accounts to back team calendars: the office
 * calendar (a secondary calendar of the front desk's Google account) and the workshop calendar (the
 * default calendar of the workshop's Microsoft 365 mailbox).
 */
async function twoStaffAndTwoTeamAccounts(apiUrl: string) {
  const world = await TenantWorld.create(apiUrl);
  const anna = await world.staffWithGoogle('anna');
  const ben = await world.staffWithMicrosoft('ben');
  await world.call('PUT', '/v1/staff/frontdesk', { name: 'Front desk' });
  const office = await googleEmulator.userWithSecondaryCalendar('Office');
  const officeLink = await world.call('POST', '/v1/staff/frontdesk/links/google', {
    accountEmail: office.email,
    refreshToken: office.refreshToken,
  });
  await world.linkConnected(officeLink.body.id);
  const workshop = await world.staffWithMicrosoft('workshop');
  return { world, anna, ben, office, officeLink, workshop };
}

/** API → appointmentSync (team calendars planned with staff calendars) → Google and Graph emulators. */
describe('team calendars', () => {
  const stack = useAppStack();

  test('an appointment in two team calendars and for two staff members lands in four calendars; moving it out of one removes it only there', async () => {
    const { world, anna, ben, office, officeLink, workshop } = await twoStaffAndTwoTeamAccounts(stack.apiUrl);

    const badLink = await world.call('PUT', '/v1/calendars/office', { name: 'Office', linkId: 'nope' });
    expect([badLink.status, badLink.body.message]).toEqual([400, 'linkId: unknown or disconnected calendar link']);
    const badMember = await world.call('PUT', '/v1/calendars/office', {
      name: 'Office',
      linkId: officeLink.body.id,
      members: [{ staffId: 'ghost', access: 'read' }],
    });
    expect([badMember.status, badMember.body.message]).toEqual([
      400,
      'members[0].staffId: unknown staff member "ghost"',
    ]);
    const put = await world.call('PUT', '/v1/calendars/office', {
      name: 'Office',
      linkId: officeLink.body.id,
      remoteCalendarId: office.calendarId,
      members: [
        { staffId: 'anna', access: 'write' },
        { staffId: 'ben', access: 'read' },
      ],
    });
    expect(put.status).toBe(200);
    await world.call('PUT', '/v1/calendars/workshop', {
      name: 'Workshop',
      linkId: workshop.linkId,
      members: [{ staffId: 'workshop', access: 'write' }],
    });
    expect(
      (await world.call('GET', '/v1/calendars')).body.calendars.map((c: any) => [
        c.id,
        c.remoteCalendarId,
        c.members.length,
      ]),
    ).toEqual([
      ['office', office.calendarId, 2],
      ['workshop', null, 1],
    ]);

    const unknown = await world.call('PUT', '/v1/appointments/t-1', {
      ...appointmentBody({ revision: 1, staffIds: ['anna', 'ben'] }),
      calendarIds: ['office', 'attic'],
    });
    expect([unknown.status, unknown.body.message]).toEqual([400, 'calendarIds[1]: unknown team calendar "attic"']);

    await world.call('PUT', '/v1/appointments/t-1', {
      ...appointmentBody({ revision: 1, staffIds: ['anna', 'ben'] }),
      calendarIds: ['office', 'workshop'],
    });
    const synced = await world.waitSynced('t-1', 1);
    expect(synced.sync.targets).toHaveLength(4);
    const count = async () => [
      (await googleEmulator.liveEvents(anna.calendarId)).length,
      (await microsoftEmulator.events(ben.email)).length,
      (await googleEmulator.liveEvents(office.calendarId)).length,
      (await microsoftEmulator.events(workshop.email)).length,
    ];
    expect(await count()).toEqual([1, 1, 1, 1]);
    // The front desk's own (primary) calendar is not the office calendar.
    expect(await googleEmulator.liveEvents(office.email)).toEqual([]);

    // Out of the workshop calendar: removed there only.
    await world.call('PUT', '/v1/appointments/t-1', {
      ...appointmentBody({ revision: 2, staffIds: ['anna', 'ben'] }),
      calendarIds: ['office'],
    });
    const moved = await world.waitSynced('t-1', 2);
    expect(moved.sync.targets.map((t: any) => t.state).sort()).toEqual(['removed', 'synced', 'synced', 'synced']);
    expect(await count()).toEqual([1, 1, 1, 0]);
    const [officeEvent] = await googleEmulator.liveEvents(office.calendarId);
    expect(officeEvent!.summary).toBe('Haircut – Ana García');

    // Moved to the workshop instead.
    await world.call('PUT', '/v1/appointments/t-1', {
      ...appointmentBody({ revision: 3, staffIds: ['anna', 'ben'] }),
      calendarIds: ['workshop'],
    });
    await world.waitSynced('t-1', 3);
    expect(await count()).toEqual([1, 1, 0, 1]);

    // The workshop calendar now lives in the office account: its appointment moves there by itself.
    const rebacked = await world.call('PUT', '/v1/calendars/workshop', {
      name: 'Workshop',
      linkId: officeLink.body.id,
      remoteCalendarId: office.calendarId,
    });
    expect(rebacked.body.moving).toBe(true);
    await waitUntil('moved to the new backing', async () => JSON.stringify(await count()) === '[1,1,1,0]');
  });

  test('an event shared with people outside its calendars lands in theirs too, without making them busy; unsharing removes it only there', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const anna = await world.staffWithGoogle('anna');
    const ben = await world.staffWithMicrosoft('ben');
    const carla = await world.staffWithGoogle('carla');

    const unknown = await world.call('PUT', '/v1/appointments/s-1', {
      ...appointmentBody({ revision: 1, staffIds: ['anna'] }),
      sharedWithStaffIds: ['ben', 'ghost'],
    });
    expect([unknown.status, unknown.body.message]).toEqual([
      400,
      'sharedWithStaffIds[1]: unknown staff member "ghost"',
    ]);

    await world.call('PUT', '/v1/appointments/s-1', {
      ...appointmentBody({ revision: 1, staffIds: ['anna'] }),
      sharedWithStaffIds: ['ben', 'carla'],
    });
    const synced = await world.waitSynced('s-1', 1);
    expect(synced.sync.targets).toHaveLength(3);
    const count = async () => [
      (await googleEmulator.liveEvents(anna.calendarId)).length,
      (await microsoftEmulator.events(ben.email)).length,
      (await googleEmulator.liveEvents(carla.calendarId)).length,
    ];
    expect(await count()).toEqual([1, 1, 1]);

    // Sharing is not attending: only the assigned staff member is busy.
    const [day] = (appointmentBody({ revision: 1, staffIds: ['anna'] }).start as string).split('T');
    const window = `from=${day}T00:00:00Z&to=${day}T23:59:59Z&timeZone=UTC`;
    expect((await world.call('GET', `/v1/staff/anna/busy?${window}`)).body.busy).toHaveLength(1);
    expect((await world.call('GET', `/v1/staff/carla/busy?${window}`)).body.busy).toEqual([]);

    // No longer shared with Carla: her copy goes, the others stay.
    await world.call('PUT', '/v1/appointments/s-1', {
      ...appointmentBody({ revision: 2, staffIds: ['anna'] }),
      sharedWithStaffIds: ['ben'],
    });
    await world.waitSynced('s-1', 2);
    expect(await count()).toEqual([1, 1, 0]);
  });

  test('members get read or write access to the team calendar at the provider; calsync takes back only what it shared', async () => {
    const { world, anna, ben, office, officeLink, workshop } = await twoStaffAndTwoTeamAccounts(stack.apiUrl);

    // Someone shared the office calendar by hand: not calsync's to take back.
    const handMade = await fetch(
      `${process.env.GOOGLE_EMULATOR_URL}/calendar/v3/calendars/${encodeURIComponent(office.calendarId)}/acl`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${office.accessToken}` },
        body: JSON.stringify({ role: 'reader', scope: { type: 'user', value: 'accountant@example.test' } }),
      },
    );
    expect(handMade.status).toBe(200);

    const saved = async (id: string, body: Record<string, unknown>) => {
      const before = (await world.call('GET', `/v1/calendars/${id}`)).body?.sharing?.sharedAt ?? null;
      expect((await world.call('PUT', `/v1/calendars/${id}`, body)).status).toBe(200);
      return waitUntil(`calendar ${id} shared`, async () => {
        const { sharing } = (await world.call('GET', `/v1/calendars/${id}`)).body;
        return sharing.sharedAt && sharing.sharedAt !== before ? sharing : undefined;
      });
    };
    const officeRules = async () =>
      (await googleEmulator.acl(office.calendarId))
        .map((r) => [r.scope.value, r.role])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));

    const first = await saved('office', {
      name: 'Office',
      linkId: officeLink.body.id,
      remoteCalendarId: office.calendarId,
      members: [
        { staffId: 'anna', access: 'write' },
        { staffId: 'ben', access: 'read' },
        { staffId: 'frontdesk', access: 'write' },
      ],
    });
    expect(first).toMatchObject({ sharedWith: [anna.email, ben.email], error: null });
    expect(await officeRules()).toEqual(
      [
        ['accountant@example.test', 'reader'],
        [anna.email, 'writer'],
        [ben.email, 'reader'],
        [office.email, 'owner'],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );

    // Anna only reads now and Ben is no longer a member: his access goes, the accountant's stays.
    await saved('office', {
      name: 'Office',
      linkId: officeLink.body.id,
      remoteCalendarId: office.calendarId,
      members: [{ staffId: 'anna', access: 'read' }],
    });
    expect(await officeRules()).toEqual(
      [
        ['accountant@example.test', 'reader'],
        [anna.email, 'reader'],
        [office.email, 'owner'],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );

    // The office moves to another account's calendar: the old calendar loses calsync's shares, the new one gets them.
    await world.call('PUT', '/v1/staff/frontdesk2', { name: 'Front desk 2' });
    const office2 = await googleEmulator.userWithSecondaryCalendar('Office 2');
    const office2Link = await world.call('POST', '/v1/staff/frontdesk2/links/google', {
      accountEmail: office2.email,
      refreshToken: office2.refreshToken,
    });
    await world.linkConnected(office2Link.body.id);
    const movedTo = await saved('office', {
      name: 'Office',
      linkId: office2Link.body.id,
      remoteCalendarId: office2.calendarId,
      members: [{ staffId: 'anna', access: 'read' }],
    });
    expect(movedTo).toMatchObject({ sharedWith: [anna.email], error: null });
    expect(await officeRules()).toEqual(
      [
        ['accountant@example.test', 'reader'],
        [office.email, 'owner'],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(
      (await googleEmulator.acl(office2.calendarId))
        .map((r) => [r.scope.value, r.role])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual(
      [
        [anna.email, 'reader'],
        [office2.email, 'owner'],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );

    // Deleted: its appointment leaves it (and only it), its members lose their access, nobody can name it again.
    await world.call('PUT', '/v1/appointments/in-office', {
      ...appointmentBody({ revision: 1, staffIds: ['anna'] }),
      calendarIds: ['office'],
    });
    await world.waitSynced('in-office', 1);
    expect(await googleEmulator.liveEvents(office2.calendarId)).toHaveLength(1);
    expect((await world.call('DELETE', '/v1/calendars/office')).status).toBe(202);
    expect((await world.call('DELETE', '/v1/calendars/office')).status).toBe(404);
    expect((await world.call('GET', '/v1/calendars/office')).status).toBe(404);
    expect((await world.call('GET', '/v1/calendars')).body.calendars.map((c: any) => c.id)).toEqual([]);
    await waitUntil(
      'the office event removed',
      async () => (await googleEmulator.liveEvents(office2.calendarId)).length === 0,
    );
    await waitUntil(
      'the office shares taken back',
      async () => (await googleEmulator.acl(office2.calendarId)).length === 1,
    );
    expect(await googleEmulator.liveEvents(anna.calendarId)).toHaveLength(1);
    const naming = await world.call('PUT', '/v1/appointments/in-office', {
      ...appointmentBody({ revision: 2, staffIds: ['anna'] }),
      calendarIds: ['office'],
    });
    expect([naming.status, naming.body.message]).toEqual([400, 'calendarIds[0]: unknown team calendar "office"']);
    // Saved again: back, with the appointment that still names it.
    await saved('office', {
      name: 'Office',
      linkId: office2Link.body.id,
      remoteCalendarId: office2.calendarId,
      members: [{ staffId: 'anna', access: 'read' }],
    });
    await waitUntil(
      'the office event back',
      async () => (await googleEmulator.liveEvents(office2.calendarId)).length === 1,
    );

    // Outlook: the workshop's default calendar, shared through calendarPermissions.
    await saved('workshop', {
      name: 'Workshop',
      linkId: workshop.linkId,
      members: [
        { staffId: 'anna', access: 'write' },
        { staffId: 'ben', access: 'read' },
      ],
    });
    const permissions = async () =>
      (await microsoftEmulator.permissions(workshop.email))
        .filter((p) => p.isRemovable)
        .map((p) => [p.emailAddress.address, p.role]);
    expect(await permissions()).toEqual([
      [anna.email, 'write'],
      [ben.email, 'read'],
    ]);
    await saved('workshop', {
      name: 'Workshop',
      linkId: workshop.linkId,
      members: [{ staffId: 'ben', access: 'write' }],
    });
    expect(await permissions()).toEqual([[ben.email, 'write']]);
  });
});
