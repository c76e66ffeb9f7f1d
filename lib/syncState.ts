import type { TargetState } from './types';

/**
 * An appointment's overall sync state, as the workflow shows it (search attribute CalsyncState) and
 * as the API answers it. `held`: some writes wait for a link to be reconnected (the link itself is
 * `needs_reauth`); nothing failed and nothing is retried meanwhile.
 */
export type AppointmentSyncState = 'pending' | 'synced' | 'retrying' | 'failed' | 'held';

/** The one summary of an appointment's targets; `busy`: a change is still being coalesced or applied. */
export function appointmentSyncState(targets: readonly { state: TargetState }[], busy = false): AppointmentSyncState {
  if (targets.some((t) => t.state === 'failed')) return 'failed';
  if (targets.some((t) => t.state === 'retrying')) return 'retrying';
  if (busy || targets.some((t) => t.state === 'pending')) return 'pending';
  if (targets.some((t) => t.state === 'held')) return 'held';
  return 'synced';
}
