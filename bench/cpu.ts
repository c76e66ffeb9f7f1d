import { readFileSync, readdirSync } from 'node:fs';
import type { Knex } from 'knex';

// CPU time of the bench's stack, read from /proc (Linux). A figure per component, in CPU-ms, over a
// window the bench chooses: what one change costs, whatever the machine's other load does to latency.

/** Clock ticks per second of /proc's utime/stime (USER_HZ): 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, in ms. */
  cpuMs: number;
  /** cutime + cstime: children that exited and were waited for, in ms. */
  childrenCpuMs: number;
}

/** /proc/<pid>/stat; undefined when the process is gone. The command name may hold spaces: fields count from its ')'. */
export function readProcStat(pid: number, file = `/proc/${pid}/stat`): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17); fields[0] is field 3.
  const at = (n: number) => Number(fields[n - 3]);
  return { pid, ppid: at(4), cpuMs: (at(14) + at(15)) * MS_PER_TICK, childrenCpuMs: (at(16) + at(17)) * MS_PER_TICK };
}

/** CPU of a process's main thread alone, in ms (a Node process: its event loop, without its worker threads). */
export function mainThreadCpuMs(pid: number): number {
  return readProcStat(pid, `/proc/${pid}/task/${pid}/stat`)?.cpuMs ?? NaN;
}

/** CPU of a process and every live descendant (a wrapper's child does the work), plus children already reaped. */
export function processTreeCpuMs(root: number): number {
  const byParent = new Map<number, ProcStat[]>();
  let rootStat: ProcStat | undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (!stat) continue;
    if (stat.pid === root) rootStat = stat;
    const siblings = byParent.get(stat.ppid) ?? [];
    siblings.push(stat);
    byParent.set(stat.ppid, siblings);
  }
  if (!rootStat) return NaN;
  let total = 0;
  const queue = [rootStat];
  while (queue.length) {
    const s = queue.pop()!;
    total += s.cpuMs + s.childrenCpuMs;
    queue.push(...(byParent.get(s.pid) ?? []));
  }
  return total;
}

export interface CpuWindow {
  /** CPU-ms per component over the window: each named process, this process, and PostgreSQL per database. */
  cpuMs: Record<string, number>;
  seconds: number;
}

/**
 * Samples the named processes and PostgreSQL's backends from start() to stop(). Backends come and go
 * (pools open and close connections), so pg_stat_activity is read every `sampleMs`: a backend seen at
 * the start counts from its CPU then, one born later from zero, one gone counts up to its last sample.
 */
export class CpuMeter {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private processStart = new Map<string, number>();
  private selfStart = 0;
  /** pid → database, CPU when first seen in the window (0 if born in it), CPU when last seen. */
  private backends = new Map<number, { database: string; first: number; last: number }>();
  private sampling: Promise<void> = Promise.resolve();
  private samplingStarted = false;

  constructor(
    private readonly processes: () => Record<string, number | undefined>,
    private readonly admin: Knex,
    /** Only the stack's own databases: other work on the same PostgreSQL is not the stack's cost. */
    private readonly databases: () => string[],
    private readonly sampleMs = 200,
  ) {}

  async start(): Promise<void> {
    this.backends.clear();
    this.processStart.clear();
    this.startedAt = performance.now();
    this.selfStart = selfCpuMs();
    for (const [name, pid] of Object.entries(this.processes())) {
      if (pid) this.processStart.set(name, processTreeCpuMs(pid));
    }
    this.samplingStarted = false;
    await this.sampleBackends();
    this.samplingStarted = true;
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sampleBackends()).catch(() => undefined);
    }, this.sampleMs);
  }

  async stop(): Promise<CpuWindow> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sampleBackends();
    const cpuMs: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.processes())) {
      const before = this.processStart.get(name);
      if (pid && before !== undefined) cpuMs[name] = Math.max(0, processTreeCpuMs(pid) - before);
    }
    cpuMs['load client'] = selfCpuMs() - this.selfStart;
    for (const b of this.backends.values()) {
      const key = `postgres ${b.database}`;
      cpuMs[key] = (cpuMs[key] ?? 0) + Math.max(0, b.last - b.first);
    }
    return { cpuMs, seconds: (performance.now() - this.startedAt) / 1000 };
  }

  private async sampleBackends(): Promise<void> {
    const { rows } = await this.admin.raw(
      `select pid, datname from pg_stat_activity where datname = any(?) and pid <> pg_backend_pid()`,
      [this.databases()],
    );
    for (const row of rows as { pid: number; datname: string }[]) {
      const stat = readProcStat(row.pid);
      if (!stat) continue;
      const known = this.backends.get(row.pid);
      if (known) known.last = stat.cpuMs;
      // A backend already there at the start counts from now; one that appeared later was born in the window.
      else
        this.backends.set(row.pid, {
          database: row.datname,
          first: this.samplingStarted ? 0 : stat.cpuMs,
          last: stat.cpuMs,
        });
    }
  }
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU-ms per change per component, rounded to 0.1, with the total. */
export function perChange(window: CpuWindow, changes: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, ms] of Object.entries(window.cpuMs)) {
    out[name] = round1(ms / changes);
    total += ms;
  }
  out.total = round1(total / changes);
  return out;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
