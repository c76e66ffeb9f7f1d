import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { mainThreadCpuMs, processTreeCpuMs } from './cpu';
import { jsonCall, percentile, seedTenant, startPrivateStack, type PrivateStack } from './harness';

/**
 * GET /v1/staff/:id/busy for a month: 500 events imported from the staff member's (emulated)
 * Google calendar plus calsync's own appointments, timed over many sequential requests.
 * Then old series (issue 15): a second tenant with `series` daily series that started `seriesYears`
 * ago, spread over `seriesStaff` staff members, asked for busy time over 62 days, while the first
 * tenant's GET /v1/settings is timed beside it (one tenant's expensive reads must not delay another's).
 *   npm run bench:busy [-- events=500 appointments=40 requests=500 series=500 seriesYears=3 seriesStaff=25]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const eventCount = Number(args.events ?? 500);
const appointmentCount = Number(args.appointments ?? 40);
const requests = Number(args.requests ?? 500);
const seriesCount = Number(args.series ?? 500);
const seriesYears = Number(args.seriesYears ?? 3);
const seriesStaff = Number(args.seriesStaff ?? 25);

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
    if (seriesCount > 0) await oldSeries(stack, api);
  } finally {
    await stack.stop();
  }
}

/**
 * A tenant whose daily series began years ago: its busy reads over 62 days, and meanwhile another
 * tenant's GET /v1/settings. Staff members without links: nothing is written anywhere.
 */
async function oldSeries(
  stack: PrivateStack,
  otherTenant: (method: string, path: string) => Promise<{ status: number; body: unknown }>,
) {
  const { body } = await jsonCall(
    `${stack.apiUrl}/v1/admin/tenants`,
    'POST',
    { id: 'series', name: 'series' },
    stack.adminKey,
  );
  const api = (method: string, path: string, payload?: unknown) =>
    jsonCall(`${stack.apiUrl}${path}`, method, payload, body.apiKey as string);
  const staffIds = Array.from({ length: seriesStaff }, (_, i) => `old${i}`);
  for (const id of staffIds) await api('PUT', `/v1/staff/${id}`, { name: id });
  const first = new Date(Date.now() - seriesYears * 365 * 86400000);
  first.setUTCHours(0, 0, 0, 0);
  for (let i = 0; i < seriesCount; i++) {
    const start = new Date(first.getTime() + (8 * 60 + (i % 40) * 15) * 60000);
    const res = await api('PUT', `/v1/appointments/old-${i}`, {
      revision: 1,
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60000).toISOString(),
      timeZone: 'Europe/Madrid',
      title: 'Daily',
      staffIds: [staffIds[i % seriesStaff]],
      recurrence: { rrule: 'FREQ=DAILY' },
    });
    if (res.status >= 300) throw new Error(`series ${i}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const from = new Date(Date.now() + 86400000);
  from.setUTCHours(0, 0, 0, 0);
  const to = new Date(from.getTime() + 62 * 86400000);
  const path = (staffId: string) =>
    `/v1/staff/${staffId}/busy?from=${from.toISOString()}&to=${to.toISOString()}&timeZone=Europe/Madrid`;
  const probe = await api('GET', path(staffIds[0]!));
  const perStaff = Math.ceil(seriesCount / seriesStaff);
  const expected = perStaff * 62;
  const got = probe.body?.intervals?.length ?? 0;
  // Every occurrence in the window, however old the series: fewer is a double booking waiting to happen.
  if (got < expected) console.log(`bench:busy series WRONG: ${got} intervals, expected ${expected}`);

  // CPU of the API per busy read, sequential: all of it, and its event loop's share (what other tenants wait for).
  for (let i = 0; i < 20; i++) await api('GET', path(staffIds[i % seriesStaff]!));
  const apiPid = stack.apiPid()!;
  const [cpuBefore, loopBefore] = [processTreeCpuMs(apiPid), mainThreadCpuMs(apiPid)];
  const cpuRequests = Math.max(50, Math.round(requests / 3));
  for (let i = 0; i < cpuRequests; i++) await api('GET', path(staffIds[i % seriesStaff]!));
  const perRead = (before: number, now: number) => ((now - before) / cpuRequests).toFixed(1);
  const cpuLine = `bench:busy old-series api cpu_ms_per_busy=${perRead(cpuBefore, processTreeCpuMs(apiPid))} event_loop_cpu_ms_per_busy=${perRead(loopBefore, mainThreadCpuMs(apiPid))} (n=${cpuRequests}, sequential)`;

  // A connection the API closed while its event loop was stalled is a failed request: counted, tried again.
  let resets = 0;
  const again = async <T>(call: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (++resets > 50) throw err;
      }
    }
  };
  // The busy reads run on a thread of their own: parsing their 185 KB answers on this event loop
  // would delay the settings timings below, and those are to time the API, not this client.
  const busyLoop = new Worker(BUSY_LOOP, {
    eval: true,
    workerData: { urls: staffIds.map((id) => `${stack.apiUrl}${path(id)}`), key: body.apiKey as string },
  });
  const busyDone = new Promise<{ times: number[]; resets: number; error?: string }>((resolve, reject) => {
    busyLoop.once('message', resolve);
    busyLoop.once('error', reject);
  });
  const settingsTimes: number[] = [];
  try {
    for (let i = 0; i < requests; i++) {
      const sent = performance.now();
      const res = await again(() => otherTenant('GET', '/v1/settings'));
      settingsTimes.push(performance.now() - sent);
      if (res.status !== 200) throw new Error(`settings answered ${res.status}: ${JSON.stringify(res)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    busyLoop.postMessage('stop');
  }
  const { times: busyTimes, resets: busyResets, error } = await busyDone;
  await busyLoop.terminate();
  if (error) throw new Error(error);
  resets += busyResets;
  const f = (n: number) => n.toFixed(1);
  console.log(
    `series=${seriesCount} daily, started ${first.toISOString().slice(0, 10)}, over ${seriesStaff} staff; window=62d; intervals per answer=${got} (expected ${expected})`,
  );
  console.log(
    `bench:busy old-series busy p50_ms=${f(percentile(busyTimes, 50))} p99_ms=${f(percentile(busyTimes, 99))} max_ms=${f(Math.max(...busyTimes))} (n=${busyTimes.length})`,
  );
  console.log(cpuLine);
  console.log(
    `bench:busy other tenant's settings meanwhile p50_ms=${f(percentile(settingsTimes, 50))} p99_ms=${f(percentile(settingsTimes, 99))} max_ms=${f(Math.max(...settingsTimes))} (n=${settingsTimes.length}) connection resets=${resets}`,
  );
}

/** Sequential busy reads until told to stop (at least 20); their times and retried connections back. */
const BUSY_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { urls, key } = workerData;
let running = true;
parentPort.on('message', () => (running = false));
(async () => {
  const times = [];
  let resets = 0;
  try {
    for (let i = 0; running || i < 20; i++) {
      const sent = performance.now();
      let status;
      for (;;) {
        try {
          const res = await fetch(urls[i % urls.length], { headers: { authorization: 'Bearer ' + key } });
          await res.arrayBuffer();
          status = res.status;
          break;
        } catch (err) {
          if (++resets > 50) throw err;
        }
      }
      times.push(performance.now() - sent);
      if (status !== 200) throw new Error('busy answered ' + status);
    }
    parentPort.postMessage({ times, resets });
  } catch (err) {
    parentPort.postMessage({ times, resets, error: String(err) });
  }
})();
`;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
