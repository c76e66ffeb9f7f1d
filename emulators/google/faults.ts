import { z } from 'zod';
import { GoogleError, backendError, rateLimited } from './errors';

export type RateLimitStyle = '403' | '429';

/**
 * Per-user sliding 60 s window. Only admitted requests enter the window, so a
 * client that backs off recovers once its old requests age out.
 */
export class RateLimiter {
  private windows = new Map<string, number[]>();

  constructor(public perMinute = 600, public style: RateLimitStyle = '403') {}

  check(user: string, now = Date.now()): GoogleError | undefined {
    const window = (this.windows.get(user) ?? []).filter((t) => t > now - 60_000);
    this.windows.set(user, window);
    if (window.length >= this.perMinute) {
      const retryAfter = Math.max(1, Math.ceil((window[0] + 60_000 - now) / 1000));
      return rateLimited(this.style === '429' ? 429 : 403, retryAfter);
    }
    window.push(now);
    return undefined;
  }

  reset(): void {
    this.windows.clear();
  }
}

export const faultInput = z.object({
  user: z.string().min(1).optional(),
  errorRate: z.number().min(0).max(1).default(0),
  errorStatuses: z.array(z.number().int().min(400).max(599)).min(1).default([500, 503, 429]),
  latencyMs: z.number().min(0).default(0),
  // A request held this long (longer than the client's timeout), then handled anyway: the write
  // may apply after the caller gave up, the most treacherous kind of timeout.
  timeoutRate: z.number().min(0).max(1).default(0),
  timeoutMs: z.number().min(0).default(20000),
  applyThenFail: z.union([z.enum(['never', 'firstInsert', 'always']), z.number().min(0).max(1)]).default('never'),
  retryAfterSeconds: z.number().min(0).default(1),
});
export type FaultConfig = Omit<z.infer<typeof faultInput>, 'user'>;

const EVENT_WRITES = new Set(['events.insert', 'events.update', 'events.patch', 'events.delete']);

/** Fault injection for /calendar/v3 only. A user's own config replaces the global one. */
export class Faults {
  private global: FaultConfig | undefined;
  private perUser = new Map<string, FaultConfig>();
  /** `${calendarId}\n${eventId}` of inserts already answered once under 'firstInsert'. */
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

  /** An error to answer instead of doing anything, or undefined. */
  errorBefore(config: FaultConfig | undefined): GoogleError | undefined {
    if (!config || config.errorRate <= 0 || Math.random() >= config.errorRate) return undefined;
    const status = config.errorStatuses[Math.floor(Math.random() * config.errorStatuses.length)];
    if (status === 429) return rateLimited(429, config.retryAfterSeconds);
    if (status === 403) return rateLimited(403, config.retryAfterSeconds);
    if (status >= 500) return backendError(status);
    return new GoogleError(status, 'backendError', 'Injected error');
  }

  /**
   * Records an insert attempt of the given id; true when this attempt must be
   * answered 500 after being applied.
   */
  noteInsertAttempt(config: FaultConfig | undefined, calendarId: string, eventId: string): boolean {
    if (config?.applyThenFail !== 'firstInsert') return false;
    const key = `${calendarId}\n${eventId}`;
    if (this.insertsSeen.has(key)) return false;
    this.insertsSeen.add(key);
    return true;
  }

  /** For writes other than the 'firstInsert' case. */
  failAfterApply(config: FaultConfig | undefined, op: string): boolean {
    if (!config || !EVENT_WRITES.has(op)) return false;
    const mode = config.applyThenFail;
    if (mode === 'always') return true;
    return typeof mode === 'number' && Math.random() < mode;
  }
}

export async function sleep(ms: number): Promise<void> {
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
