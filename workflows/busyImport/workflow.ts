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
// A link imports a few calendars (the API allows 20): more asked for a full pass is not a real request.
const MAX_FULL_PASS_CALENDARS = 50;

/**
 * Imports a link's busy time: a pass at once, then whenever a push arrives (syncNow) or the poll
 * interval passes, whichever is first; keeps its push channels alive. The activities do the I/O
 * and keep the cursors in PostgreSQL, so this workflow only decides when, and when a pass must be
 * a full one (a provider that lost notifications says so with the signal).
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
  // Calendars whose next pass must be full: kept until a round has done it, across continue-as-new.
  const fullPass = new Set(input.fullPass ?? []);
  setHandler(importProgressQuery, () => progress);
  setHandler(syncNowSignal, (request) => {
    syncRequested = true;
    progress.pushes += 1;
    // A channel to renew or make again (a Graph lifecycle event): checked after this pass, not at its due time.
    if (request?.checkPush) pushCheckAt = 0;
    for (const calendarId of request?.fullPass ?? [])
      if (typeof calendarId === 'string' && fullPass.size < MAX_FULL_PASS_CALENDARS) fullPass.add(calendarId);
  });
  setHandler(stopImportSignal, () => {
    stopRequested = true;
  });

  for (let round = 0; round < ROUNDS_PER_RUN && !stopRequested; round++) {
    syncRequested = false;
    let waitMs: number;
    const full = [...fullPass];
    fullPass.clear();
    try {
      const result = await acts.importBusyTime({
        tenantId: input.tenantId,
        linkId: input.linkId,
        ...(full.length ? { fullPass: full } : {}),
      });
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
      // Not done: the next round is still a full pass for them.
      full.forEach((calendarId) => fullPass.add(calendarId));
    }
    await condition(() => syncRequested || stopRequested, waitMs);
    if (syncRequested && !stopRequested) await sleep(PUSH_COALESCE_MS);
  }
  if (stopRequested) {
    await acts.importBusyTime({ tenantId: input.tenantId, linkId: input.linkId, stop: true });
    progress.status = 'stopped';
    return progress;
  }
  return continueAsNew<typeof busyImport>({
    tenantId: input.tenantId,
    linkId: input.linkId,
    ...(fullPass.size ? { fullPass: [...fullPass] } : {}),
  });
}
