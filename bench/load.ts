import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNaiveSyncServer } from './baseline';
import { CpuMeter, perChange } from './cpu';
import { historyCost } from './historyCost';
import {
  adminDb,
  jsonCall,
  peakMemoryMiB,
  percentile,
  profileTemporalServer,
  seedTenant,
  startPrivateStack,
  type PrivateStack,
} from './harness';

/**
 * Load benchmark: appointments arrive through the API at a fixed rate; measured from the API's 202
 * to the event being in the emulated calendar, plus throughput, remote writes per change under
 * bursts, API latency and peak memory. Then the same workload through a naive baseline (the
 * provider called inside the HTTP request). Prints a table, writes data/bench-results.json.
 *   npm run bench [-- rate=50 seconds=20 staff=20 bursts=200 burstSize=5 engine=dev|server built=1|0]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const rate = Number(args.rate ?? 50);
const seconds = Number(args.seconds ?? 20);
const staffCount = Number(args.staff ?? 20);
const bursts = Number(args.bursts ?? 200);
const burstSize = Number(args.burstSize ?? 5);
const built = args.built !== '0';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open loop: item i starts at i/rate seconds whatever the earlier ones are doing. */
async function openLoop<T>(count: number, perSecond: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const started = performance.now();
  const running: Promise<T>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(fn(i));
  }
  return Promise.all(running);
}

interface EventView {
  id: string;
  status: string;
  summary: string;
  created: string;
  updated: string;
  extendedProperties?: { private?: Record<string, string> };
}

async function calendarEvents(stack: PrivateStack, calendarIds: string[]): Promise<EventView[]> {
  const lists = await Promise.all(
    calendarIds.map(
      async (e) =>
        (await jsonCall(`${stack.emulatorUrl}/_emulator/calendars/${encodeURIComponent(e)}/events`)).body
          .items as EventView[],
    ),
  );
  return lists.flat().filter((e) => e.status !== 'cancelled');
}

async function waitForSummaries(
  stack: PrivateStack,
  calendarIds: string[],
  wanted: Set<string>,
  timeoutMs = 120_000,
): Promise<Map<string, EventView>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = new Map<string, EventView>();
    for (const e of await calendarEvents(stack, calendarIds)) if (wanted.has(e.summary)) found.set(e.summary, e);
    if (found.size === wanted.size || Date.now() > deadline) return found;
    await sleep(250);
  }
}

