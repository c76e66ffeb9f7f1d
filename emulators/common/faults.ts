import { z } from 'zod';

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

export async function sleep(ms: number): Promise<void> {
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Fault injection for the provider API only. A user's own config replaces the global one.
 * `render` shapes an injected status as the provider's own error, so bodies stay provider-specific.
 */
export class Faults<E> {
  private global: FaultConfig | undefined;
  private perUser = new Map<string, FaultConfig>();
  /** `${calendarId}\n${key}` of creates already answered once under 'firstInsert'. */
  private insertsSeen = new Set<string>();

  constructor(
    private readonly eventWrites: ReadonlySet<string>,
    private readonly render: (status: number, retryAfterSeconds: number) => E,
  ) {}

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

  /** Latency, then maybe a hold past the client's timeout; the request is still handled after. */
  async delay(config: FaultConfig | undefined): Promise<void> {
    await sleep(config?.latencyMs ?? 0);
    if (config && config.timeoutRate > 0 && Math.random() < config.timeoutRate) await sleep(config.timeoutMs);
  }

  /** An error to answer instead of doing anything, or undefined. */
  errorBefore(config: FaultConfig | undefined): E | undefined {
    if (!config || config.errorRate <= 0 || Math.random() >= config.errorRate) return undefined;
    const status = config.errorStatuses[Math.floor(Math.random() * config.errorStatuses.length)]!;
    return this.render(status, config.retryAfterSeconds);
  }

  /**
   * After a write was applied: true when it must be answered 500 anyway. A create (`inserted`)
   * fails only the first time its key is seen under 'firstInsert', so a retry succeeds.
   */
  failAfterApply(config: FaultConfig | undefined, op: string, inserted?: { calendarId: string; key: string }): boolean {
    if (inserted && this.noteInsertAttempt(config, inserted.calendarId, inserted.key)) return true;
    if (!config || !this.eventWrites.has(op)) return false;
    const mode = config.applyThenFail;
    if (mode === 'always') return true;
    return typeof mode === 'number' && Math.random() < mode;
  }

  private noteInsertAttempt(config: FaultConfig | undefined, calendarId: string, key: string): boolean {
    if (config?.applyThenFail !== 'firstInsert') return false;
    const seen = `${calendarId}\n${key}`;
    if (this.insertsSeen.has(seen)) return false;
    this.insertsSeen.add(seen);
    return true;
  }
}
