import { chaosLine, chaosWorkerEnv, runChaos } from '../bench/chaos';
import { startPrivateStack, type PrivateStack } from '../bench/harness';
import { engineName } from '../scripts/engine';

// The production shape on the real server: two API processes and two workers behind them.
const production = engineName() === 'server';
// A PostgreSQL restart cuts every connection on this machine's cluster: only where nothing else runs (.ci/run).
const restartPostgres = process.env.CALSYNC_CHAOS_RESTART_POSTGRES === '1';

/**
 * The short chaos run: hundreds of random operations under injected faults, a worker SIGKILL and
 * a Temporal restart (and a PostgreSQL restart with CALSYNC_CHAOS_RESTART_POSTGRES=1), then every
 * calendar (Google's emulated ones and CalDAV ones on Radicale) compared with the desired state.
 * `npm run chaos` runs the long one.
 */
describe('chaos convergence (short)', () => {
  let stack: PrivateStack;
  beforeAll(async () => {
    stack = await startPrivateStack({
      name: 'chaos_test',
      env: chaosWorkerEnv,
      apis: production ? 2 : 1,
      workers: production ? 2 : 1,
      ownTemporal: true, // restarted in the middle: not the suite's shared one
      caldav: true,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('nothing missing, duplicated, stale or orphaned', async () => {
    const lines: string[] = [];
    const result = await runChaos(
      {
        appointments: 40,
        operations: 250,
        staff: 5,
        kills: 1,
        restartTemporal: true,
        restartPostgres,
        seed: 7,
        concurrency: 12,
        // Two of the five calendars are CalDAV (Radicale behind the fault proxy).
        caldavStaff: 2,
        log: (l) => lines.push(l),
      },
      stack,
    );
    expect(lines.some((l) => l.includes('SIGKILL worker'))).toBe(true);
    expect(lines.some((l) => l.includes('restarting Temporal'))).toBe(true);
    if (restartPostgres) expect(lines.some((l) => l.includes('restarting PostgreSQL'))).toBe(true);
    // The run's story and its summary, for the note and for a failing CI log.
    console.log([...lines, chaosLine(result)].join('\n'));
    expect(result.operations).toBeGreaterThanOrEqual(250);
    expect({
      missing: result.missing,
      duplicated: result.duplicated,
      stale: result.stale,
      orphaned: result.orphaned,
    }).toEqual({
      missing: 0,
      duplicated: 0,
      stale: 0,
      orphaned: 0,
    });
  }, 400_000);
});
