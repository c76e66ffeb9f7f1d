import { jsonCall, seedTenant, startPrivateStack } from './harness';

/**
 * A settings change applied to existing appointments: `appointments` future appointments in one
 * staff member's (emulated) Google calendar, then a new title template. Measures the time until
 * every event shows the new title, the remote calls it took, and the busiest 60 seconds against
 * the emulator's per-user limit (600 requests per minute, as Google's).
 *   npm run bench:resync [-- appointments=1000 rate=8]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const count = Number(args.appointments ?? 1000);
const rate = args.rate === undefined ? undefined : Number(args.rate);
const PER_USER_LIMIT = 600;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const stack = await startPrivateStack({ name: 'resync' });
  try {
    const { apiKey, staff } = await seedTenant(stack, 'resync', 1);
    const email = staff[0]!.email;
    const api = (method: string, path: string, body?: unknown) =>
      jsonCall(`${stack.apiUrl}${path}`, method, body, apiKey);
    const emulator = (method: string, path: string, body?: unknown) =>
      jsonCall(`${stack.emulatorUrl}${path}`, method, body);
    const events = async () =>
      (
        (await emulator('GET', `/_emulator/calendars/${email}/events`)).body.items as {
          summary: string;
          status: string;
        }[]
      ).filter((e) => e.status !== 'cancelled');
    const stats = async () =>
      (await emulator('GET', `/_emulator/stats?user=${encodeURIComponent(email)}`)).body as {
        requests: number;
        writes: number;
        byOperation: Record<string, { byStatus: Record<string, number> }>;
      };

    // Seeding is not what is measured: lift the per-user limit while the appointments go in.
    await emulator('POST', '/_emulator/config', { userRateLimitPerMinute: 1_000_000 });
    const seedStarted = performance.now();
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, (_, k) => {
          const n = i + k;
          const day = new Date(Date.now() + (2 + (n % 60)) * 86400000).toISOString().slice(0, 10);
          const hour = String(8 + (n % 10)).padStart(2, '0');
          return api('PUT', `/v1/appointments/a-${n}`, {
            revision: 1,
            start: `${day}T${hour}:00:00`,
            end: `${day}T${hour}:30:00`,
            timeZone: 'Europe/Madrid',
            title: `Visit ${n}`,
            clientName: `Client ${n}`,
            staffIds: [staff[0]!.id],
          });
        }),
      );
    }
    while ((await events()).length < count) await sleep(500);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // The limit is a sliding minute: start measuring once the seeding's requests have left it.
    await emulator('POST', '/_emulator/config', { userRateLimitPerMinute: PER_USER_LIMIT });
    await sleep(61_000);
    await emulator('POST', `/_emulator/stats/reset?user=${encodeURIComponent(email)}`);
    const started = performance.now();
    const change = await api('PUT', '/v1/settings', {
      eventContent: { title: '{clientName}: {title}' },
      ...(rate ? { resyncRatePerSecond: rate } : {}),
    });
    if (!change.body.resync) throw new Error(`no re-sync started: ${JSON.stringify(change.body)}`);

    // Sample the emulator's request count every second: the busiest 60 s against the limit.
    const samples: { t: number; requests: number }[] = [];
    let renamed = 0;
    for (;;) {
      const s = await stats();
      samples.push({ t: performance.now(), requests: s.requests });
      renamed = (await events()).filter((e) => e.summary.startsWith('Client ')).length;
      if (renamed >= count) break;
      if (performance.now() - started > 30 * 60_000) throw new Error(`timed out with ${renamed}/${count} renamed`);
      await sleep(1000);
    }
    const seconds = (performance.now() - started) / 1000;
    const progress = (await api('GET', '/v1/settings/resync')).body;
    await sleep(2000); // stragglers (there should be none) still count
    const final = await stats();
    let busiest = 0;
    for (const a of samples) {
      const windowStart = samples.find((b) => b.t >= a.t - 60_000)!;
      busiest = Math.max(busiest, a.requests - windowStart.requests);
    }
    const limited = Object.values(final.byOperation).reduce(
      (n, o) => n + (o.byStatus['403'] ?? 0) + (o.byStatus['429'] ?? 0),
      0,
    );

    console.log(
      `appointments=${count} (one staff calendar, Google emulator, limit ${PER_USER_LIMIT} requests/min/user)`,
    );
    console.log(`seeding: ${seedSeconds.toFixed(1)} s (limit lifted)`);
    console.log(
      `re-sync after a title-template change: ${seconds.toFixed(1)} s until all ${count} events renamed; progress ${JSON.stringify(progress)}`,
    );
    console.log(
      `remote calls: requests=${final.requests} writes=${final.writes} rate-limited=${limited}; busiest 60 s: ${busiest} requests (limit ${PER_USER_LIMIT})`,
    );
    console.log(
      `resync: appointments=${count} seconds=${seconds.toFixed(1)} requests=${final.requests} writes=${final.writes} rate_limited=${limited} busiest_60s=${busiest}`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
