import os from 'node:os';
import { jsonCall, percentile, seedTenant, startPrivateStack } from './harness';

/**
 * One appointment at a time: time from the API's 202 to the event in the (emulated) Google
 * calendar, and remote writes per burst of ten updates, with the default sync settings.
 * Appointments go round-robin to `staff` accounts: back to back, one account alone would exceed
 * its request budget (540/min) and measure calsync's pacing instead of its latency.
 *   npm run bench:latency [-- appointments=40 bursts=10 staff=4]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const count = Number(args.appointments ?? 40);
const bursts = Number(args.bursts ?? 10);
const staffCount = Number(args.staff ?? 4);

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function main() {
  const stack = await startPrivateStack({ name: 'latency' });
  try {
    const { apiKey, staff } = await seedTenant(stack, 'latency', staffCount, { calendarMode: 'dedicated' });
    const email = staff[0]!.email;
    const day = new Date(Date.now() + 2 * 86400000).toISOString().slice(0, 10);
    const body = (revision: number, title: string, who: number) => ({
      revision,
      start: `${day}T10:00:00`,
      end: `${day}T11:00:00`,
      timeZone: 'Europe/Madrid',
      title,
      staffIds: [staff[who]!.id],
    });
    const hasEvent = async (summary: string, who = 0) =>
      (
        (
          await jsonCall(
            `${stack.emulatorUrl}/_emulator/calendars/${encodeURIComponent(staff[who]!.calendarId)}/events`,
          )
        ).body.items as { summary: string; status: string }[]
      ).some((e) => e.summary === summary && e.status !== 'cancelled');
    const put = (id: string, revision: number, title: string, who = 0) =>
      jsonCall(`${stack.apiUrl}/v1/appointments/${id}`, 'PUT', body(revision, title, who), apiKey);

    // Warm-up: the first workflow task of a fresh worker is slower than the rest.
    await put('warmup', 1, 'warmup');
    await waitFor(() => hasEvent('warmup'));

    const latencies: number[] = [];
    const apiLatencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const sent = performance.now();
      const who = i % staff.length;
      await put(`a-${i}`, 1, `bench-${i}`, who);
      const accepted = performance.now();
      apiLatencies.push(accepted - sent);
      await waitFor(() => hasEvent(`bench-${i}`, who));
      latencies.push(performance.now() - accepted);
    }

    const writes: number[] = [];
    for (let b = 0; b < bursts; b++) {
      const id = `burst-${b}`;
      await put(id, 1, `${id} r1`);
      await waitFor(() => hasEvent(`${id} r1`));
      await jsonCall(`${stack.emulatorUrl}/_emulator/stats/reset?user=${email}`, 'POST');
      for (let r = 2; r <= 11; r++) await put(id, r, `${id} r${r}`);
      await waitFor(() => hasEvent(`${id} r11`));
      await new Promise((r) => setTimeout(r, 500));
      writes.push((await jsonCall(`${stack.emulatorUrl}/_emulator/stats?user=${email}`)).body.writes);
    }

    const f = (n: number) => n.toFixed(0);
    console.log(`cores=${os.cpus().length} appointments=${count} staff=${staff.length} (sequential, default settings)`);
    console.log(
      `PUT→event in emulator ms: p50=${f(percentile(latencies, 50))} p95=${f(percentile(latencies, 95))} max=${f(Math.max(...latencies))}`,
    );
    console.log(
      `API 202 latency ms:       p50=${f(percentile(apiLatencies, 50))} p95=${f(percentile(apiLatencies, 95))} max=${f(Math.max(...apiLatencies))}`,
    );
    console.log(
      `remote writes per burst of 10 updates: ${writes.join(' ')} (mean ${(writes.reduce((a, b) => a + b, 0) / writes.length).toFixed(2)})`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
