import { call, waitUntil } from './helpers/api';
import { controlCall } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';
import {
  busy,
  busyBecomes,
  dayAhead,
  googleCalendar,
  importProgress,
  linkedStaff,
  outlookCalendar,
  type LinkedStaff,
} from './helpers/busyImport';

const PUSH_WITHIN_MS = 5000;
const google = controlCall(() => process.env.GOOGLE_EMULATOR_URL!);
const microsoft = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);

/**
 * Push: Google events.watch channels and Graph subscriptions tell the import workflow to sync at
 * once. The poll interval here is two minutes, so anything seen within seconds came by push.
 */
describe('busy-time import by push', () => {
  const stack = useAppStack({ IMPORT_POLL_INTERVAL_MS: '120000' });
  let world: TenantWorld;
  let gina: LinkedStaff;
  let mia: LinkedStaff;
  const day = dayAhead(5);
  const from = `${day}T00:00:00Z`;
  const to = `${day}T23:59:00Z`;

  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
    gina = await linkedStaff(world, 'google', 'gina');
    mia = await linkedStaff(world, 'microsoft', 'mia');
    await waitUntil(
      'push channels',
      async () =>
        (await googleCalendar.channels(gina.email)).channels.length === 1 &&
        (await outlookCalendar.subscriptions(mia.email)).subscriptions.length === 1,
      20000,
    );
  });

  afterEach(async () => {
    await google('POST', '/_emulator/push', { enabled: true });
    await microsoft('POST', '/_emulator/push', { enabled: true });
  });

  test('Google: create, move and delete change the busy answer within 5 s', async () => {
    const pushesBefore = (await importProgress(world, gina)).pushes;
    const created = await googleCalendar.upsert(gina.email, {
      summary: 'Dentist',
      start: { dateTime: `${day}T09:00:00+01:00`, timeZone: 'Europe/Madrid' },
      end: { dateTime: `${day}T10:00:00+01:00`, timeZone: 'Europe/Madrid' },
    });
    const took = [
      await busyBecomes(
        world,
        'gina',
        from,
        to,
        (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T08:00:00Z`,
        PUSH_WITHIN_MS,
      ),
    ];
    await googleCalendar.upsert(gina.email, {
      id: created.id,
      start: { dateTime: `${day}T12:00:00Z` },
      end: { dateTime: `${day}T12:45:00Z` },
    });
    took.push(
      await busyBecomes(
        world,
        'gina',
        from,
        to,
        (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T12:00:00Z`,
        PUSH_WITHIN_MS,
      ),
    );
    await googleCalendar.remove(gina.email, created.id);
    took.push(await busyBecomes(world, 'gina', from, to, (b) => b.busy.length === 0, PUSH_WITHIN_MS));
    expect(Math.max(...took)).toBeLessThan(PUSH_WITHIN_MS);
    expect((await importProgress(world, gina)).pushes).toBeGreaterThanOrEqual(pushesBefore + 3);
  });

  test('Microsoft: create, move and delete change the busy answer within 5 s', async () => {
    const pushesBefore = (await importProgress(world, mia)).pushes;
    const created = await outlookCalendar.create(mia.email, {
      subject: 'Physio',
      start: { dateTime: `${day}T09:00:00`, timeZone: 'Europe/Berlin' },
      end: { dateTime: `${day}T10:00:00`, timeZone: 'Europe/Berlin' },
    });
    const took = [
      await busyBecomes(
        world,
        'mia',
        from,
        to,
        (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T08:00:00Z`,
        PUSH_WITHIN_MS,
      ),
    ];
    await outlookCalendar.move(mia.email, created.id, {
      start: { dateTime: `${day}T14:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T15:00:00`, timeZone: 'UTC' },
    });
    took.push(
      await busyBecomes(
        world,
        'mia',
        from,
        to,
        (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T14:00:00Z`,
        PUSH_WITHIN_MS,
      ),
    );
    await outlookCalendar.remove(mia.email, created.id);
    took.push(await busyBecomes(world, 'mia', from, to, (b) => b.busy.length === 0, PUSH_WITHIN_MS));
    expect(Math.max(...took)).toBeLessThan(PUSH_WITHIN_MS);
    expect((await importProgress(world, mia)).pushes).toBeGreaterThanOrEqual(pushesBefore + 3);
  });

  test('a forged notification (wrong channel token or clientState) is rejected and changes nothing', async () => {
    // Changes the providers do not announce: only a (forged) notification could make them count now.
    await google('POST', '/_emulator/push', { enabled: false });
    await microsoft('POST', '/_emulator/push', { enabled: false });
    await googleCalendar.upsert(gina.email, {
      summary: 'Unannounced',
      start: { dateTime: `${day}T18:00:00Z` },
      end: { dateTime: `${day}T19:00:00Z` },
    });
    await outlookCalendar.create(mia.email, {
      subject: 'Unannounced',
      start: { dateTime: `${day}T18:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T19:00:00`, timeZone: 'UTC' },
    });
    const before = { gina: await importProgress(world, gina), mia: await importProgress(world, mia) };
    const [channel] = (await googleCalendar.channels(gina.email)).channels;
    const [subscription] = (await outlookCalendar.subscriptions(mia.email)).subscriptions;

    const googleHook = (headers: Record<string, string>) =>
      fetch(`${stack.apiUrl}/webhooks/google`, { method: 'POST', headers });
    expect(
      (
        await googleHook({
          'X-Goog-Channel-ID': channel!.id,
          'X-Goog-Channel-Token': 'guessed',
          'X-Goog-Resource-State': 'exists',
        })
      ).status,
    ).toBe(403);
    expect((await googleHook({ 'X-Goog-Channel-ID': channel!.id, 'X-Goog-Resource-State': 'exists' })).status).toBe(
      403,
    );
    expect(
      (
        await googleHook({
          'X-Goog-Channel-ID': 'calsync-made-up',
          'X-Goog-Channel-Token': 'x',
          'X-Goog-Resource-State': 'exists',
        })
      ).status,
    ).toBe(403);
    const graphHook = await call(stack.apiUrl, 'POST', '/webhooks/microsoft', {
      body: {
        value: [
          {
            subscriptionId: subscription!.id,
            clientState: 'guessed',
            changeType: 'created',
            resource: 'Users/x/Events/y',
          },
        ],
      },
    });
    expect(graphHook.status).toBe(403);
    // Graph's validation handshake is answered (it carries no secret and triggers nothing).
    const handshake = await fetch(
      `${stack.apiUrl}/webhooks/microsoft?validationToken=${encodeURIComponent('Validation: abc')}`,
      { method: 'POST' },
    );
    expect([handshake.status, await handshake.text()]).toEqual([200, 'Validation: abc']);

    await new Promise((r) => setTimeout(r, 3000));
    expect((await busy(world, 'gina', from, to)).busy).toEqual([]);
    expect((await busy(world, 'mia', from, to)).busy).toEqual([]);
    expect(await importProgress(world, gina)).toMatchObject({ pushes: before.gina.pushes, rounds: before.gina.rounds });
    expect(await importProgress(world, mia)).toMatchObject({ pushes: before.mia.pushes, rounds: before.mia.rounds });

    // The next genuine notification brings both in.
    await google('POST', '/_emulator/push', { enabled: true });
    await microsoft('POST', '/_emulator/push', { enabled: true });
    await googleCalendar.upsert(gina.email, {
      summary: 'Announced',
      start: { dateTime: `${day}T20:00:00Z` },
      end: { dateTime: `${day}T21:00:00Z` },
    });
    await outlookCalendar.create(mia.email, {
      subject: 'Announced',
      start: { dateTime: `${day}T20:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T21:00:00`, timeZone: 'UTC' },
    });
    await busyBecomes(world, 'gina', from, to, (b) => b.busy.length === 2, PUSH_WITHIN_MS);
    await busyBecomes(world, 'mia', from, to, (b) => b.busy.length === 2, PUSH_WITHIN_MS);
  });

  test('disconnecting a link stops its import: its busy time no longer counts and its channel is stopped', async () => {
    expect((await busy(world, 'gina', from, to)).busy.length).toBeGreaterThan(0);
    expect((await world.call('DELETE', `/v1/links/${gina.linkId}`)).status).toBe(202);
    expect((await busy(world, 'gina', from, to)).busy).toEqual([]);
    await waitUntil('import stopped', async () => (await importProgress(world, gina)).status === 'stopped', 20000);
    expect((await googleCalendar.channels(gina.email)).channels).toEqual([]);
  });
});

