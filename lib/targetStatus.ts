import { CLIENT_INVITATION_TARGET_KEY } from './clientInvitations';
import type { TargetStatus } from './types';

/** A row of `appointment_targets` as the workflow and the API show it. */
export function rowToTargetStatus(row: any): TargetStatus {
  return {
    targetKey: row.target_key,
    // No column of its own: the client's invitation has one fixed key, every other target is a calendar.
    kind: row.target_key === CLIENT_INVITATION_TARGET_KEY ? 'invitation' : 'calendar',
    provider: row.provider,
    linkId: row.link_id,
    calendarId: row.calendar_id,
    remoteId: row.remote_id,
    state: row.state,
    remoteExists: row.remote_exists,
    appliedRevision: row.applied_revision === null ? null : Number(row.applied_revision),
    appliedMode: row.applied_mode ?? null,
    lastError: row.last_error_code ? { code: row.last_error_code, message: row.last_error_message ?? '' } : undefined,
  };
}
