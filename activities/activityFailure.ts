import { ApplicationFailure } from '@temporalio/activity';
import { asProviderError } from '../providers/errors';

/**
 * The one way a failure leaves an activity: its code as the failure type, no retries unless it is
 * retryable, the server's Retry-After as the next attempt's delay, and its kind and HTTP status as
 * details (the sync log and support read them).
 */
export function activityFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const failure = asProviderError(err);
  return ApplicationFailure.create({
    type: failure.code,
    message: failure.message,
    nonRetryable: failure.kind !== 'retryable',
    nextRetryDelay: failure.retryAfterMs !== undefined ? Math.max(failure.retryAfterMs, 100) : undefined,
    // retryAfterMs again in the details: a local activity's failure reaches its workflow without nextRetryDelay.
    details: [{ kind: failure.kind, status: failure.status ?? null, retryAfterMs: failure.retryAfterMs ?? null }],
  });
}
