import { jsonCall, seedTenant, startPrivateStack } from './harness';

/**
 * Reconciliation of one link's calendar: how long a pass over N events takes and how many provider
 * requests it costs, in step and with drift (events moved and deleted by hand, orphans planted),
 * and how long the calendar takes to converge again.
 *   npm run bench:reconcile [-- events=300 drift=10 pageSize=100 pauseMs=1000]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const events = Number(args.events ?? 300);
const drift = Number(args.drift ?? 10);
const pageSize = Number(args.pageSize ?? 100);
const pauseMs = Number(args.pauseMs ?? 1000);

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 300000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  const stack = await startPrivateStack({
    name: 'reconcile',
    // Passes only when asked, so each one is measured alone.
    env: {
      RECONCILE_INTERVAL_MS: String(24 * 3600 * 1000),
      RECONCILE_PAGE_SIZE: String(pageSize),
      RECONCILE_PAGE_PAUSE_MS: String(pauseMs),
      RECONCILE_ORPHAN_GRACE_MS: '0',
    },
  });
  try {
    const { apiKey, staff } = await seedTenant(stack, 'reconcile', 1);
    const { id: staffId, email } = staff[0]!;
    const api = (method: string, path: string, body?: unknown) =>
      jsonCall(`${stack.apiUrl}${path}`, method, body, apiKey);
    const emulator = (method: string, path: string, body?: unknown) =>
      jsonCall(`${stack.emulatorUrl}/_emulator${path}`, method, body);
    const calendar = `/calendars/${encodeURIComponent(email)}/events`;
    const live = async () =>
      ((await emulator('GET', calendar)).body.items as any[]).filter((e) => e.status !== 'cancelled');
    const linkId: string = (await api('GET', `/v1/staff/${staffId}/links`)).body.links[0].id;

    for (let i = 0; i < events; i++) {
      const day = new Date(Date.now() + (2 + Math.floor(i / 8)) * 86400000).toISOString().slice(0, 10);
      const hour = String(8 + (i % 8)).padStart(2, '0');
      await api('PUT', `/v1/appointments/a-${i}`, {
        revision: 1,
        start: `${day}T${hour}:00:00`,
        end: `${day}T${hour}:45:00`,
        timeZone: 'Europe/Madrid',
        title: `visit ${i}`,
        staffIds: [staffId],
      });
    }
    await waitFor('every event written', async () => (await live()).length === events);

    async function pass(label: string) {
      const before = (await api('GET', `/v1/links/${linkId}/reconcile`)).body.lastPass?.passId;
      await emulator('POST', `/stats/reset?user=${encodeURIComponent(email)}`);
      await api('POST', `/v1/links/${linkId}/reconcile`);
      const done = await waitFor(`${label} pass`, async () => {
        const last = (await api('GET', `/v1/links/${linkId}/reconcile`)).body.lastPass;
        return last && last.passId !== before && last.state !== 'running' ? last : undefined;
      });
      const stats = (await emulator('GET', `/stats?user=${encodeURIComponent(email)}`)).body;
      const seconds = (Date.parse(done.finishedAt) - Date.parse(done.startedAt)) / 1000;
      console.log(
        `${label}: ${seconds.toFixed(2)} s, ${stats.requests} provider requests (${Object.entries(stats.byOperation)
          .map(([op, s]: [string, any]) => `${op}=${s.total}`)
          .join(
            ' ',
          )}), counts ${JSON.stringify({ listed: done.listed, inStep: done.inStep, changed: done.changed, missing: done.missing, restoreRequested: done.restoreRequested, orphansRemoved: done.orphansRemoved, pages: done.pages })}`,
      );
      return { seconds, done };
    }

    const inStep = await pass('in step');

    const items = await live();
    const startedDrift = Date.now();
    for (let i = 0; i < drift; i++) {
      const moved = items[i]!;
      await emulator('POST', calendar, {
        id: moved.id,
        start: { dateTime: moved.start.dateTime.replace(/T\d\d/, 'T20') },
        end: { dateTime: moved.end.dateTime.replace(/T\d\d/, 'T21') },
      });
      await emulator('DELETE', `${calendar}/${items[drift + i]!.id}`);
      await emulator('POST', calendar, {
        id: `orphan${String(i).padStart(5, '0')}`,
        summary: 'orphan',
        start: moved.start,
        end: moved.end,
        extendedProperties: { private: { ...moved.extendedProperties.private, calsyncId: `reconcile:ghost-${i}` } },
      });
    }
    const drifted = await pass('with drift');
    const converged = await waitFor('convergence', async () => {
      const now = await live();
      const back =
        now.length === events &&
        now.every((e) => !e.summary.startsWith('orphan')) &&
        items.slice(0, drift).every((m) => now.find((e) => e.id === m.id)?.start.dateTime === m.start.dateTime);
      return back ? Date.now() : undefined;
    });
    const after = await pass('after');
    console.log(
      `reconcile: events=${events} pageSize=${pageSize} pauseMs=${pauseMs} pass_in_step_s=${inStep.seconds.toFixed(2)} pass_drift_s=${drifted.seconds.toFixed(2)} ` +
        `moved=${drift} deleted=${drift} orphans=${drift} converge_s=${((converged - startedDrift) / 1000).toFixed(2)} after_in_step=${after.done.inStep}/${events}`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
