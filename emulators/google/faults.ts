import { Faults } from '../common/faults';
import { SlidingWindow } from '../common/window';
import { GoogleError, backendError, rateLimited } from './errors';

export type RateLimitStyle = '403' | '429';

/** Per-user sliding 60 s window, answered the way Google's usage limits are. */
export class RateLimiter {
  private window = new SlidingWindow();

  constructor(
    public perMinute = 600,
    public style: RateLimitStyle = '403',
  ) {}

  check(user: string, now = Date.now()): GoogleError | undefined {
    const retryAfter = this.window.admit(user, this.perMinute, 60_000, now);
    return retryAfter === undefined ? undefined : rateLimited(this.style === '429' ? 429 : 403, retryAfter);
  }

  reset(): void {
    this.window.reset();
  }
}

function injectedError(status: number, retryAfterSeconds: number): GoogleError {
  if (status === 429) return rateLimited(429, retryAfterSeconds);
  if (status === 403) return rateLimited(403, retryAfterSeconds);
  if (status >= 500) return backendError(status);
  return new GoogleError(status, 'backendError', 'Injected error');
}

const EVENT_WRITES = new Set(['events.insert', 'events.update', 'events.patch', 'events.delete']);

/** Fault injection for /calendar/v3 only. */
export const googleFaults = (): Faults<GoogleError> => new Faults(EVENT_WRITES, injectedError);
