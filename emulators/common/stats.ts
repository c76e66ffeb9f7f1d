export interface OperationStats {
  total: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
}

interface UserStats {
  byOperation: Map<string, OperationStats>;
  writes: number;
  requests: number;
}

/** Unauthenticated requests are counted under this key (only visible in the unfiltered view). */
const ANONYMOUS = '';

/** Request counters of the provider API, kept per user so tests can isolate their own account. */
export class Stats {
  private perUser = new Map<string, UserStats>();

  private of(user: string | undefined): UserStats {
    const key = user ?? ANONYMOUS;
    let s = this.perUser.get(key);
    if (!s) {
      s = { byOperation: new Map(), writes: 0, requests: 0 };
      this.perUser.set(key, s);
    }
    return s;
  }

  record(user: string | undefined, op: string, status: number): void {
    const s = this.of(user);
    s.requests += 1;
    let o = s.byOperation.get(op);
    if (!o) {
      o = { total: 0, ok: 0, failed: 0, byStatus: {} };
      s.byOperation.set(op, o);
    }
    o.total += 1;
    if (status >= 200 && status < 300) o.ok += 1;
    else o.failed += 1;
    o.byStatus[String(status)] = (o.byStatus[String(status)] ?? 0) + 1;
  }

  /** An event write that changed state, whatever the client was answered. */
  addWrite(user: string): void {
    this.of(user).writes += 1;
  }

  snapshot(user?: string): { byOperation: Record<string, OperationStats>; writes: number; requests: number } {
    const sources =
      user !== undefined
        ? [this.perUser.get(user.toLowerCase())].filter((s): s is UserStats => s !== undefined)
        : [...this.perUser.values()];
    const byOperation: Record<string, OperationStats> = {};
    let writes = 0;
    let requests = 0;
    for (const s of sources) {
      writes += s.writes;
      requests += s.requests;
      for (const [op, o] of s.byOperation) {
        const acc = (byOperation[op] ??= { total: 0, ok: 0, failed: 0, byStatus: {} });
        acc.total += o.total;
        acc.ok += o.ok;
        acc.failed += o.failed;
        for (const [code, n] of Object.entries(o.byStatus)) acc.byStatus[code] = (acc.byStatus[code] ?? 0) + n;
      }
    }
    return { byOperation, writes, requests };
  }

  reset(user?: string): void {
    if (user !== undefined) this.perUser.delete(user.toLowerCase());
    else this.perUser.clear();
  }
}
