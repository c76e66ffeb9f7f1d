import os from 'node:os';
import { createDb } from '../lib/db';
import { jsonCall, percentile, seededRandom, seedTenant, startPrivateStack } from './harness';

/**
 * POST /v1/availability over a team: 20 staff members, 500 busy intervals each (calsync
 * appointments through the API, the rest imported busy time), a 14-day window, 15-minute slots,
 * each person's stored working hours; timed over many sequential requests.
 *   npm run bench:availability [-- staff=20 intervals=500 appointments=20 days=14 requests=300]
 *
 * The imported busy time is written straight into `imported_busy`, as the import would store it
 * (`npm run bench:busy` times the import path itself); links are real (emulated Google), so the
 * answer's freshness is read as in production.
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const staffCount = Number(args.staff ?? 20);
const intervals = Number(args.intervals ?? 500);
const appointments = Number(args.appointments ?? 20);
const days = Number(args.days ?? 14);
const requests = Number(args.requests ?? 300);

async function main() {
  const stack = await startPrivateStack({ name: 'availability' });
  const db = createDb('postgres://postgres@127.0.0.1:5432/calsync_availability');
  try {
    const { apiKey, staff } = await seedTenant(stack, 'avail', staffCount, { calendarMode: 'dedicated' });
    const api = (method: string, path: string, body?: unknown) =>
      jsonCall(`${stack.apiUrl}${path}`, method, body, apiKey);
    const start = new Date(Date.now() + 86400000);
    start.setUTCHours(0, 0, 0, 0);
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60000);
    const iso = (minutes: number) => at(minutes).toISOString().replace('.000Z', 'Z');
    const random = seededRandom(20);
    const quarter = (maxMinutes: number) => Math.floor((random() * maxMinutes) / 15) * 15;
    const span = days * 1440;

    for (const [n, member] of staff.entries()) {
      // Weekday hours in two zones, with a day off and a shorter day.
      const zone = n % 2 ? 'America/New_York' : 'Europe/Madrid';
      const hours = [
        { start: '08:00', end: '13:00' },
        { start: '14:00', end: '19:00' },
      ];
      await api('PUT', `/v1/staff/${member.id}`, {
        name: member.id,
        workingHours: {
          timeZone: zone,
          weekly: {
            mon: hours,
            tue: hours,
            wed: hours,
            thu: hours,
            fri: hours,
            sat: [{ start: '09:00', end: '13:00' }],
          },
          overrides: [{ date: iso(3 * 1440).slice(0, 10), hours: [{ start: '10:00', end: '12:00' }] }],
          daysOff: [iso(5 * 1440).slice(0, 10)],
        },
      });
      for (let i = 0; i < appointments; i++) {
        const from = quarter(span - 120);
        const res = await api('PUT', `/v1/appointments/${member.id}-${i}`, {
          revision: 1,
          start: iso(from),
          end: iso(from + 60),
          timeZone: 'UTC',
          title: 'Cut',
          staffIds: [member.id],
        });
        if (res.status !== 202) throw new Error(`appointment answered ${res.status}`);
      }
      const [link] = (await api('GET', `/v1/staff/${member.id}/links`)).body.links;
      const rows = Array.from({ length: intervals - appointments }, (_, i) => {
        const allDay = i % 40 === 0;
        const from = allDay ? Math.floor(random() * days) * 1440 : quarter(span - 120);
        return {
          tenant_id: 'avail',
          staff_id: member.id,
          link_id: link.id,
          calendar_id: member.email,
          remote_id: `bench-${i}`,
          start_at: at(from),
          end_at: at(from + (allDay ? 1440 : 30 + quarter(90))),
          all_day: allDay,
          show_as: i % 15 === 0 ? 'free' : i % 10 === 0 ? 'tentative' : 'busy',
        };
      });
      await db.batchInsert('imported_busy', rows, 500);
    }
    // Fresh statistics after the bulk insert, as autovacuum would gather them.
    await db.raw('analyze');
    // Let the appointments' calendar writes settle, so the timings are of the query alone.
    const total = staffCount * appointments;
    for (let waited = 0; ; waited += 500) {
      const [{ n }] = await db('sync_log').where({ tenant_id: 'avail' }).countDistinct('appointment_id as n');
      if (Number(n) >= total) break;
      if (waited > 300_000) throw new Error(`only ${n} of ${total} appointments synced`);
      await new Promise((r) => setTimeout(r, 500));
    }

    const body = (mode: 'any' | 'all') => ({
      staffIds: staff.map((s) => s.id),
      mode,
      durationMinutes: 30,
      slotIntervalMinutes: 15,
      bufferBeforeMinutes: 10,
      bufferAfterMinutes: 10,
      window: { from: iso(0), to: iso(span) },
      timeZone: 'Europe/Madrid',
      maxSlots: 2000,
    });
    const f = (n: number) => n.toFixed(1);
    const time = async (mode: 'any' | 'all') => {
      const first = await api('POST', '/v1/availability', body(mode));
      if (first.status !== 200) throw new Error(`availability answered ${first.status} ${JSON.stringify(first.body)}`);
      for (let i = 0; i < 20; i++) await api('POST', '/v1/availability', body(mode)); // warm-up
      const times: number[] = [];
      const parts: Record<string, number[]> = { db: [], slots: [] };
      for (let i = 0; i < requests; i++) {
        const sent = performance.now();
        const res = await fetch(`${stack.apiUrl}/v1/availability`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify(body(mode)),
        });
        await res.json();
        times.push(performance.now() - sent);
        if (res.status !== 200) throw new Error(`availability answered ${res.status}`);
        // Server-Timing: db;dur=…, slots;dur=… (the server's own share of the request).
        for (const [, name, dur] of (res.headers.get('server-timing') ?? '').matchAll(/(\w+);dur=([\d.]+)/g))
          parts[name!]?.push(Number(dur));
      }
      const p = (values: number[]) => `p50=${f(percentile(values, 50))} p99=${f(percentile(values, 99))}`;
      console.log(
        `bench:availability mode=${mode} slots=${first.body.slots.length} p50_ms=${f(percentile(times, 50))} p95_ms=${f(percentile(times, 95))} p99_ms=${f(percentile(times, 99))} max_ms=${f(Math.max(...times))} (server: db ${p(parts.db!)}, slots ${p(parts.slots!)})`,
      );
    };
    const stored = await db('imported_busy').where({ tenant_id: 'avail' }).count('* as n');
    console.log(
      `cores=${os.cpus().length} staff=${staffCount} busy_per_staff=${intervals} (appointments=${appointments}, imported=${Number(stored[0]!.n) / staffCount}) window=${days}d slot_interval=15m duration=30m requests=${requests} (sequential)`,
    );
    await time('any');
    await time('all');
  } finally {
    await db.destroy();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
