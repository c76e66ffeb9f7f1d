import { Worker } from 'node:worker_threads';

/**
 * A few worker threads running the exported functions of one module: CPU-heavy work (series
 * expansion, JSON of thousands of intervals) off the event loop that answers every other request.
 * Bounded three ways: a fixed number of threads, a queue of at most `maxQueued` tasks (served round
 * robin by key, so one tenant's burst waits behind its own tasks, not in front of everyone's), and a
 * budget per task: a task still running after `budgetMs` has its thread stopped (and later replaced),
 * so no request can hold a thread for long (nor, with `maxHeapMb`, fill the process's memory: the
 * thread runs out of heap and is stopped instead), and a task that waited longer than that for a busy
 * thread is turned away rather than started late.
 */

/** A task that ran past its time budget, or its thread's heap: its thread was stopped. */
export class WorkBudgetExceeded extends Error {}

/** The queue is full, or a task waited longer than a budget for a thread: the pool is behind. */
export class PoolSaturated extends Error {}

export interface WorkerPoolOptions {
  /** Absolute path of the module whose exported functions the threads run (a .ts file under tsx). */
  module: string;
  threads: number;
  budgetMs: number;
  maxQueued: number;
  /** Each thread's old-generation heap; a task that needs more fails as over budget. Default: V8's. */
  maxHeapMb?: number;
  /** Niceness of the threads (Linux: per thread; elsewhere ignored): expensive work yields to the event loop. */
  nice?: number;
}

interface Task {
  queuedAt: number;
  fn: string;
  input: unknown;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
}

// Plain JavaScript, so it needs no loader; it loads tsx itself when the module is TypeScript.
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.nice) {
  // Linux schedules threads by their own niceness: this one yields the CPU to the event loop it serves.
  try {
    const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
    require('node:os').setPriority(tid, workerData.nice);
  } catch {}
}
if (workerData.tsx) require(workerData.tsx);
const functions = require(workerData.module);
parentPort.on('message', ({ fn, input }) => {
  let reply;
  let transfer = [];
  try {
    const result = functions[fn](input);
    // Bytes that own their whole buffer move to the caller instead of being copied: the result, or
    // its own properties (a body beside its ETag).
    const whole = (v) => v instanceof Uint8Array && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
    if (whole(result)) transfer = [result.buffer];
    else if (result && typeof result === 'object')
      transfer = [...new Set(Object.values(result).filter(whole).map((v) => v.buffer))];
    reply = { result };
  } catch (err) {
    reply = { error: { name: err && err.name, message: String(err && err.message) } };
  }
  parentPort.postMessage(reply, transfer);
});
parentPort.postMessage({ ready: true });
`;

export class WorkerPool {
  private threads: Thread[] = [];
  /** Waiting tasks by key; a Map keeps insertion order, and a served key moves to the back. */
  private queues = new Map<string, Task[]>();
  private queued = 0;
  private closed = false;
  /** When a thread last became ready: time spent waiting for a thread to start is no task's fault. */
  private readySince = 0;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** `fn(input)` of the module on a thread: its result, or its error, WorkBudgetExceeded or PoolSaturated. */
  run<T>(fn: string, input: unknown, key = ''): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    if (this.queued >= this.opts.maxQueued)
      return Promise.reject(new PoolSaturated(`${this.queued} tasks are already waiting for a thread`));
    return new Promise<T>((resolve, reject) => {
      const list = this.queues.get(key) ?? [];
      list.push({ queuedAt: performance.now(), fn, input, resolve: resolve as (value: unknown) => void, reject });
      this.queues.set(key, list);
      this.queued += 1;
      // Threads start on first use, and again after one was stopped.
      while (this.threads.length < this.opts.threads) this.threads.push(this.spawn());
      this.dispatch();
    });
  }

  /** Stops every thread; waiting and running tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.queues.values()) for (const task of list) task.reject(new Error('the worker pool closed'));
    this.queues.clear();
    this.queued = 0;
    const threads = this.threads.splice(0);
    for (const t of threads) {
      clearTimeout(t.timer);
      t.task?.reject(new Error('the worker pool closed'));
    }
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private next(): Task | undefined {
    for (const [key, list] of this.queues) {
      const task = list.shift()!;
      this.queues.delete(key);
      if (list.length > 0) this.queues.set(key, list);
      this.queued -= 1;
      const waited = performance.now() - Math.max(task.queuedAt, this.readySince);
      if (waited <= this.opts.budgetMs) return task;
      task.reject(new PoolSaturated(`waited ${Math.round(waited)} ms for a thread`));
    }
    return undefined;
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (!thread.ready || thread.task) continue;
      const task = this.next();
      if (!task) return;
      thread.task = task;
      thread.timer = setTimeout(() => {
        task.reject(new WorkBudgetExceeded(`the work took longer than its budget of ${this.opts.budgetMs} ms`));
        this.drop(thread);
      }, this.opts.budgetMs);
      thread.worker.postMessage({ fn: task.fn, input: task.input });
    }
  }

  private spawn(): Thread {
    const tsx = this.opts.module.endsWith('.ts') ? require.resolve('tsx/cjs') : undefined;
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { module: this.opts.module, tsx, nice: this.opts.nice ?? 0 },
      ...(this.opts.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb } } : {}),
    });
    // An idle pool never keeps the process alive.
    worker.unref();
    const thread: Thread = { worker, ready: false };
    worker.on('message', (reply: { ready?: true; result?: unknown; error?: { name: string; message: string } }) => {
      if (reply.ready) {
        thread.ready = true;
        this.readySince = performance.now();
      } else {
        const task = thread.task!;
        clearTimeout(thread.timer);
        thread.task = undefined;
        if (reply.error) task.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
        else task.resolve(reply.result);
      }
      this.dispatch();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      thread.task?.reject(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new WorkBudgetExceeded(`the work needed more than ${this.opts.maxHeapMb} MB of memory`)
          : err,
      );
      // A thread that cannot even load its module never will: fail what waits rather than wait forever.
      if (!thread.ready) for (let task = this.next(); task; task = this.next()) task.reject(err);
      this.drop(thread);
    });
    worker.on('exit', () => this.drop(thread));
    return thread;
  }

  /** Takes a thread out of the pool (stopping it); the next task starts a new one. */
  private drop(thread: Thread): void {
    const at = this.threads.indexOf(thread);
    if (at < 0) return;
    this.threads.splice(at, 1);
    clearTimeout(thread.timer);
    // Settled already when the budget or an error stopped it; otherwise the thread exited under its task.
    thread.task?.reject(new Error('the worker thread stopped'));
    void thread.worker.terminate();
    if (this.queued > 0 && !this.closed) {
      this.threads.push(this.spawn());
    }
  }
}
