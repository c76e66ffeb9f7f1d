/**
 * At most `perKey` tasks of one key (a tenant) running at once, and at most as many again waiting,
 * each for `waitMs` at most. Beyond that, or after waiting that long, `LimitReached`: the caller
 * answers 429 rather than queue without end. Keys never wait for each other: only a key's own
 * tasks count against it.
 */

export class LimitReached extends Error {
  constructor(readonly key: string) {
    super(`too many reads of ${key} at once`);
  }
}

interface Waiter {
  grant(): void;
  timer: NodeJS.Timeout;
}

export class KeyedLimiter {
  private running = new Map<string, number>();
  private waiting = new Map<string, Waiter[]>();

  constructor(private readonly opts: { perKey: number; waitMs: number }) {}

  /** `work()` once the key has a free place; LimitReached when it gets none in time. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    await this.acquire(key);
    try {
      return await work();
    } finally {
      this.release(key);
    }
  }

  /** Running and waiting tasks of the key (for tests and metrics). */
  load(key: string): { running: number; waiting: number } {
    return { running: this.running.get(key) ?? 0, waiting: this.waiting.get(key)?.length ?? 0 };
  }

  private acquire(key: string): Promise<void> {
    const running = this.running.get(key) ?? 0;
    if (running < this.opts.perKey) {
      this.running.set(key, running + 1);
      return Promise.resolve();
    }
    const queue = this.waiting.get(key) ?? [];
    if (queue.length >= this.opts.perKey) return Promise.reject(new LimitReached(key));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          if (queue.length === 0) this.waiting.delete(key);
          reject(new LimitReached(key));
        }, this.opts.waitMs),
      };
      queue.push(waiter);
      this.waiting.set(key, queue);
    });
  }

  private release(key: string): void {
    const queue = this.waiting.get(key);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(key);
    // The place passes straight to the next waiter: the count stays.
    if (next) return next.grant();
    const running = (this.running.get(key) ?? 1) - 1;
    if (running > 0) this.running.set(key, running);
    else this.running.delete(key);
  }
}
