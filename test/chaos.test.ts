import { chaosWorkerEnv, runChaos } from '../bench/chaos';
import { startPrivateStack, type PrivateStack } from '../bench/harness';

/**
 * The short chaos run: hundreds of random operations under injected faults, a worker SIGKILL and
 * a Temporal restart, then every calendar (Google's emulated ones and CalDAV ones on Radicale) compared with the desired state. `npm run chaos` runs
 * the long one.
 */
describe('chaos convergence (short)', () => {
  let stack: PrivateStack;
  beforeAll(async () => {
    stack = await startPrivateStack({ name: 'chaos_test', env: chaosWorkerEnv, caldav: true });
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
        seed: 7,
        concurrency: 12,
        // Two of the five calendars are CalDAV (Radicale behind the fault proxy).
        caldavStaff: 2,
        log: (l) => lines.push(l),
      },
      stack,
    );
    expect(lines.some((l) => l.includes('SIGKILL worker'))).toBe(true);
    expect(lines.some((l) => l.includes('restarting the Temporal dev server'))).toBe(true);
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
