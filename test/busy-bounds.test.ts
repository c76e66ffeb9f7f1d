import { DateTime, IANAZone } from 'luxon';
import { isoInZone } from '../lib/isoInZone';
import { KeyedLimiter, LimitReached } from '../lib/keyedLimiter';
import { PoolSaturated, WorkBudgetExceeded, WorkerPool } from '../lib/workerPool';

/**
 * The pieces that keep busy-time reads bounded and fair (issue 15): the fast ISO writer, the
 * per-tenant limiter, and the worker pool's budget, queue bound and round robin.
 */

describe('isoInZone', () => {
  const zones = [
    'UTC',
    'Etc/UTC',
    'Europe/Madrid',
    'America/New_York',
    'America/St_Johns',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'Pacific/Apia',
    'America/Sao_Paulo',
  ];

  test('writes what luxon writes, across DST changes, odd offsets and milliseconds', () => {
    const luxon = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true });
    // Every 97 minutes over two years, and random instants from 1900 to 2100 (some with milliseconds).
    const instants: number[] = [];
    for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2028, 0, 1); ms += 97 * 60_000) instants.push(ms);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const ms = Date.UTC(1900, 0, 1) + Math.floor(random() * (Date.UTC(2100, 0, 1) - Date.UTC(1900, 0, 1)));
      instants.push(i % 3 === 0 ? ms : ms - (ms % 60_000));
    }
    // Every 10 minutes (and a second before each) of the days the zone's offset changes, 2026 to 2028.
    const changeDays = (zone: string) => {
      const out: number[] = [];
      const z = IANAZone.create(zone);
      for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2028, 0, 1); day += 86400000)
        if (z.offset(day) !== z.offset(day + 86400000))
          for (let ms = day; ms < day + 86400000; ms += 600_000) out.push(ms, ms - 1000);
      return out;
    };
    for (const zone of zones) {
      const wrong = [...instants, ...changeDays(zone)].filter((ms) => isoInZone(ms, zone) !== luxon(ms, zone));
      expect({ zone, wrong: wrong.slice(0, 3).map((ms) => [isoInZone(ms, zone), luxon(ms, zone)]) }).toEqual({
        zone,
        wrong: [],
      });
    }
  });

  test('each side of a DST change in Madrid', () => {
    expect(isoInZone(Date.parse('2027-03-28T00:59:59Z'), 'Europe/Madrid')).toBe('2027-03-28T01:59:59+01:00');
    expect(isoInZone(Date.parse('2027-03-28T01:00:00Z'), 'Europe/Madrid')).toBe('2027-03-28T03:00:00+02:00');
    expect(isoInZone(Date.parse('2027-03-28T01:00:00.250Z'), 'UTC')).toBe('2027-03-28T01:00:00.250Z');
  });
});

