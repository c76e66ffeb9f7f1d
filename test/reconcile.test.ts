import { targetKeyFor } from '../activities/targets';
import { ownerTag } from '../content/eventContent';
import { propertyId } from '../providers/microsoft/eventMapping';
import { appointmentBody, waitUntil } from './helpers/api';
import { controlCall } from './helpers/emulator';
import { googleEmulator, microsoftEmulator, type GoogleEvent, type GraphEvent } from './helpers/emulator';
import { freePort } from '../scripts/stack';
import { startAppStack, type AppStack } from './helpers/stack';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { calsyncDataConverter } from '../lib/payloadCodec';
import { TenantWorld, closeTestClients, testDb } from './helpers/world';

/**
 * Reconciliation end to end: API → reconcileLink workflow → activities → emulator state, and back
 * through the appointment workflows. A short interval and tiny pages, so passes page and repeat.
 */
const INTERVAL_MS = 2000;
const GRACE_MS = 1500;
// replay.test.ts's fixture key: histories recorded here (RECORD_HISTORIES=1) replay there too.
const FIXTURE_PAYLOAD_KEYS = 'fixture1:Y2Fsc3luYy10ZXN0LWZpeHR1cmUta2V5LTMyYnl0ZXM=';
const dataConverter = calsyncDataConverter(FIXTURE_PAYLOAD_KEYS);
// Replay workers start and stop once per history: keep their lifecycle chatter out of the output.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}

