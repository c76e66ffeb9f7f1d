/**
 * The error type of a write held because its link needs re-authorisation: appointmentSync shows the
 * target as `held` (no retries, no failure) and the link's workflow resyncs it after a reconnect.
 * Free of I/O: workflows import it.
 */
export const HELD_CODE = 'link_needs_reauth';

/**
 * The error type of a local first attempt that sent nothing because the account's next request slot
 * was too far away: not an attempt (no sync-log row); the write goes on as a normal activity.
 */
export const NOT_STARTED_CODE = 'account_busy';