describe('KeyedLimiter', () => {
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  };

  test('at most perKey at once, as many again wait, the rest are refused at once', async () => {
    const limiter = new KeyedLimiter({ perKey: 2, waitMs: 5000 });
    const hold = gate();
    const started: number[] = [];
    const runs = [1, 2, 3, 4].map((n) =>
      limiter.run('a', async () => {
        started.push(n);
        await hold.opened;
        return n;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2]);
    expect(limiter.load('a')).toEqual({ running: 2, waiting: 2 });
    await expect(limiter.run('a', async () => 5)).rejects.toBeInstanceOf(LimitReached);
    hold.open();
    expect(await Promise.all(runs)).toEqual([1, 2, 3, 4]);
    expect(started).toEqual([1, 2, 3, 4]);
    expect(limiter.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  test('a waiter gives up after waitMs; another key is never held up', async () => {
    const limiter = new KeyedLimiter({ perKey: 1, waitMs: 100 });
    const hold = gate();
    const first = limiter.run('busy-tenant', () => hold.opened);
    const began = Date.now();
    const waited = limiter.run('busy-tenant', async () => 'late');
    // The other tenant runs at once while the first one's place is taken.
    expect(await limiter.run('other-tenant', async () => 'now')).toBe('now');
    expect(Date.now() - began).toBeLessThan(100);
    await expect(waited).rejects.toBeInstanceOf(LimitReached);
    expect(Date.now() - began).toBeGreaterThanOrEqual(95);
    hold.open();
    await first;
    expect(await limiter.run('busy-tenant', async () => 'again')).toBe('again');
  });

  test('a failing task gives its place back', async () => {
    const limiter = new KeyedLimiter({ perKey: 1, waitMs: 10 });
    await expect(limiter.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limiter.load('a')).toEqual({ running: 0, waiting: 0 });
  });
});

describe('WorkerPool', () => {
  const module = require.resolve('./helpers/poolTasks');
  let pool: WorkerPool;
  afterEach(async () => {
    await pool?.close();
  });

  test('runs a function on a thread and passes its result and its errors back', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 5000, maxQueued: 10 });
    expect(await pool.run('echo', { a: [1, 2] })).toEqual({ a: [1, 2] });
    await expect(pool.run('fail', 'no good')).rejects.toMatchObject({ name: 'RangeError', message: 'no good' });
    expect(await pool.run('echo', 'still there')).toBe('still there');
    expect(new TextDecoder().decode(await pool.run<Uint8Array>('bytes', 'déjà vu'))).toBe('déjà vu');
  });

  test('its threads run at the niceness asked, so the event loop wins the CPU when both want it', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 5000, maxQueued: 10, nice: 7 });
    expect(await pool.run('ownNice', null)).toBe(7);
  });

  test('a task past its budget is stopped, the event loop never waits for it, and the pool goes on', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 300, maxQueued: 10 });
    await pool.run('echo', 'warm');
    const began = Date.now();
    const long = pool.run('spin', 60_000);
    // The loop stays free while the thread spins.
    await new Promise((r) => setTimeout(r, 50));
    expect(Date.now() - began).toBeLessThan(250);
    await expect(long).rejects.toBeInstanceOf(WorkBudgetExceeded);
    expect(Date.now() - began).toBeLessThan(2000);
    // A new thread takes the next task.
    expect(await pool.run('echo', 'after')).toBe('after');
  });

  test('a task that needs more than the thread’s heap fails as over budget, and the process lives on', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 60_000, maxQueued: 10, maxHeapMb: 64 });
    await expect(pool.run('hog', null)).rejects.toThrow(
      new WorkBudgetExceeded('the work needed more than 64 MB of memory'),
    );
    expect(await pool.run('echo', 'after')).toBe('after');
  });

  test('a full queue refuses at once', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 5000, maxQueued: 2 });
    const queued = [pool.run('spin', 200), pool.run('spin', 10)];
    await expect(pool.run('echo', 'one too many')).rejects.toBeInstanceOf(PoolSaturated);
    await Promise.all(queued);
  });

  test('a task that waited longer than the budget for a thread is turned away, not started late', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 300, maxQueued: 10 });
    await pool.run('echo', 'warm');
    const ahead = [pool.run('spin', 250), pool.run('spin', 250)];
    const late = pool.run('echo', 'late');
    await Promise.all(ahead);
    await expect(late).rejects.toBeInstanceOf(PoolSaturated);
  });

  test('time waiting for a thread to start counts against no task', async () => {
    // Its module takes 500 ms to load; the task waits that long, within a budget of 200.
    pool = new WorkerPool({
      module: require.resolve('./helpers/poolSlowStart'),
      threads: 1,
      budgetMs: 200,
      maxQueued: 10,
    });
    expect(await pool.run('echo', 'started late')).toBe('started late');
  });

  test('keys are served in turn: one tenant’s burst does not go before another’s single task', async () => {
    pool = new WorkerPool({ module, threads: 1, budgetMs: 5000, maxQueued: 20 });
    await pool.run('echo', 'warm');
    const done: string[] = [];
    const track = (key: string, label: string) =>
      pool.run('spin', 20, key).then(() => {
        done.push(label);
      });
    const burst = [1, 2, 3, 4, 5].map((n) => track('a', `a${n}`));
    const single = track('b', 'b1');
    await Promise.all([...burst, single]);
    expect(done.indexOf('b1')).toBeLessThanOrEqual(2);
  });
});