async function main() {
  // What production runs (the build's JavaScript), unless built=0 asks for the sources through tsx.
  const stack = await startPrivateStack({ name: 'bench', built });
  const admin = adminDb();
  const meter = new CpuMeter(
    () => stack.processes(),
    admin,
    () => stack.databases,
  );
  try {
    const { apiKey, staff } = await seedTenant(stack, 'bench', staffCount, { calendarMode: 'dedicated' });
    const calendarIds = staff.map((s) => s.calendarId);
    const day = new Date(Date.now() + 2 * 86400000).toISOString().slice(0, 10);
    const body = (revision: number, title: string, staffId: string) => ({
      revision,
      start: `${day}T10:00:00`,
      end: `${day}T11:00:00`,
      timeZone: 'Europe/Madrid',
      title,
      staffIds: [staffId],
    });

    // Warm-up: the first workflow tasks of a fresh worker and the first token refreshes are slower.
    await Promise.all(
      staff.map((s, i) =>
        jsonCall(`${stack.apiUrl}/v1/appointments/warm-${i}`, 'PUT', body(1, `warm-${i}`, s.id), apiKey),
      ),
    );
    await waitForSummaries(stack, calendarIds, new Set(staff.map((_, i) => `warm-${i}`)));

    // Phase 1: new appointments at a fixed arrival rate. CPU is counted from the first arrival until
    // every event is in and the workflows have reported (a second later): all a create costs.
    const count = rate * seconds;
    await meter.start();
    const serverProfile = profileTemporalServer('creates', seconds).catch((err) =>
      console.error(`no profile of the Temporal server: ${err}`),
    );
    const sent = await openLoop(count, rate, async (i) => {
      const t0 = Date.now();
      const res = await jsonCall(
        `${stack.apiUrl}/v1/appointments/a-${i}`,
        'PUT',
        body(1, `a-${i}`, staff[i % staff.length]!.id),
        apiKey,
      );
      return { title: `a-${i}`, status: res.status, sentAt: t0, acceptedAt: Date.now() };
    });
    const events = await waitForSummaries(stack, calendarIds, new Set(sent.map((s) => s.title)));
    await sleep(1000);
    const createCpu = await meter.stop();
    await serverProfile;
    const latencies = sent
      .filter((s) => events.has(s.title))
      .map((s) => Date.parse(events.get(s.title)!.created) - s.acceptedAt);
    const apiMs = sent.map((s) => s.acceptedAt - s.sentAt);
    const lastApplied = Math.max(...[...events.values()].map((e) => Date.parse(e.created)));
    const throughput = events.size / ((lastApplied - sent[0]!.sentAt) / 1000);

    // Phase 2: bursts of updates; each burst is one change as far as the calendar is concerned.
    await jsonCall(`${stack.emulatorUrl}/_emulator/stats/reset`, 'POST');
    await meter.start();
    const burstTargets = Array.from({ length: Math.min(bursts, count) }, (_, b) => b);
    await openLoop(burstTargets.length, rate / burstSize, async (b) => {
      for (let r = 2; r <= burstSize + 1; r++) {
        await jsonCall(
          `${stack.apiUrl}/v1/appointments/a-${b}`,
          'PUT',
          body(r, `a-${b} r${r}`, staff[b % staff.length]!.id),
          apiKey,
        );
        await sleep(20);
      }
    });
    await waitForSummaries(stack, calendarIds, new Set(burstTargets.map((b) => `a-${b} r${burstSize + 1}`)));
    await sleep(1000);
    const burstCpu = await meter.stop();
    const burstStats = (await jsonCall(`${stack.emulatorUrl}/_emulator/stats`)).body;
    const writesPerBurst = burstStats.writes / burstTargets.length;
    // What Temporal kept per appointment: a sample of the creates, then of the burst targets.
    const sample = (n: number) => Array.from({ length: n }, (_, i) => `appt:bench:a-${count - 1 - i}`);
    const createHistory = await historyCost(stack.temporalAddress, sample(Math.min(20, count - burstTargets.length)));
    const burstHistory = await historyCost(
      stack.temporalAddress,
      burstTargets.slice(0, 20).map((b) => `appt:bench:a-${b}`),
    );
    const workerMiB = peakMemoryMiB(stack.workerPid());
    const apiMiB = peakMemoryMiB(stack.apiPid());

    // Baseline: the same arrivals, provider called inside the request, on fresh accounts.
    const baselineUsers = await Promise.all(
      Array.from(
        { length: staffCount },
        async (_, i) =>
          (await jsonCall(`${stack.emulatorUrl}/_emulator/users`, 'POST', { email: `naive${i}@bench.test` })).body,
      ),
    );
    const naive = await startNaiveSyncServer({
      googleRootUrl: `${stack.emulatorUrl}/`,
      accessTokens: new Map(baselineUsers.map((u: { email: string; accessToken: string }) => [u.email, u.accessToken])),
    });
    const naiveBody = (title: string, i: number) => ({
      staffEmail: baselineUsers[i % staffCount].email,
      title,
      start: `${day}T10:00:00+01:00`,
      end: `${day}T11:00:00+01:00`,
      timeZone: 'Europe/Madrid',
    });
    // The naive server runs in this process: its cost is the load client's line, with the emulator's.
    const naiveMeter = new CpuMeter(
      () => ({ emulator: stack.processes().emulator }),
      admin,
      () => [],
    );
    await naiveMeter.start();
    const naiveSent = await openLoop(count, rate, async (i) => {
      const t0 = Date.now();
      const res = await jsonCall(`${naive.url}/appointments/n-${i}`, 'PUT', naiveBody(`n-${i}`, i));
      return { ok: res.status === 200, ms: Date.now() - t0 };
    });
    const naiveCpu = await naiveMeter.stop();
    await jsonCall(`${stack.emulatorUrl}/_emulator/stats/reset`, 'POST');
    await openLoop(burstTargets.length, rate / burstSize, async (b) => {
      for (let r = 2; r <= burstSize + 1; r++) {
        await jsonCall(`${naive.url}/appointments/n-${b}`, 'PUT', naiveBody(`n-${b} r${r}`, b));
        await sleep(20);
      }
    });
    const naiveWritesPerBurst =
      (await jsonCall(`${stack.emulatorUrl}/_emulator/stats`)).body.writes / burstTargets.length;
    await naive.close();
    const naiveMs = naiveSent.map((s) => s.ms);

    const results = {
      machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      code: built ? 'production build' : 'sources through tsx',
      workload: { rate, seconds, appointments: count, staff: staffCount, bursts: burstTargets.length, burstSize },
      calsync: {
        accepted: sent.filter((s) => s.status === 202).length,
        applied: events.size,
        p50_ms: percentile(latencies, 50),
        p95_ms: percentile(latencies, 95),
        p99_ms: percentile(latencies, 99),
        max_ms: Math.max(...latencies),
        throughput_per_s: Number(throughput.toFixed(1)),
        writes_per_burst: Number(writesPerBurst.toFixed(2)),
        api_p50_ms: percentile(apiMs, 50),
        api_p99_ms: percentile(apiMs, 99),
        worker_peak_mib: Math.round(workerMiB),
        api_peak_mib: Math.round(apiMiB),
        cpu_ms_per_change: perChange(createCpu, events.size),
        cpu_ms_per_burst_update: perChange(burstCpu, burstTargets.length * burstSize),
        cpu_window_s: Number(createCpu.seconds.toFixed(1)),
        history_per_create: createHistory,
        history_per_create_and_burst: burstHistory,
      },
      baseline: {
        ok: naiveSent.filter((s) => s.ok).length,
        p50_ms: percentile(naiveMs, 50),
        p95_ms: percentile(naiveMs, 95),
        p99_ms: percentile(naiveMs, 99),
        writes_per_burst: Number(naiveWritesPerBurst.toFixed(2)),
        cpu_ms_per_change: perChange(naiveCpu, naiveSent.filter((s) => s.ok).length),
      },
      engine: stack.engine,
    };
    const c = results.calsync;
    const b = results.baseline;
    const rows: [string, string | number, string | number][] = [
      ['appointments accepted / applied', `${c.accepted} / ${c.applied}`, `${b.ok} ok`],
      ['202 → event p50 (ms)', c.p50_ms, `${b.p50_ms} (request)`],
      ['202 → event p95 (ms)', c.p95_ms, `${b.p95_ms} (request)`],
      ['202 → event p99 (ms)', c.p99_ms, `${b.p99_ms} (request)`],
      ['API latency p50 / p99 (ms)', `${c.api_p50_ms} / ${c.api_p99_ms}`, `${b.p50_ms} / ${b.p99_ms}`],
      ['sustained throughput (events/s)', c.throughput_per_s, '-'],
      [`remote writes per burst of ${burstSize}`, c.writes_per_burst, b.writes_per_burst],
      ['peak memory worker / API (MiB)', `${c.worker_peak_mib} / ${c.api_peak_mib}`, '-'],
      ...Object.keys(c.cpu_ms_per_change).map((name): [string, number, string | number] => [
        `CPU-ms per create: ${name}`,
        c.cpu_ms_per_change[name]!,
        b.cpu_ms_per_change[name] ?? '-',
      ]),
      ['CPU-ms per update in bursts: total', c.cpu_ms_per_burst_update.total!, '-'],
      [
        'history events / workflow tasks per create',
        `${c.history_per_create.events} / ${c.history_per_create.workflowTasks}`,
        '-',
      ],
      [
        `… per create + burst of ${burstSize}`,
        `${c.history_per_create_and_burst.events} / ${c.history_per_create_and_burst.workflowTasks}`,
        '-',
      ],
    ];
    console.log(
      `\nmachine: ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB; Temporal: ${results.engine}; ${results.code}; ${rate} appointments/s for ${seconds} s over ${staffCount} staff calendars`,
    );
    console.log(`${'figure'.padEnd(46)}${'calsync'.padEnd(18)}baseline (provider in the request)`);
    for (const [name, ours, theirs] of rows) console.log(`${name.padEnd(46)}${String(ours).padEnd(18)}${theirs}`);
    console.log(`ratio p99 calsync(202→event) / baseline(request): ${(c.p99_ms / b.p99_ms).toFixed(2)}`);
    const out = path.join(__dirname, '..', 'data', 'bench-results.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2));
    console.log(`written to ${path.relative(process.cwd(), out)}`);
    console.log(
      `bench: rate=${rate} p50_ms=${c.p50_ms} p95_ms=${c.p95_ms} p99_ms=${c.p99_ms} writes_per_change=${c.writes_per_burst} baseline_p99_ms=${b.p99_ms} cpu_ms_per_change=${c.cpu_ms_per_change.total} baseline_cpu_ms_per_change=${b.cpu_ms_per_change.total} engine=${stack.engine}`,
    );
  } finally {
    await admin.destroy();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
