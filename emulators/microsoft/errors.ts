import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

/**
 * An error the emulator answers in Graph's JSON shape:
 * `{"error":{"code":"ErrorItemNotFound","message":"…","innerError":{"date","request-id","client-request-id"}}}`.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendGraphError(res: Response, err: GraphError): void {
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  const requestId = randomUUID();
  const clientRequestId = res.req.get('client-request-id') ?? requestId;
  res.setHeader('request-id', requestId);
  res.setHeader('client-request-id', clientRequestId);
  res.status(err.status).json({
    error: {
      code: err.code,
      message: err.message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d+Z$/, ''),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
    },
  });
}

export const itemNotFound = (): GraphError =>
  new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
export const accessDenied = (): GraphError =>
  new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
export const invalidRequest = (message: string): GraphError => new GraphError(400, 'ErrorInvalidRequest', message);
/** What OData says about a body it cannot map onto the entity type. */
export const bodyRead = (message: string): GraphError => new GraphError(400, 'RequestBodyRead', message);
export const invalidToken = (empty: boolean): GraphError =>
  new GraphError(
    401,
    'InvalidAuthenticationToken',
    empty ? 'Access token is empty.' : 'Access token has expired or is not yet valid.',
    {
      'WWW-Authenticate':
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    },
  );
export const throttled = (limit: 'MailboxConcurrency' | 'ApplicationRequests', retryAfterSeconds: number): GraphError =>
  new GraphError(429, 'ApplicationThrottled', `Application is over its ${limit} limit.`, {
    'Retry-After': String(retryAfterSeconds),
  });

/** The errors the fault knob injects, shaped like Graph's own. */
export function injected(status: number, retryAfterSeconds: number): GraphError {
  const retryAfter = { 'Retry-After': String(retryAfterSeconds) };
  switch (status) {
    case 429:
      return new GraphError(
        429,
        'ApplicationThrottled',
        'Application is over its MailboxConcurrency limit.',
        retryAfter,
      );
    // A write that met a concurrent change of the item (no If-Match sent): transient, a retry
    // goes through (https://learn.microsoft.com/graph/errors, 412 Precondition Failed; the code as
    // Graph's issue tracker reports it).
    case 412:
      return new GraphError(
        412,
        'ErrorIrresolvableConflict',
        'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.',
      );
    case 500:
      return new GraphError(
        500,
        'ErrorInternalServerError',
        'An internal server error occurred. The operation failed.',
      );
    case 502:
      return new GraphError(502, 'BadGateway', 'Bad Gateway');
    case 503:
      return new GraphError(503, 'ServiceUnavailable', 'The service is currently unavailable.', retryAfter);
    case 504:
      return new GraphError(504, 'GatewayTimeout', 'The gateway did not receive a timely response.');
    default:
      return new GraphError(status, 'UnknownError', 'Injected error');
  }
}
