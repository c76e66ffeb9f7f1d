import { condition, continueAsNew, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import {
  importProgressQuery,
  stopImportSignal,
  syncNowSignal,
  type BusyImportInput,
  type BusyImportProgress,
} from './contract';

// A round is about ten history events: continue as new well before the history grows large.
const ROUNDS_PER_RUN = 200;
const RETRY_AFTER_FAILURE_MS = 60_000;
// Never a busy loop, whatever the configuration says.
const MIN_WAIT_MS = 1000;
// Notifications come in bursts (a staff member's edits, calsync's own writes to an imported calendar):
// one read after a short pause answers them all and spares the account's request budget.
const PUSH_COALESCE_MS = 1000;

/**
 * Imports a link's busy time: a pass at once, then whenever a push arrives (syncNow) or the poll
 * interval passes, whichever is first; keeps its push channels alive. The activities do the I/O
 * and keep the cursors in PostgreSQL, so this workflow only decides when.
 */
export async function busyImport(input: BusyImportInput): Promise<BusyImportProgress> {
  const acts = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
  const progress: BusyImportProgress = { status: 'starting', rounds: 0, pushes: 0 };
  let syncRequested = false;
  let stopRequested = false;
  let pushCheckAt = 0;
  setHandler(importProgressQuery, () => progress);
  setHandler(syncNowSignal, (request) => {
    syncRequested = true;
    progress.pushes += 1;
    // A channel to renew or make again (a Graph lifecycle event): checked after this pass, not at its due time.
    if (request?.checkPush) pushCheckAt = 0;
  });
  setHandler(stopImportSignal, () => {
    stopRequested = true;
  });

  for (let round = 0; round < ROUNDS_PER_RUN && !stopRequested; round++) {
    syncRequested = false;
    let waitMs: number;
    try {
      const result = await acts.importBusyTime(input);
      progress.rounds += 1;
      progress.status = result.status;
      progress.last = result.calendars;
      if (result.status === 'stopped') return progress;
      waitMs = result.pollMs;
      if (result.status === 'active' && result.pushEnabled && Date.now() >= pushCheckAt) {
        try {
          pushCheckAt = Date.now() + (await acts.ensureImportPush(input)).nextCheckMs;
        } catch {
          // Push is an optimisation: polling carries on, and the channel is tried again later.
          pushCheckAt = Date.now() + RETRY_AFTER_FAILURE_MS;
        }
      }
      if (result.pushEnabled && result.status === 'active')
        waitMs = Math.max(MIN_WAIT_MS, Math.min(waitMs, pushCheckAt - Date.now()));
    } catch {
      progress.status = 'retrying';
      waitMs = RETRY_AFTER_FAILURE_MS;
    }
    await condition(() => syncRequested || stopRequested, waitMs);
    if (syncRequested && !stopRequested) await sleep(PUSH_COALESCE_MS);
  }
  if (stopRequested) {
    await acts.importBusyTime({ ...input, stop: true });
    progress.status = 'stopped';
    return progress;
  }
  return continueAsNew<typeof busyImport>(input);
}