describe('Graph subscription lifecycle notifications', () => {
  const stack = useAppStack({ IMPORT_POLL_INTERVAL_MS: '120000' });
  let world: TenantWorld;
  let lea: LinkedStaff;
  const day = dayAhead(6);
  const from = `${day}T00:00:00Z`;
  const to = `${day}T23:59:00Z`;
  const subscriptionOf = async () => {
    const subs = (await outlookCalendar.subscriptions(lea.email)).subscriptions;
    expect(subs).toHaveLength(1);
    return subs[0]!;
  };
  const fullSyncs = async () =>
    (await world.call('GET', `/v1/links/${lea.linkId}/import`)).body.calendars[0].fullSyncs as number;
  const lifecycle = (id: string, event: string) =>
    microsoft('POST', `/_emulator/subscriptions/${id}/lifecycle`, { event });
  const unannounced = async (subject: string, hour: number) => {
    await microsoft('POST', `/_emulator/subscriptions/${(await subscriptionOf()).id}/lose-notifications`);
    await outlookCalendar.create(lea.email, {
      subject,
      start: { dateTime: `${day}T${hour}:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T${hour}:30:00`, timeZone: 'UTC' },
    });
  };

  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
    lea = await linkedStaff(world, 'microsoft', 'lea');
    await waitUntil(
      'subscription',
      async () => (await outlookCalendar.subscriptions(lea.email)).subscriptions.length === 1,
      20000,
    );
  });

  test('reauthorizationRequired: the same subscription is renewed and keeps delivering', async () => {
    const before = await subscriptionOf();
    await lifecycle(before.id, 'reauthorizationRequired');
    await waitUntil(
      'renewed',
      async () => {
        const now = await subscriptionOf();
        return now.id === before.id && Date.parse(now.expirationDateTime) > Date.parse(before.expirationDateTime);
      },
      PUSH_WITHIN_MS,
      200,
    );
    await outlookCalendar.create(lea.email, {
      subject: 'After reauthorization',
      start: { dateTime: `${day}T08:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T08:30:00`, timeZone: 'UTC' },
    });
    await busyBecomes(world, 'lea', from, to, (b) => b.busy.length === 1, PUSH_WITHIN_MS);
  });

  test('a lifecycle notice with the wrong clientState is refused and changes nothing', async () => {
    const sub = await subscriptionOf();
    const progress = await importProgress(world, lea);
    const forged = await call(stack.apiUrl, 'POST', '/webhooks/microsoft?lifecycle=1', {
      body: { value: [{ subscriptionId: sub.id, clientState: 'guessed', lifecycleEvent: 'subscriptionRemoved' }] },
    });
    expect(forged.status).toBe(403);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await subscriptionOf()).id).toBe(sub.id);
    expect((await world.call('GET', `/v1/links/${lea.linkId}/import`)).body.calendars[0].pushExpiresAt).not.toBeNull();
    expect(await importProgress(world, lea)).toMatchObject({ pushes: progress.pushes, rounds: progress.rounds });
  });

  test('subscriptionRemoved: a new subscription is made and a change made meanwhile is imported by a full pass', async () => {
    const old = await subscriptionOf();
    const fullBefore = await fullSyncs();
    await unannounced('While removed', 10);
    await lifecycle(old.id, 'subscriptionRemoved');
    await busyBecomes(world, 'lea', from, to, (b) => b.busy.length === 2, PUSH_WITHIN_MS);
    expect(await fullSyncs()).toBe(fullBefore + 1);
    const renewed = await waitUntil(
      'new subscription',
      async () => {
        const subs = (await outlookCalendar.subscriptions(lea.email)).subscriptions;
        return subs.length === 1 && subs[0]!.id !== old.id && subs[0]!;
      },
      PUSH_WITHIN_MS,
      200,
    );
    expect(renewed.id).not.toBe(old.id);
    // The new subscription delivers.
    await outlookCalendar.create(lea.email, {
      subject: 'After resubscribing',
      start: { dateTime: `${day}T12:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T12:30:00`, timeZone: 'UTC' },
    });
    await busyBecomes(world, 'lea', from, to, (b) => b.busy.length === 3, PUSH_WITHIN_MS);
  });

  test('missed: the change made while notifications were lost is imported by a full pass', async () => {
    const fullBefore = await fullSyncs();
    await unannounced('While lost', 14);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await busy(world, 'lea', from, to)).busy).toHaveLength(3);
    await lifecycle((await subscriptionOf()).id, 'missed');
    await busyBecomes(world, 'lea', from, to, (b) => b.busy.length === 4, PUSH_WITHIN_MS);
    expect(await fullSyncs()).toBe(fullBefore + 1);
    // The workflow asked for it (the API leaves the import's cursors alone): its last round was the full pass.
    const progress = (await importProgress(world, lea)) as { last?: Array<{ full: boolean }> };
    expect(progress.last).toEqual([expect.objectContaining({ full: true })]);
  });
});

