import os from 'node:os';
import { jsonCall, percentile, seedTenant, startPrivateStack } from './harness';

/**
 * GET /v1/staff/:id/busy for a month: 500 events imported from the staff member's (emulated)
 * Google calendar plus calsync's own appointments, timed over many sequential requests.
 *   npm run bench:busy [-- events=500 appointments=40 requests=500]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const eventCount = Number(args.events ?? 500);
const appointmentCount = Number(args.appointments ?? 40);
const requests = Number(args.requests ?? 500);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  const stack = await startPrivateStack({ name: 'busy', env: { IMPORT_POLL_INTERVAL_MS: '1000' } });
  try {
    const { apiKey, staff } = await seedTenant(stack, 'busy', 1);
    const { id: staffId, email } = staff[0]!;
    const api = (method: string, path: string, body?: unknown) =>
      jsonCall(`${stack.apiUrl}${path}`, method, body, apiKey);
    const [link] = (await api('GET', `/v1/staff/${staffId}/links`)).body.links;
    const start = new Date(Date.now() + 86400000);
    start.setUTCHours(0, 0, 0, 0);
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60000).toISOString().replace('.000Z', 'Z');

    // 500 hand-made events over 30 days: timed ones at any quarter hour, every fiftieth all day, every seventh free.
    for (let i = 0; i < eventCount; i++) {
      const offset = Math.floor((i * 30 * 24 * 60) / eventCount / 15) * 15;
      const event =
        i % 50 === 0
          ? {
              summary: `all day ${i}`,
              start: { date: at(offset).slice(0, 10) },
              end: { date: at(offset + 1440).slice(0, 10) },
            }
          : {
              summary: `event ${i}`,
              start: { dateTime: at(offset) },
              end: { dateTime: at(offset + 45) },
              ...(i % 7 === 0 ? { transparency: 'transparent' } : {}),
            };
      await jsonCall(`${stack.emulatorUrl}/_emulator/calendars/${encodeURIComponent(email)}/events`, 'POST', event);
    }
    for (let i = 0; i < appointmentCount; i++) {
      await api('PUT', `/v1/appointments/b-${i}`, {
        revision: 1,
        start: at(i * 1080 + 600),
        end: at(i * 1080 + 660),
        timeZone: 'UTC',
        title: 'Cut',
        staffIds: [staffId],
      });
    }
    await waitFor(
      '500 imported events',
      async () => (await api('GET', `/v1/links/${link.id}/import`)).body.importedEvents >= eventCount,
    );

    const path = `/v1/staff/${staffId}/busy?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(31 * 1440))}&timeZone=Europe/Madrid`;
    const first = await api('GET', path);
    for (let i = 0; i < 20; i++) await api('GET', path); // warm-up
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const sent = performance.now();
      const res = await api('GET', path);
      times.push(performance.now() - sent);
      if (res.status !== 200) throw new Error(`busy answered ${res.status}`);
    }
    const f = (n: number) => n.toFixed(1);
    console.log(
      `cores=${os.cpus().length} imported=${first.body.intervals.filter((i: { source: string }) => i.source === 'imported').length} appointments=${first.body.intervals.filter((i: { source: string }) => i.source === 'appointment').length} merged=${first.body.busy.length} window=31d requests=${requests} (sequential)`,
    );
    console.log(
      `bench:busy p50_ms=${f(percentile(times, 50))} p95_ms=${f(percentile(times, 95))} p99_ms=${f(percentile(times, 99))} max_ms=${f(Math.max(...times))}`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
