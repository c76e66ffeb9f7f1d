import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureEmulatorCertificate } from '../emulators/microsoft/certificate';
import { createMicrosoftEmulator } from '../emulators/microsoft/server';
import { MicrosoftBusyReader } from '../providers/microsoft/busy';
import type { ImportPass } from '../providers/busyTypes';

/**
 * Graph requests of one steady week of busy-time import for a staff member with 20 appointments
 * in Outlook (default: 12 weekly series and 8 single events), with calsync's defaults: a poll every
 * 5 minutes, a full pass every 24 hours over 1 day back and 90 ahead, and `changes` edits in the
 * week (alternately a series and a single event). Occurrences come from calendarView/delta with
 * their times only, so each needs its series master: "before" reads the master once per
 * occurrence, "after" once per master and pass (what the reader does).
 *   npm run bench:microsoft-busy [-- series=12 singles=8 changes=20]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const seriesCount = Number(args.series ?? 12);
const singleCount = Number(args.singles ?? 8);
const changes = Number(args.changes ?? 20);
const POLLS_PER_WEEK = (7 * 24 * 60) / 5;
const FULL_PASSES_PER_WEEK = 7;

async function main() {
  const certDir = process.env.MICROSOFT_EMULATOR_CERT_DIR ?? path.resolve('data');
  const tls = await ensureEmulatorCertificate(certDir);
  // The Graph client checks the emulator's certificate: Node reads the CA only at start-up.
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caPath, MICROSOFT_EMULATOR_CERT_DIR: certDir },
    });
    process.exit(run.status ?? 1);
  }
  const emulator = await createMicrosoftEmulator({ tls }).listen(0);
  const control = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${emulator.url}${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  };
  try {
    const user = await control('POST', '/_emulator/users', { email: 'staff@contoso.test' });
    const events = `/_emulator/users/${user.email}/calendars/calendar/events`;
    const day = (n: number) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
    const at = (d: number, h: number) => ({
      dateTime: `${day(d)}T${String(h).padStart(2, '0')}:00:00`,
      timeZone: 'Romance Standard Time',
    });
    const made: Array<{ id: string; series: boolean; day: number; hour: number }> = [];
    for (let i = 0; i < seriesCount; i++) {
      const [d, h] = [1 + (i % 5), 8 + (i % 9)];
      const e = await control('POST', events, {
        subject: `standing ${i}`,
        showAs: i % 4 === 0 ? 'free' : 'busy',
        start: at(d, h),
        end: at(d, h + 1),
        recurrence: {
          pattern: {
            type: 'weekly',
            interval: 1,
            daysOfWeek: [
              new Date(`${day(d)}T12:00:00Z`)
                .toLocaleDateString('en', { weekday: 'long', timeZone: 'UTC' })
                .toLowerCase(),
            ],
            firstDayOfWeek: 'monday',
          },
          range: { type: 'noEnd', startDate: day(d) },
        },
      });
      made.push({ id: e.id, series: true, day: d, hour: h });
    }
    for (let i = 0; i < singleCount; i++) {
      const [d, h] = [2 + i, 10 + (i % 6)];
      const e = await control('POST', events, { subject: `single ${i}`, start: at(d, h), end: at(d, h + 1) });
      made.push({ id: e.id, series: false, day: d, hour: h });
    }

    const reader = new MicrosoftBusyReader({ baseUrl: emulator.url, accessToken: user.accessToken });
    const window = { start: new Date(Date.now() - 86400000), end: new Date(Date.now() + 90 * 86400000) };
    await control('POST', `/_emulator/stats/reset?user=${encodeURIComponent(user.email)}`);
    let occurrencesRead = 0;
    const count = (pass: ImportPass) => (occurrencesRead += pass.upserts.filter((e) => e.seriesId).length);
    let cursor: string | undefined;
    const changeEvery = Math.floor(POLLS_PER_WEEK / Math.max(changes, 1));
    const fullEvery = POLLS_PER_WEEK / FULL_PASSES_PER_WEEK;
    let changed = 0;
    for (let poll = 0; poll < POLLS_PER_WEEK; poll++) {
      if (changes > 0 && poll % changeEvery === changeEvery - 1 && changed < changes) {
        const target = made.filter((m) => m.series === (changed % 2 === 0))[
          changed % (changed % 2 === 0 ? seriesCount : singleCount)
        ]!;
        await control('PATCH', `${events}/${encodeURIComponent(target.id)}`, { subject: `edited ${changed}` });
        changed += 1;
      }
      const pass = await reader.read('calendar', poll % fullEvery === 0 ? undefined : cursor, window);
      cursor = pass.cursor;
      count(pass);
    }
    const stats = await control('GET', `/_emulator/stats?user=${encodeURIComponent(user.email)}`);
    const by = (op: string): number => stats.byOperation[op]?.total ?? 0;
    const after = stats.requests as number;
    const before = after - by('events.get') + occurrencesRead;
    console.log(
      JSON.stringify(
        {
          mailbox: { series: seriesCount, singles: singleCount, changesInWeek: changed },
          week: { polls: POLLS_PER_WEEK, fullPasses: FULL_PASSES_PER_WEEK },
          requests: {
            afterMasterCache: after,
            beforeMasterCache: before,
            delta: by('calendarView.delta'),
            masterReads: by('events.get'),
            instancesLists: by('events.instances'),
            occurrencesRead,
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await emulator.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
