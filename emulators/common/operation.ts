import type { Response } from 'express';
import type { Faults } from './faults';
import type { Stats } from './stats';

export interface OperationResult {
  status: number;
  body?: unknown;
  /** The request changed event state (counted as a write, eligible for apply-then-fail). */
  applied?: boolean;
  /** A create: its calendar and dedup key, for 'firstInsert'. */
  inserted?: { calendarId: string; key: string };
}

/** How one provider's errors are recognised and put on the wire. */
export interface ErrorWire<E> {
  is(err: unknown): err is E;
  send(res: Response, err: E): void;
  /** The 500 a write that applied is answered when a fault says it fails anyway. */
  failedAfterApply(): E;
}

/**
 * The fault-injected part of an API call, once the caller is authenticated and admitted: delay,
 * maybe an injected error, the handler, then counting the write and maybe failing after it
 * applied. Answers the result to send, or undefined when an error was already sent.
 */
export async function runWithFaults<E, R extends OperationResult>(
  state: { faults: Faults<E>; stats: Stats },
  wire: ErrorWire<E>,
  op: string,
  email: string,
  res: Response,
  run: () => R,
): Promise<R | undefined> {
  const config = state.faults.forUser(email);
  await state.faults.delay(config);
  const fault = state.faults.errorBefore(config);
  if (fault) return void wire.send(res, fault);

  let result: R;
  try {
    result = run();
  } catch (err) {
    if (wire.is(err)) return void wire.send(res, err);
    throw err;
  }
  if (result.applied) {
    state.stats.addWrite(email, op, result.body);
    if (state.faults.failAfterApply(config, op, result.inserted)) return void wire.send(res, wire.failedAfterApply());
  }
  return result;
}
