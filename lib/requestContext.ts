import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What the API knows about the request being served, wherever in its call chain the code runs. */
export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

const validRequestId = /^[A-Za-z0-9._-]{1,128}$/;

/** A caller's `X-Request-Id` when it is safe to log and forward; otherwise a fresh UUID. */
export function acceptRequestId(given: unknown): string {
  return typeof given === 'string' && validRequestId.test(given) ? given : randomUUID();
}