describe('reconciliation of calsync events', () => {
  let client: Client;
  let stack: AppStack;
  let metricsPort: number;
  const worlds: TenantWorld[] = [];
  beforeAll(async () => {
    metricsPort = await freePort();
    stack = await startAppStack({
      CALSYNC_PAYLOAD_KEYS: FIXTURE_PAYLOAD_KEYS,
      RECONCILE_INTERVAL_MS: String(INTERVAL_MS),
      RECONCILE_PAGE_SIZE: '2',
      RECONCILE_PAGE_PAUSE_MS: '100',
      RECONCILE_ORPHAN_GRACE_MS: String(GRACE_MS),
      WORKER_METRICS_PORT: String(metricsPort),
      // A short history: every link's workflow continues as new every few passes.
      RECONCILE_CONTINUE_AS_NEW_EVENTS: '80',
    });
    client = new Client({
      connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
      dataConverter,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await client?.connection.close();
    await closeTestClients();
  });
  async function newWorld(settings: Record<string, unknown> = {}): Promise<TenantWorld> {
    const world = await TenantWorld.create(stack.apiUrl, settings, client);
    worlds.push(world);
    return world;
  }
  const googleControl = controlCall(() => process.env.GOOGLE_EMULATOR_URL!);
  const graphControl = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);
  const day = (offset = 3) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
  const hh = (hour: number) => String(hour).padStart(2, '0');

  async function linkOf(
    world: TenantWorld,
    staffId: string,
  ): Promise<{ id: string; provider: string; account_email: string; calendar_id: string }> {
    return testDb()('calendar_links').where({ tenant_id: world.tenantId, staff_id: staffId }).first();
  }

  /** Waits for a pass of the link that started after `after` and completed (requests one first when asked). */
  async function completedPass(world: TenantWorld, linkId: string, after: Date, opts: { request?: boolean } = {}) {
    if (opts.request) expect((await world.call('POST', `/v1/links/${linkId}/reconcile`)).status).toBe(202);
    return waitUntil(
      `a reconcile pass of ${linkId}`,
      async () => {
        const res = await world.call('GET', `/v1/links/${linkId}/reconcile`);
        const pass = res.body.recentPasses.find(
          (p: any) => p.state === 'completed' && Date.parse(p.startedAt) > after.getTime(),
        );
        return pass;
      },
      30000,
      100,
    );
  }

  /** The completed passes of the link that finished after `after`, oldest first. */
  async function passesSince(world: TenantWorld, linkId: string, after: Date): Promise<any[]> {
    const res = await world.call('GET', `/v1/links/${linkId}/reconcile?limit=100`);
    return res.body.recentPasses
      .filter((p: any) => p.state === 'completed' && Date.parse(p.finishedAt) > after.getTime())
      .reverse();
  }

  /** Waits until the appointment's workflow has written the target since reconciliation last asked it to. */
  async function restoreWritten(world: TenantWorld, appointmentId: string) {
    await waitUntil(
      `${appointmentId} rewritten`,
      async () => {
        const rows = await testDb()('sync_log')
          .where({ tenant_id: world.tenantId, appointment_id: appointmentId })
          .orderBy('id');
        const asked = rows.map((r) => r.result).lastIndexOf('restore_requested');
        return asked >= 0 && rows.slice(asked + 1).some((r) => r.action === 'upsert' && r.result !== 'error');
      },
      30000,
      100,
    );
  }
  const total = (passes: any[], key: string) => passes.reduce((n, p) => n + p[key], 0);

  async function reconcileLog(world: TenantWorld, appointmentId: string) {
    return testDb()('sync_log')
      .where({ tenant_id: world.tenantId, appointment_id: appointmentId, action: 'reconcile' })
      .orderBy('id');
  }

  describe('Google', () => {
    const live = (calendarId: string) => googleEmulator.liveEvents(calendarId);
    const handEdit = (calendarId: string, event: Partial<GoogleEvent> & { id: string }) =>
      googleControl('POST', `/_emulator/calendars/${encodeURIComponent(calendarId)}/events`, event);

    test('an event moved and retitled by hand is restored by the periodic pass', async () => {
      const world = await newWorld();
      const anna = await world.staffWithGoogle('anna');
      await world.put('visit-1', { revision: 1, staffIds: ['anna'] });
      await world.waitSynced('visit-1', 1);
      const [original] = await live(anna.calendarId);
      const link = await linkOf(world, 'anna');
      expect(original!.extendedProperties?.private?.calsyncOwner).toBe(ownerTag(world.tenantId, targetKeyFor(link)));

      const movedAt = new Date();
      await handEdit(anna.calendarId, {
        id: original!.id,
        summary: 'Lunch',
        start: { dateTime: `${day()}T14:00:00+01:00` },
        end: { dateTime: `${day()}T15:00:00+01:00` },
      });
      // No request: the interval brings the pass.
      await waitUntil(
        'the moved event restored',
        async () => {
          const [event] = await live(anna.calendarId);
          return (
            event &&
            Date.parse(event.start.dateTime!) === Date.parse(original!.start.dateTime!) &&
            event.summary === original!.summary
          );
        },
        30000,
        100,
      );
      await restoreWritten(world, 'visit-1');
      const events = await googleEmulator.events(anna.calendarId);
      expect(events.map((e) => [e.id, e.status, e.summary])).toEqual([
        [original!.id, 'confirmed', 'Haircut – Ana García'],
      ]);
      const log = await reconcileLog(world, 'visit-1');
      expect(log[0]).toMatchObject({
        result: 'restore_requested',
        error_code: 'changed_by_hand',
        provider: 'google',
        remote_id: original!.id,
      });
      expect(log[0].error_message).toContain('start, end, summary');
      const pass = (await world.call('GET', `/v1/links/${link.id}/reconcile`)).body.recentPasses.find(
        (p: any) => p.changed > 0,
      );
      const running = await client.workflow
        .getHandle(`reconcile:${world.tenantId}:${link.id}`)
        .query<any>('reconcileStatus');
      expect(running.passes).toBeGreaterThanOrEqual(1);
      expect(running.lastPass).toMatchObject({ linkId: link.id });
      expect(pass).toMatchObject({
        trigger: 'schedule',
        restore: true,
        changed: 1,
        restoreRequested: 1,
        orphansRemoved: 0,
        state: 'completed',
      });
      expect(Date.parse(pass.finishedAt)).toBeGreaterThan(movedAt.getTime());
      // The restore went through the appointment workflow: its trail shows the rewrite.
      const trail = (await world.call('GET', '/v1/appointments/visit-1/log')).body;
      expect(trail.entries.map((e: any) => [e.action, e.result]).slice(-2)).toEqual([
        ['reconcile', 'restore_requested'],
        ['upsert', 'updated'],
      ]);
    });

    test("a tenant's own title template and privacy: its untouched events are in step, none rewritten", async () => {
      const world = await newWorld({ eventContent: { title: 'Booked: {title}', privacy: 'busy' } });
      const cy = await world.staffWithGoogle('cy');
      for (let i = 1; i <= 3; i++) await world.put(`own-${i}`, { revision: 1, staffIds: ['cy'], title: `Cut ${i}` });
      for (let i = 1; i <= 3; i++) await world.waitSynced(`own-${i}`, 1);
      const link = await linkOf(world, 'cy');
      await googleEmulator.resetStats(cy.email);
      const pass = await completedPass(world, link.id, new Date(), { request: true });
      expect(pass).toMatchObject({ listed: 3, inStep: 3, changed: 0, missing: 0, restoreRequested: 0 });
      expect((await googleEmulator.stats(cy.email)).byOperation['events.update']).toBeUndefined();
      for (let i = 1; i <= 3; i++) expect(await reconcileLog(world, `own-${i}`)).toEqual([]);
    });

    test('a hand-deleted event comes back exactly once; in-step events are left alone', async () => {
      const world = await newWorld();
      const bob = await world.staffWithGoogle('bob');
      // Five appointments: pages of two, so the pass pages three times.
      for (let i = 1; i <= 5; i++) await world.put(`v-${i}`, { revision: 1, staffIds: ['bob'], title: `Visit ${i}` });
      for (let i = 1; i <= 5; i++) await world.waitSynced(`v-${i}`, 1);
      const link = await linkOf(world, 'bob');
      const before = await live(bob.calendarId);
      expect(before).toHaveLength(5);
      const victim = before.find((e) => e.summary === 'Visit 3 – Ana García')!;

      await googleEmulator.resetStats(bob.email);
      const deletedAt = new Date();
      await googleControl('DELETE', `/_emulator/calendars/${encodeURIComponent(bob.calendarId)}/events/${victim.id}`);
      await completedPass(world, link.id, deletedAt, { request: true });
      await waitUntil('the deleted event restored', async () => (await live(bob.calendarId)).length === 5, 30000, 100);
      await restoreWritten(world, 'v-3');

      // Later passes find everything in step and write nothing; never a second copy.
      const settled = await completedPass(world, link.id, new Date(), { request: true });
      expect(settled).toMatchObject({
        listed: 5,
        inStep: 5,
        missing: 0,
        changed: 0,
        restoreRequested: 0,
        orphansRemoved: 0,
        pages: 3,
      });
      // One pass asked for the restore (pages of two over four events), whatever passes ran meanwhile.
      const restoring = (await passesSince(world, link.id, deletedAt)).filter((p) => p.restoreRequested > 0);
      expect(restoring).toEqual([
        expect.objectContaining({
          listed: 4,
          missing: 1,
          restoreRequested: 1,
          changed: 0,
          orphansRemoved: 0,
          pages: 2,
        }),
      ]);
      const all = await googleEmulator.events(bob.calendarId);
      expect(all).toHaveLength(5);
      expect(all.filter((e) => e.summary === 'Visit 3 – Ana García').map((e) => [e.id, e.status])).toEqual([
        [victim.id, 'confirmed'],
      ]);
      const writes = (await googleEmulator.stats(bob.email)).byOperation;
      expect(writes['events.update']?.ok).toBe(1); // the one restore
      expect(writes['events.insert']).toBeUndefined();
      expect(writes['events.delete']).toBeUndefined();
      expect((await reconcileLog(world, 'v-3')).map((r) => [r.result, r.error_code])).toEqual([
        ['restore_requested', 'deleted_by_hand'],
      ]);
    });

    test('with reconcileRestore off the drift is recorded once, and nothing is restored', async () => {
      const world = await newWorld({ reconcileRestore: false });
      const cleo = await world.staffWithGoogle('cleo');
      await world.put('visit-1', { revision: 1, staffIds: ['cleo'] });
      await world.waitSynced('visit-1', 1);
      const [original] = await live(cleo.calendarId);
      const link = await linkOf(world, 'cleo');
      const movedAt = new Date();
      await handEdit(cleo.calendarId, {
        id: original!.id,
        start: { dateTime: `${day()}T16:00:00+01:00` },
        end: { dateTime: `${day()}T17:00:00+01:00` },
      });
      const first = await completedPass(world, link.id, movedAt, { request: true });
      await completedPass(world, link.id, new Date(first.finishedAt), { request: true });
      const passes = await passesSince(world, link.id, movedAt);
      // Every pass that listed after the move sees the drift; only the first records it; none restores.
      const seeing = passes.filter((p) => p.changed === 1);
      expect(seeing.length).toBeGreaterThanOrEqual(2);
      expect(seeing.map((p) => p.driftRecorded)).toEqual([1, ...Array(seeing.length - 1).fill(0)]);
      expect(total(passes, 'restoreRequested')).toBe(0);

      const [still] = await live(cleo.calendarId);
      expect(Date.parse(still!.start.dateTime!)).toBe(Date.parse(`${day()}T16:00:00+01:00`));
      expect((await reconcileLog(world, 'visit-1')).map((r) => [r.result, r.error_code])).toEqual([
        ['warning', 'changed_by_hand'],
      ]);
      // The appointment's status shows it as a warning of the current revision.
      const status = await world.status('visit-1');
      expect(status.warnings).toEqual([
        expect.objectContaining({ errorCode: 'changed_by_hand', targetKey: targetKeyFor(link) }),
      ]);
      expect(status.sync.targets[0].state).toBe('synced');
    });

    test('an orphan is removed; events without the owner tag, or of another tenant, are never touched', async () => {
      const world = await newWorld();
      const dora = await world.staffWithGoogle('dora');
      await world.put('visit-1', { revision: 1, staffIds: ['dora'] });
      await world.put('visit-2', { revision: 1, staffIds: ['dora'], title: 'Deleted' });
      await world.waitSynced('visit-1', 1);
      await world.waitSynced('visit-2', 1);
      const [deleted] = (await live(dora.calendarId)).filter((e) => e.summary === 'Deleted – Ana García');
      expect((await world.call('DELETE', '/v1/appointments/visit-2')).status).toBe(202);
      await world.waitSynced('visit-2', 2);
      const link = await linkOf(world, 'dora');
      const targetKey = targetKeyFor(link);
      const slot = (hour: number) => ({
        start: { dateTime: `${day(4)}T${hh(hour)}:00:00+01:00` },
        end: { dateTime: `${day(4)}T${hh(hour + 1)}:00:00+01:00` },
      });
      const plant = (id: string, hour: number, tags: Record<string, string> | undefined) =>
        googleControl('POST', `/_emulator/calendars/${encodeURIComponent(dora.calendarId)}/events`, {
          id,
          summary: id,
          ...slot(hour),
          ...(tags ? { extendedProperties: { private: tags } } : {}),
        });
      const plantedAt = new Date();
      // Left by a crash: calsync's tags, no appointment.
      await plant('orphan00001', 9, {
        calsyncId: `${world.tenantId}:ghost`,
        calsyncOwner: ownerTag(world.tenantId, targetKey),
      });
      // A deleted appointment's event that came back (a lost delete, a restore from the trash).
      await googleControl('POST', `/_emulator/calendars/${encodeURIComponent(dora.calendarId)}/events`, {
        ...deleted,
        status: 'confirmed',
      });
      // The staff member's own dentist appointment, and one tagged only with calsync's appointment tag.
      await plant('personal0001', 11, undefined);
      await plant('lookalike001', 12, { calsyncId: `${world.tenantId}:ghost` });
      // Another tenant's event in a shared calendar.
      await plant('othertenant1', 13, { calsyncId: 'other:visit-1', calsyncOwner: ownerTag('other', targetKey) });

      await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 200));
      await completedPass(world, link.id, new Date(), { request: true });
      await waitUntil('orphans removed', async () => (await live(dora.calendarId)).length === 4, 30000, 100);
      const pass = await completedPass(world, link.id, new Date(), { request: true });
      expect(pass).toMatchObject({ listed: 1, inStep: 1, missing: 0, changed: 0, orphansRemoved: 0 });
      expect(total(await passesSince(world, link.id, plantedAt), 'orphansRemoved')).toBe(2);
      const remaining = await live(dora.calendarId);
      expect(remaining.map((e) => e.summary).sort()).toEqual([
        'Haircut – Ana García',
        'lookalike001',
        'othertenant1',
        'personal0001',
      ]);
      expect((await reconcileLog(world, 'ghost')).map((r) => [r.result, r.remote_id])).toEqual([
        ['orphan_removed', 'orphan00001'],
      ]);
      // The deleted appointment's log shows the removal (the existing log endpoint).
      const log = (await world.call('GET', '/v1/appointments/visit-2/log')).body;
      expect(log.entries.at(-1)).toMatchObject({
        action: 'reconcile',
        result: 'orphan_removed',
        remoteId: deleted!.id,
      });
      expect((await googleEmulator.events(dora.calendarId)).find((e) => e.id === deleted!.id)?.status).toBe(
        'cancelled',
      );
      // And in the worker's metrics (this file's worker: every Google orphan so far is this test's).
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/calsync_reconcile_events_total\{provider="google",outcome="orphans_removed"\} 2\b/);
    });

    // A first attempt's write outlives its worker: the provider applies it after the appointment's
    // removal already found nothing to delete (404). Only a reconciliation pass can take it out.
    test('a write of a killed worker that lands after the appointment was deleted is removed as an orphan', async () => {
      const world = await newWorld();
      const gus = await world.staffWithGoogle('gus');
      // Longer than Temporal takes to give the dead worker's workflow task to the next one (its 10 s timeout).
      await googleEmulator.setFaults({ user: gus.email, latencyMs: 15000 });
      expect((await world.put('late', { revision: 1, staffIds: ['gus'], title: 'Late' })).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await stack.killWorker();
      await googleEmulator.clearFaults(gus.email);
      expect((await world.call('DELETE', '/v1/appointments/late')).status).toBe(202);
      await stack.startWorker();

      await world.waitSynced('late', 2, 30000);
      // The removal ran before the insert landed: this is the case under test.
      expect(await live(gus.calendarId)).toEqual([]);
      const [landed] = await waitUntil(
        "the dead worker's insert applied",
        async () => {
          const events = await live(gus.calendarId);
          return events.length > 0 ? events : undefined;
        },
        30000,
        200,
      );
      expect(landed!.summary).toBe('Late – Ana García');
      await waitUntil('the orphan removed', async () => (await live(gus.calendarId)).length === 0, 30000, 200);
      expect((await reconcileLog(world, 'late')).map((r) => [r.result, r.remote_id])).toEqual([
        ['orphan_removed', landed!.id],
      ]);
    });

    test('an event written before owner tags is looked up, found in step and tagged, never reported deleted', async () => {
      const world = await newWorld({ reconcileRestore: false });
      const finn = await world.staffWithGoogle('finn');
      await world.put('visit-1', { revision: 1, staffIds: ['finn'] });
      await world.waitSynced('visit-1', 1);
      const link = await linkOf(world, 'finn');
      const [original] = await live(finn.calendarId);
      const untaggedAt = new Date();
      // As an older calsync wrote it: every tag but the owner's (Google's patch drops a key set to null).
      await handEdit(finn.calendarId, {
        id: original!.id,
        extendedProperties: { private: { calsyncOwner: null as unknown as string } },
      });
      expect((await live(finn.calendarId))[0]!.extendedProperties?.private?.calsyncOwner).toBeUndefined();

      await completedPass(world, link.id, untaggedAt, { request: true });
      await waitUntil(
        'the owner tag written',
        async () => (await live(finn.calendarId))[0]!.extendedProperties?.private?.calsyncOwner !== undefined,
        30000,
        100,
      );
      await restoreWritten(world, 'visit-1');
      const settled = await completedPass(world, link.id, new Date(), { request: true });
      expect(settled).toMatchObject({ listed: 1, inStep: 1, untagged: 0, missing: 0 });
      const passes = await passesSince(world, link.id, untaggedAt);
      expect(total(passes, 'untagged')).toBeGreaterThanOrEqual(1);
      expect(total(passes, 'restoreRequested')).toBe(1);
      expect(total(passes, 'missing') + total(passes, 'changed') + total(passes, 'driftRecorded')).toBe(0);
      expect((await reconcileLog(world, 'visit-1')).map((r) => [r.result, r.error_code])).toEqual([
        ['restore_requested', 'owner_tag_missing'],
      ]);
      expect((await googleEmulator.events(finn.calendarId)).map((e) => [e.id, e.status])).toEqual([
        [original!.id, 'confirmed'],
      ]);
    });

    test("a team calendar is reconciled with the link that backs it: a hand deletion comes back, an orphan goes, the link's own calendar is covered too", async () => {
      const world = await newWorld();
      await world.call('PUT', '/v1/staff/frontdesk', { name: 'Front desk' });
      const office = await googleEmulator.userWithSecondaryCalendar('Office');
      const officeLink = await world.call('POST', '/v1/staff/frontdesk/links/google', {
        accountEmail: office.email,
        refreshToken: office.refreshToken,
      });
      await world.linkConnected(officeLink.body.id);
      const link = await linkOf(world, 'frontdesk');
      expect(
        (
          await world.call('PUT', '/v1/calendars/office', {
            name: 'Office',
            linkId: link.id,
            remoteCalendarId: office.calendarId,
          })
        ).status,
      ).toBe(200);
      // One appointment in the team calendar, one for the front desk's own (primary) calendar.
      await world.call('PUT', '/v1/appointments/team-1', {
        ...appointmentBody({ revision: 1, staffIds: [], title: 'Team' }),
        calendarIds: ['office'],
      });
      await world.put('own-1', { revision: 1, staffIds: ['frontdesk'], title: 'Own' });
      await world.waitSynced('team-1', 1);
      await world.waitSynced('own-1', 1);
      const [teamEvent] = await live(office.calendarId);
      const [ownEvent] = await live(office.email);
      const teamKey = targetKeyFor({ ...link, calendar_id: office.calendarId });
      expect(teamEvent!.extendedProperties?.private?.calsyncOwner).toBe(ownerTag(world.tenantId, teamKey));

      const changedAt = new Date();
      await googleControl(
        'DELETE',
        `/_emulator/calendars/${encodeURIComponent(office.calendarId)}/events/${teamEvent!.id}`,
      );
      await handEdit(office.email, { id: ownEvent!.id, summary: 'Lunch' });
      await googleControl('POST', `/_emulator/calendars/${encodeURIComponent(office.calendarId)}/events`, {
        id: 'teamorphan01',
        summary: 'teamorphan01',
        start: teamEvent!.start,
        end: teamEvent!.end,
        extendedProperties: {
          private: { calsyncId: `${world.tenantId}:ghost`, calsyncOwner: ownerTag(world.tenantId, teamKey) },
        },
      });
      await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 200));
      await completedPass(world, link.id, changedAt, { request: true });
      await waitUntil(
        'the team calendar back in step',
        async () => {
          const events = await live(office.calendarId);
          return events.length === 1 && events[0]!.id === teamEvent!.id;
        },
        30000,
        100,
      );
      await waitUntil(
        'the own calendar back in step',
        async () => (await live(office.email))[0]?.summary === ownEvent!.summary,
        30000,
        100,
      );
      await restoreWritten(world, 'team-1');
      await restoreWritten(world, 'own-1');

      const passes = await passesSince(world, link.id, changedAt);
      expect(passes.at(-1).teamCalendars).toEqual(['office']);
      // A scheduled pass may see the same drift before the restore lands; the log shows it was acted on once.
      expect(total(passes, 'missing')).toBeGreaterThanOrEqual(1);
      expect(total(passes, 'changed')).toBeGreaterThanOrEqual(1);
      expect(total(passes, 'orphansRemoved')).toBe(1);
      expect((await reconcileLog(world, 'team-1')).map((r) => [r.result, r.error_code, r.target_key])).toEqual([
        ['restore_requested', 'deleted_by_hand', teamKey],
      ]);
      expect((await reconcileLog(world, 'own-1')).map((r) => [r.result, r.error_code, r.target_key])).toEqual([
        ['restore_requested', 'changed_by_hand', targetKeyFor(link)],
      ]);
      expect((await reconcileLog(world, 'ghost')).map((r) => [r.result, r.remote_id, r.target_key])).toEqual([
        ['orphan_removed', 'teamorphan01', teamKey],
      ]);
      // Both calendars settled: the next pass lists one event in each, in step.
      const settled = await completedPass(world, link.id, new Date(), { request: true });
      expect(settled).toMatchObject({
        listed: 2,
        inStep: 2,
        missing: 0,
        changed: 0,
        orphansRemoved: 0,
        teamCalendars: ['office'],
      });
      expect(
        (await googleEmulator.events(office.calendarId)).filter((e) => e.status === 'confirmed').map((e) => e.id),
      ).toEqual([teamEvent!.id]);
    });

    test('all-day appointments far from UTC are in step on both providers; one moved to another day by hand is restored', async () => {
      const world = await newWorld();
      const anna = await world.staffWithGoogle('anna');
      await world.staffWithMicrosoft('ben');
      const body = {
        ...appointmentBody({ revision: 1, staffIds: ['anna', 'ben'], title: 'Holiday' }),
        allDay: true,
        start: day(5),
        end: day(6),
        timeZone: 'America/Los_Angeles',
      };
      expect((await world.call('PUT', '/v1/appointments/holiday', body)).status).toBe(202);
      await world.waitSynced('holiday', 1);
      const [annaLink, benLink] = [await linkOf(world, 'anna'), await linkOf(world, 'ben')];
      const since = new Date();
      expect(await completedPass(world, annaLink.id, since, { request: true })).toMatchObject({
        listed: 1,
        inStep: 1,
        changed: 0,
        missing: 0,
      });
      expect(await completedPass(world, benLink.id, since, { request: true })).toMatchObject({
        listed: 1,
        inStep: 1,
        changed: 0,
        missing: 0,
      });

      const [event] = await live(anna.calendarId);
      expect(event!.start).toEqual({ date: day(5) });
      await handEdit(anna.calendarId, { id: event!.id, start: { date: day(6) }, end: { date: day(7) } });
      await waitUntil(
        'the holiday back on its day',
        async () => (await live(anna.calendarId))[0]?.start.date === day(5),
        30000,
        100,
      );
      await restoreWritten(world, 'holiday');
      expect((await reconcileLog(world, 'holiday')).map((r) => [r.result, r.error_code, r.error_message])).toEqual([
        ['restore_requested', 'changed_by_hand', 'the event was changed in the calendar (start, end); rewriting it'],
      ]);
      // Back in step: nothing more to do on either calendar.
      const after = new Date();
      expect(await completedPass(world, annaLink.id, after, { request: true })).toMatchObject({
        listed: 1,
        inStep: 1,
        changed: 0,
      });
      expect(await completedPass(world, benLink.id, after, { request: true })).toMatchObject({
        listed: 1,
        inStep: 1,
        changed: 0,
      });
    });

    test('disconnecting the link ends its reconciliation', async () => {
      const world = await newWorld();
      await world.staffWithGoogle('emil');
      const link = await linkOf(world, 'emil');
      expect((await world.call('DELETE', `/v1/links/${link.id}`)).status).toBe(202);
      const handle = client.workflow.getHandle(`reconcile:${world.tenantId}:${link.id}`);
      await waitUntil(
        'reconcile workflow to end',
        async () => (await handle.describe()).status.name === 'COMPLETED',
        30000,
        100,
      );
      expect(await handle.result()).toMatchObject({ phase: 'stopped' });
      expect((await world.call('POST', `/v1/links/${link.id}/reconcile`)).status).toBe(409);
      expect((await world.call('POST', '/v1/links/nope/reconcile')).status).toBe(404);
      const bad = await world.call('GET', `/v1/links/${link.id}/reconcile?limit=0`);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/^query\.limit: /);
    });
  });

  describe('Microsoft 365', () => {
    const user = (email: string) => `/_emulator/users/${encodeURIComponent(email)}/calendars/calendar/events`;
    const tag = (e: GraphEvent, name: string) => microsoftEmulator.tag(e, name);

    test('an event moved by hand in Outlook is restored; one deleted by hand is recreated once', async () => {
      const world = await newWorld();
      const ben = await world.staffWithMicrosoft('ben');
      await world.put('visit-1', { revision: 1, staffIds: ['ben'] });
      await world.put('visit-2', { revision: 1, staffIds: ['ben'], title: 'Colour' });
      // Three events in pages of two: the second page comes from Graph's @odata.nextLink.
      await world.put('visit-3', { revision: 1, staffIds: ['ben'], title: 'Nails' });
      for (const id of ['visit-1', 'visit-2', 'visit-3']) await world.waitSynced(id, 1);
      const link = await linkOf(world, 'ben');
      const events = await microsoftEmulator.events(ben.email);
      const one = events.find((e) => tag(e, 'calsyncId') === `${world.tenantId}:visit-1`)!;
      const two = events.find((e) => tag(e, 'calsyncId') === `${world.tenantId}:visit-2`)!;
      expect(tag(one, 'calsyncOwner')).toBe(ownerTag(world.tenantId, targetKeyFor(link)));

      // Moved in Outlook: the periodic pass puts it back (same event, PATCHed).
      await graphControl('PATCH', `${user(ben.email)}/${encodeURIComponent(one.id)}`, {
        subject: 'Moved',
        start: { dateTime: `${day()}T15:00:00`, timeZone: 'Romance Standard Time' },
        end: { dateTime: `${day()}T16:00:00`, timeZone: 'Romance Standard Time' },
      });
      await waitUntil(
        'the moved event restored',
        async () => {
          const now = (await microsoftEmulator.events(ben.email)).find((e) => e.id === one.id);
          return now && now.subject === one.subject && now.start.dateTime === one.start.dateTime;
        },
        30000,
        100,
      );
      await restoreWritten(world, 'visit-1');
      expect((await reconcileLog(world, 'visit-1')).map((r) => [r.result, r.error_code, r.provider])).toEqual([
        ['restore_requested', 'changed_by_hand', 'microsoft'],
      ]);

      // Deleted in Outlook: recreated (Graph picks a new id, calsync stores it), exactly one.
      const deletedAt = new Date();
      await microsoftEmulator.deleteInOutlook(ben.email, two.id);
      await completedPass(world, link.id, deletedAt, { request: true });
      const back = await waitUntil(
        'the deleted event recreated',
        async () => {
          const found = (await microsoftEmulator.events(ben.email)).filter(
            (e) => tag(e, 'calsyncId') === `${world.tenantId}:visit-2`,
          );
          return found.length > 0 ? found : undefined;
        },
        30000,
        100,
      );
      await restoreWritten(world, 'visit-2');
      const settled = await completedPass(world, link.id, new Date(), { request: true });
      expect(settled).toMatchObject({ listed: 3, inStep: 3, missing: 0, changed: 0, orphansRemoved: 0, pages: 2 });
      // One pass found it missing and asked once (a scheduled pass may overlap the move's restore).
      const restoring = (await passesSince(world, link.id, deletedAt)).filter((p) => p.missing > 0);
      expect(restoring).toEqual([expect.objectContaining({ missing: 1, restoreRequested: 1 })]);
      expect((await reconcileLog(world, 'visit-2')).map((r) => [r.result, r.error_code])).toEqual([
        ['restore_requested', 'deleted_by_hand'],
      ]);
      const after = await microsoftEmulator.events(ben.email);
      expect(after).toHaveLength(3);
      const recreated = after.filter((e) => tag(e, 'calsyncId') === `${world.tenantId}:visit-2`);
      expect(recreated.map((e) => e.id)).toEqual([back[0]!.id]);
      expect(recreated[0]!.id).not.toBe(two.id);
      const row = await testDb()('appointment_targets')
        .where({ tenant_id: world.tenantId, appointment_id: 'visit-2' })
        .first();
      expect(row.remote_id).toBe(recreated[0]!.id);
    });

    test('reconcileRestore off records a hand deletion without recreating; orphans go, untagged events stay', async () => {
      const world = await newWorld({ reconcileRestore: false });
      const cara = await world.staffWithMicrosoft('cara');
      await world.put('visit-1', { revision: 1, staffIds: ['cara'] });
      await world.waitSynced('visit-1', 1);
      const link = await linkOf(world, 'cara');
      const targetKey = targetKeyFor(link);
      const [mine] = await microsoftEmulator.events(cara.email);
      const slot = (hour: number) => ({
        start: { dateTime: `${day(5)}T${hh(hour)}:00:00`, timeZone: 'Romance Standard Time' },
        end: { dateTime: `${day(5)}T${hh(hour + 1)}:00:00`, timeZone: 'Romance Standard Time' },
      });
      const plant = (subject: string, hour: number, tags: Record<string, string>) =>
        graphControl<GraphEvent>('POST', user(cara.email), {
          subject,
          ...slot(hour),
          singleValueExtendedProperties: Object.entries(tags).map(([name, value]) => ({ id: propertyId(name), value })),
        });
      const plantedAt = new Date();
      const orphan = await plant('orphan', 9, {
        calsyncId: `${world.tenantId}:gone`,
        calsyncOwner: ownerTag(world.tenantId, targetKey),
      });
      await plant('dentist', 11, {});
      await plant('other tenant', 12, { calsyncId: 'other:visit-1', calsyncOwner: ownerTag('other', targetKey) });
      await microsoftEmulator.deleteInOutlook(cara.email, mine!.id);

      await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 200));
      await completedPass(world, link.id, new Date(), { request: true });
      await waitUntil(
        'the orphan removed',
        async () => (await microsoftEmulator.events(cara.email)).length === 2,
        30000,
        100,
      );
      const pass = await completedPass(world, link.id, new Date(), { request: true });
      expect(pass).toMatchObject({ restore: false, listed: 0, missing: 1, restoreRequested: 0, orphansRemoved: 0 });
      const passes = await passesSince(world, link.id, plantedAt);
      expect(total(passes, 'orphansRemoved')).toBe(1);
      expect(total(passes, 'driftRecorded')).toBe(1);
      const left = await microsoftEmulator.events(cara.email);
      expect(left.map((e) => e.subject).sort()).toEqual(['dentist', 'other tenant']);
      expect((await reconcileLog(world, 'gone')).map((r) => [r.result, r.remote_id])).toEqual([
        ['orphan_removed', orphan.id],
      ]);
      expect((await reconcileLog(world, 'visit-1')).map((r) => [r.result, r.error_code])).toEqual([
        ['warning', 'deleted_by_hand'],
      ]);
      // A second pass records nothing new and still recreates nothing.
      const again = await completedPass(world, link.id, new Date(pass.finishedAt), { request: true });
      expect(again).toMatchObject({ missing: 1, driftRecorded: 0, restoreRequested: 0, orphansRemoved: 0 });
      expect((await microsoftEmulator.events(cara.email)).map((e) => e.subject).sort()).toEqual([
        'dentist',
        'other tenant',
      ]);
    });
  });

  test('the reconcileLink histories of this run replay against the current code', async () => {
    const histories = [];
    for (const world of worlds) {
      for await (const wf of client.workflow.list({
        query: `WorkflowType="reconcileLink" AND CalsyncTenant="${world.tenantId}"`,
      })) {
        histories.push({
          workflowId: `${wf.workflowId}#${wf.runId}`,
          history: await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory(),
        });
      }
    }
    // Every link's, the stopped one among them, and runs that continued as new with their passes carried.
    const links = new Set(histories.map((h) => h.workflowId.split('#')[0]));
    const linkCount = await testDb()('calendar_links')
      .whereIn(
        'tenant_id',
        worlds.map((w) => w.tenantId),
      )
      .count<{ count: string }[]>('* as count');
    expect(links.size).toBe(Number(linkCount[0]!.count));
    expect(histories.length).toBeGreaterThan(worlds.length);
    const carried = histories
      .map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId)
      .filter(Boolean);
    expect(carried.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: process.env.CALSYNC_WORKFLOW_BUNDLE! }, dataConverter },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    if (process.env.RECORD_HISTORIES) {
      const dir = path.join(__dirname, 'histories');
      mkdirSync(dir, { recursive: true });
      // The longest, one that stopped, one that continued as new: enough to guard later changes.
      const longest = [...histories].sort(
        (a, b) => (b.history.events?.length ?? 0) - (a.history.events?.length ?? 0),
      )[0]!;
      const stopped = histories.find((h) => h.history.events?.at(-1)?.workflowExecutionCompletedEventAttributes)!;
      const continued = histories.find(
        (h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId,
      )!;
      // Fixed names: a new recording replaces these (replay.test.ts replays every file there).
      const written = new Set<unknown>();
      for (const [label, { history }] of [
        ['longest', longest],
        ['stopped', stopped],
        ['continued', continued],
      ] as const) {
        if (written.has(history)) continue;
        written.add(history);
        writeFileSync(
          path.join(dir, `reconcile-${label}.history.bin`),
          temporal.api.history.v1.History.encode(history).finish(),
        );
      }
    }
  });
});
