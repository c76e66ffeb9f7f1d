/**
 * The error type of a write held because its link needs re-authorisation: appointmentSync shows the
 * target as `held` (no retries, no failure) and the link's workflow resyncs it after a reconnect.
 * Free of I/O: workflows import it.
 */
export const HELD_CODE = 'link_needs_reauth';
