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
  writeLog: WriteLogEntry[];
}

/** One applied event write, in the order the emulator applied them: what a test reads to prove ordering. */
export interface WriteLogEntry {
  seq: number;
  at: number;
  op: string;
  /** The written event's id and title (Google `summary`, Graph `subject`), when the answer carries them. */
  eventId?: string;
  title?: string;
}

/** Per user, only the newest writes are kept: a long bench must not grow the emulator without bound. */
const WRITE_LOG_LIMIT = 1000;

/** Unauthenticated requests are counted under this key (only visible in the unfiltered view). */
const ANONYMOUS = '';

/** Request counters of the provider API, kept per user so tests can isolate their own account. */
export class Stats {
  private perUser = new Map<string, UserStats>();
  private seq = 0;

  private of(user: string | undefined): UserStats {
    const key = user ?? ANONYMOUS;
    let s = this.perUser.get(key);
    if (!s) {
      s = { byOperation: new Map(), writes: 0, requests: 0, writeLog: [] };
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
  addWrite(user: string, op: string, body?: unknown): void {
    const s = this.of(user);
    s.writes += 1;
    const event = (body ?? {}) as { id?: unknown; summary?: unknown; subject?: unknown };
    const title = event.summary ?? event.subject;
    s.writeLog.push({
      seq: ++this.seq,
      at: Date.now(),
      op,
      ...(typeof event.id === 'string' ? { eventId: event.id } : {}),
      ...(typeof title === 'string' ? { title } : {}),
    });
    if (s.writeLog.length > WRITE_LOG_LIMIT) s.writeLog.splice(0, s.writeLog.length - WRITE_LOG_LIMIT);
  }

  /** The user's applied writes, oldest first (the newest WRITE_LOG_LIMIT). */
  writes(user: string): WriteLogEntry[] {
    return [...(this.perUser.get(user.toLowerCase())?.writeLog ?? [])];
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
