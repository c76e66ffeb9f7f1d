import type { Response } from 'express';
import type { BusyReadsConfig } from '../lib/config';
import { KeyedLimiter, LimitReached } from '../lib/keyedLimiter';
import { PoolSaturated, WorkBudgetExceeded, WorkerPool } from '../lib/workerPool';
import * as answers from './busyAnswers';
import { HttpError } from './validation';

type AnswerName = 'busyAnswer' | 'checkAnswer' | 'availabilityAnswer';

/** An answer's JSON (UTF-8), its ETag, and where it was computed (the Server-Timing header says so). */
export interface Answer {
  body: Buffer;
  etag: string;
  on: 'inline' | 'thread';
}

/** The answer as it was made: Express neither re-encodes it nor hashes it again for its ETag (nor 304s any less). */
export function sendAnswer(res: Response, answer: Answer): void {
  res.setHeader('ETag', answer.etag);
  res.type('json').send(answer.body);
}

/** The same bytes as a Buffer (no copy), which Express sends as they are. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Busy time and availability are the API's expensive reads: a tenant's old series make thousands
 * of intervals per answer. Each such read takes a place in its tenant's budget (KeyedLimiter: one
 * tenant's reads wait for each other, never for another tenant's), and its CPU work (expanding,
 * merging, writing the JSON) runs on a worker thread when it is more than a little, so the event
 * loop stays free for every other request. Small reads stay inline: a thread's round trip costs
 * more than they do.
 */
export class BusyReads {
  private readonly limiter: KeyedLimiter;
  private readonly pool: WorkerPool;

  constructor(private readonly config: BusyReadsConfig) {
    this.limiter = new KeyedLimiter({ perKey: config.perTenant, waitMs: config.tenantWaitMs });
    this.pool = new WorkerPool({
      module: require.resolve('./busyAnswers'),
      threads: config.threads,
      budgetMs: config.workBudgetMs,
      maxQueued: config.maxQueued,
      maxHeapMb: config.threadHeapMb,
      // Other tenants' requests on the event loop come first; the threads take what CPU is left.
      nice: config.threadNice,
    });
  }

  /** `read()` within the tenant's budget; a 429 with Retry-After when the tenant has too many in flight. */
  async forTenant<T>(tenantId: string, read: () => Promise<T>): Promise<T> {
    try {
      return await this.limiter.run(tenantId, read);
    } catch (err) {
      if (!(err instanceof LimitReached)) throw err;
      throw new HttpError(
        429,
        'too_many_concurrent_reads',
        `at most ${this.config.perTenant} busy-time or availability reads of a tenant at once; retry shortly`,
        undefined,
        { 'Retry-After': '1' },
      );
    }
  }

  /**
   * The answer's JSON, from `answers[name](input)`: inline when the read makes at most
   * `inlineMaxIntervals` intervals (by `occurrenceBound`), else on a thread, in the tenant's turn.
   */
  async answer<I>(tenantId: string, name: AnswerName, input: I, intervals: number): Promise<Answer> {
    const run = answers[name] as (input: I) => answers.AnswerBytes;
    const made = (bytes: answers.AnswerBytes, on: Answer['on']): Answer => ({
      body: asBuffer(bytes.body),
      etag: bytes.etag,
      on,
    });
    if (intervals <= this.config.inlineMaxIntervals) return made(run(input), 'inline');
    try {
      return made(await this.pool.run<answers.AnswerBytes>(name, input, tenantId), 'thread');
    } catch (err) {
      if (err instanceof WorkBudgetExceeded)
        throw new HttpError(
          503,
          'work_budget_exceeded',
          `computing this answer went over its budget (${err.message}) and was stopped; ask for a shorter window or fewer staff`,
          undefined,
          { 'Retry-After': '5' },
        );
      if (err instanceof PoolSaturated)
        throw new HttpError(503, 'busy', 'too many busy-time reads are waiting; retry shortly', undefined, {
          'Retry-After': '1',
        });
      throw err;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
