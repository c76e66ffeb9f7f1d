import { z } from 'zod';
import { GraphError, injected, throttled } from './errors';

export { sleep } from '../google/faults';

/**
 * Graph's per app-and-mailbox limits: a number of requests per sliding window (10,000 per
 * 10 minutes) and 4 requests in flight at once. Only admitted requests enter the window, so
 * a client that backs off recovers once its old requests age out.
 */
export class Throttle {
  private windows = new Map<string, number[]>();
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
    const windowMs = this.windowSeconds * 1000;
    const window = (this.windows.get(mailbox) ?? []).filter((t) => t > now - windowMs);
    this.windows.set(mailbox, window);
    if (window.length >= this.requestsPerWindow) {
      return throttled('ApplicationRequests', Math.max(1, Math.ceil((window[0]! + windowMs - now) / 1000)));
    }
    window.push(now);
    this.inFlight.set(mailbox, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(mailbox, (this.inFlight.get(mailbox) ?? 1) - 1);
    };
  }

  reset(): void {
    this.windows.clear();
    this.inFlight.clear();
  }
}

export const faultInput = z.object({
  user: z.string().min(1).optional(),
  errorRate: z.number().min(0).max(1).default(0),
  errorStatuses: z.array(z.number().int().min(400).max(599)).min(1).default([500, 503, 429]),
  latencyMs: z.number().min(0).default(0),
  // Held this long (longer than the client's timeout), then handled anyway: the write may apply
  // after the caller gave up.
  timeoutRate: z.number().min(0).max(1).default(0),
  timeoutMs: z.number().min(0).default(20000),
  applyThenFail: z.union([z.enum(['never', 'firstInsert', 'always']), z.number().min(0).max(1)]).default('never'),
  retryAfterSeconds: z.number().min(0).default(1),
});
export type FaultConfig = Omit<z.infer<typeof faultInput>, 'user'>;

const EVENT_WRITES = new Set(['events.create', 'events.update', 'events.delete', 'events.cancel']);

/** Fault injection for /v1.0 only. A mailbox's own config replaces the global one. */
export class Faults {
  private global: FaultConfig | undefined;
  private perUser = new Map<string, FaultConfig>();
  /** Creates already answered once under 'firstInsert', by calendar and transactionId (or event id). */
  private insertsSeen = new Set<string>();

  set(input: z.infer<typeof faultInput>): void {
    const { user, ...config } = input;
    if (user) this.perUser.set(user.toLowerCase(), config);
    else this.global = config;
    this.insertsSeen.clear();
  }

  clear(user?: string): void {
    if (user) this.perUser.delete(user.toLowerCase());
    else {
      this.global = undefined;
      this.perUser.clear();
    }
    this.insertsSeen.clear();
  }

  describe(): object {
    return { global: this.global ?? null, perUser: Object.fromEntries(this.perUser) };
  }

  forUser(user: string | undefined): FaultConfig | undefined {
    return (user !== undefined ? this.perUser.get(user) : undefined) ?? this.global;
  }

  errorBefore(config: FaultConfig | undefined): GraphError | undefined {
    if (!config || config.errorRate <= 0 || Math.random() >= config.errorRate) return undefined;
    const status = config.errorStatuses[Math.floor(Math.random() * config.errorStatuses.length)]!;
    return injected(status, config.retryAfterSeconds);
  }

  /** True when this create (first of its key) must be answered 500 after being applied. */
  noteInsertAttempt(config: FaultConfig | undefined, calendarId: string, key: string): boolean {
    if (config?.applyThenFail !== 'firstInsert') return false;
    const seen = `${calendarId}\n${key}`;
    if (this.insertsSeen.has(seen)) return false;
    this.insertsSeen.add(seen);
    return true;
  }

  failAfterApply(config: FaultConfig | undefined, op: string): boolean {
    if (!config || !EVENT_WRITES.has(op)) return false;
    const mode = config.applyThenFail;
    if (mode === 'always') return true;
    return typeof mode === 'number' && Math.random() < mode;
  }
}