describe('push channels are renewed before they expire', () => {
  // Lifetimes are configuration: 30 s here, renewed 20 s before they end.
  const stack = useAppStack({
    IMPORT_POLL_INTERVAL_MS: '120000',
    GOOGLE_WATCH_TTL_SECONDS: '30',
    GRAPH_SUBSCRIPTION_MINUTES: '0.5',
    IMPORT_PUSH_RENEW_BEFORE_MS: '20000',
  });

  test('a Google channel is replaced and a Graph subscription extended, and pushes keep arriving', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const gus = await linkedStaff(world, 'google', 'gus');
    const max = await linkedStaff(world, 'microsoft', 'max');
    const first = await waitUntil(
      'channels',
      async () => {
        const g = (await googleCalendar.channels(gus.email)).channels;
        const m = (await outlookCalendar.subscriptions(max.email)).subscriptions;
        return g.length === 1 && m.length === 1 && { g: g[0]!, m: m[0]! };
      },
      20000,
    );
    await waitUntil(
      'renewal',
      async () => {
        const g = (await googleCalendar.channels(gus.email)).channels;
        const m = (await outlookCalendar.subscriptions(max.email)).subscriptions;
        return (
          g.length === 1 &&
          g[0]!.id !== first.g.id &&
          m.length === 1 &&
          m[0]!.id === first.m.id &&
          Date.parse(m[0]!.expirationDateTime) > Date.parse(first.m.expirationDateTime)
        );
      },
      30000,
      500,
    );
    const day = dayAhead(4);
    await googleCalendar.upsert(gus.email, {
      summary: 'After renewal',
      start: { dateTime: `${day}T09:00:00Z` },
      end: { dateTime: `${day}T10:00:00Z` },
    });
    await outlookCalendar.create(max.email, {
      subject: 'After renewal',
      start: { dateTime: `${day}T09:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T10:00:00`, timeZone: 'UTC' },
    });
    await busyBecomes(world, 'gus', `${day}T00:00:00Z`, `${day}T23:00:00Z`, (b) => b.busy.length === 1, PUSH_WITHIN_MS);
    await busyBecomes(world, 'max', `${day}T00:00:00Z`, `${day}T23:00:00Z`, (b) => b.busy.length === 1, PUSH_WITHIN_MS);
  });
});
