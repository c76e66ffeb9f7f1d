import knex from 'knex';
import { jsonCall, startPrivateStack } from './harness';

/**
 * Backfill: `appointments` future appointments for one staff member, then the staff member's Google
 * account is connected (a dedicated calendar, the product default) with the emulator's per-user
 * rate limit on (Google's 600 requests per minute). Prints how long the backfill takes, the events
 * in the calendar, duplicates (must be 0), the rate-limit answers (403/429) calsync met, and the
 * busiest minute of requests the emulator saw for that user.
 *   npm run bench:backfill [-- appointments=2000 limit=600]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const count = Number(args.appointments ?? 2000);
const limitPerMinute = Number(args.limit ?? 600);
const timeoutMs = Number(args.timeoutMinutes ?? 30) * 60_000;

async function poll<T>(what: string, probe: () => Promise<T | undefined>, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function main() {
  const stack = await startPrivateStack({ name: 'backfill', env: { LOG_LEVEL: 'warn' } });
  const db = knex({
    client: 'pg',
    connection: 'postgres://postgres@127.0.0.1:5432/calsync_backfill',
    pool: { min: 0, max: 2 },
  });
  try {
    await jsonCall(`${stack.emulatorUrl}/_emulator/config`, 'POST', {
      userRateLimitPerMinute: limitPerMinute,
      rateLimitStyle: '403',
    });
    const tenantId = 'backfill';
    const { body } = await jsonCall(
      `${stack.apiUrl}/v1/admin/tenants`,
      'POST',
      { id: tenantId, name: 'Backfill Salon' },
      stack.adminKey,
    );
    const key: string = body.apiKey;
    await jsonCall(`${stack.apiUrl}/v1/staff/s0`, 'PUT', { name: 's0' }, key);

    // The staff member's future appointments, before any calendar is connected.
    const seedStarted = Date.now();
    let next = 0;
    const put = async () => {
      while (next < count) {
        const i = next++;
        const day = new Date(Date.now() + (1 + (i % 300)) * 86400000).toISOString().slice(0, 10);
        const hour = 8 + Math.floor(i / 300);
        const res = await jsonCall(
          `${stack.apiUrl}/v1/appointments/bf-${String(i).padStart(5, '0')}`,
          'PUT',
          {
            revision: 1,
            start: `${day}T${String(hour).padStart(2, '0')}:00:00`,
            end: `${day}T${String(hour).padStart(2, '0')}:30:00`,
            timeZone: 'Europe/Madrid',
            title: `bf-${i}`,
            staffIds: ['s0'],
          },
          key,
        );
        if (res.status !== 202) throw new Error(`PUT ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, put));
    // Every appointment workflow has run its first round (a warning: no calendar yet).
    await poll('appointments settled', async () => {
      const { n } = (await db('sync_log')
        .where({ tenant_id: tenantId, error_code: 'staff_without_calendar' })
        .countDistinct('appointment_id as n')
        .first()) as { n: string };
      return Number(n) >= count ? true : undefined;
    });
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    const user = (await jsonCall(`${stack.emulatorUrl}/_emulator/users`, 'POST', { email: `s0@${tenantId}.test` }))
      .body;
    const started = Date.now();
    const link = await jsonCall(
      `${stack.apiUrl}/v1/staff/s0/links/google`,
      'POST',
      { accountEmail: user.email, refreshToken: user.refreshToken },
      key,
    );
    if (link.status !== 201) throw new Error(`link: ${link.status} ${JSON.stringify(link.body)}`);
    const linkId: string = link.body.id;
    const calendarId = await poll(
      'calendar provisioned',
      async () => {
        const row = await db('calendar_links').where({ id: linkId }).first('calendar_id', 'calendar_ready');
        return row?.calendar_ready ? (row.calendar_id as string) : undefined;
      },
      200,
    );

    // Done: every appointment's target synced (each push confirmed by the provider).
    let lastReport = 0;
    await poll('backfill', async () => {
      const rows = await db('appointment_targets')
        .where({ tenant_id: tenantId, link_id: linkId })
        .select('state')
        .count('* as n')
        .groupBy('state');
      const by = Object.fromEntries(rows.map((r: any) => [r.state, Number(r.n)]));
      if (Date.now() - lastReport > 15000) {
        lastReport = Date.now();
        console.error(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(by)}`);
      }
      return (by.synced ?? 0) >= count ? true : undefined;
    });
    const seconds = (Date.now() - started) / 1000;

    const events = (await jsonCall(`${stack.emulatorUrl}/_emulator/calendars/${encodeURIComponent(calendarId)}/events`))
      .body.items as { summary: string; status: string }[];
    const live = events.filter((e) => e.status !== 'cancelled');
    const duplicates = live.length - new Set(live.map((e) => e.summary)).size;
    const missing = count - new Set(live.map((e) => e.summary)).size;
    const limited = await db('sync_log')
      .where({ tenant_id: tenantId })
      .whereIn('error_code', ['rateLimitExceeded', 'userRateLimitExceeded', 'http_429'])
      .count('* as n')
      .first();
    const failed = await db('appointment_targets')
      .where({ tenant_id: tenantId, link_id: linkId, state: 'failed' })
      .count('* as n')
      .first();
    const stats = (await jsonCall(`${stack.emulatorUrl}/_emulator/stats?user=${encodeURIComponent(user.email)}`)).body;
    const attempts = await db('sync_log')
      .where({ tenant_id: tenantId })
      .whereNot('action', 'plan')
      .count('* as n')
      .first();

    console.log(
      `appointments=${count} emulator_limit_per_minute=${limitPerMinute} seeding_s=${seedSeconds.toFixed(1)}`,
    );
    console.log(
      `backfill: time_s=${seconds.toFixed(1)} events=${live.length} duplicates=${duplicates} missing=${missing} failed_targets=${Number(failed!.n)}`,
    );
    console.log(
      `rate limit answers seen by calsync (403/429)=${Number(limited!.n)} push_attempts=${Number(attempts!.n)} emulator_requests=${stats.requests} emulator_writes=${stats.writes}`,
    );
    console.log(`effective_rate_per_minute=${((live.length / seconds) * 60).toFixed(0)}`);
    console.log(
      `bench:backfill appointments=${count} time_s=${seconds.toFixed(1)} events=${live.length} duplicates=${duplicates} rate_limited=${Number(limited!.n)}`,
    );
  } finally {
    await db.destroy();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
