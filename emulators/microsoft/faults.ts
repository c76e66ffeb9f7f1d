import { Faults } from '../common/faults';
import { SlidingWindow } from '../common/window';
import { GraphError, injected, throttled } from './errors';

/**
 * Graph's per app-and-mailbox limits: a number of requests per sliding window (10,000 per
 * 10 minutes) and 4 requests in flight at once.
 */
export class Throttle {
  private window = new SlidingWindow();
  private inFlight = new Map<string, number>();

  constructor(
    public requestsPerWindow = 10_000,
    public windowSeconds = 600,
    public concurrencyLimit = 4,
    public concurrencyRetryAfterSeconds = 1,
  ) {}

  /** Admits a request (returns its release function) or answers the 429 Graph would. */
  enter(mailbox: string, now = Date.now()): GraphError | (() => void) {
    const running = this.inFlight.get(mailbox) ?? 0;
    if (running >= this.concurrencyLimit) return throttled('MailboxConcurrency', this.concurrencyRetryAfterSeconds);
    const retryAfter = this.window.admit(mailbox, this.requestsPerWindow, this.windowSeconds * 1000, now);
    if (retryAfter !== undefined) return throttled('ApplicationRequests', retryAfter);
    this.inFlight.set(mailbox, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(mailbox, (this.inFlight.get(mailbox) ?? 1) - 1);
    };
  }

  reset(): void {
    this.window.reset();
    this.inFlight.clear();
  }
}

const EVENT_WRITES = new Set(['events.create', 'events.update', 'events.delete', 'events.cancel']);

/** Fault injection for /v1.0 only; a create's 'firstInsert' key is its transactionId (or event id). */
export const graphFaults = (): Faults<GraphError> => new Faults(EVENT_WRITES, injected);
