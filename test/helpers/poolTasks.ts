import { readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';

/** Functions for lib/workerPool.ts's tests to run on its threads. */

export function echo<T>(input: T): T {
  return input;
}

/** Keeps its thread busy for `ms` (a stand-in for a read that takes too long). */
export function spin(ms: number): number {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}

export function fail(message: string): never {
  throw new RangeError(message);
}

/** UTF-8 bytes of `text`, which the pool moves back rather than copies. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Allocates until something stops it (a thread's heap limit). */
export function hog(): number {
  const kept: number[][] = [];
  for (;;) kept.push(Array.from({ length: 100_000 }, (_, i) => i));
}

/** The niceness of the thread it runs on (Linux: each thread has its own). */
export function ownNice(): number {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  return getPriority(tid);
}
