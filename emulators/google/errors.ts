import type { Response } from 'express';

/**
 * An error the emulator answers in Google's JSON error shape. Thrown from the
 * store so rules and wire format stay in one place per concern.
 */
export class GoogleError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly domain: string = 'global',
    readonly extra: { location?: string; locationType?: string } = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): object {
    return {
      error: {
        errors: [{ domain: this.domain, reason: this.reason, message: this.message, ...this.extra }],
        code: this.status,
        message: this.message,
      },
    };
  }
}

export function sendGoogleError(res: Response, err: GoogleError): void {
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.status(err.status).json(err.body());
}

export const notFound = (): GoogleError => new GoogleError(404, 'notFound', 'Not Found');
export const invalid = (message: string, location?: string): GoogleError =>
  new GoogleError(400, 'invalid', message, 'global', location ? { location, locationType: 'parameter' } : {});
export const required = (message: string, location?: string): GoogleError =>
  new GoogleError(400, 'required', message, 'global', location ? { location, locationType: 'parameter' } : {});
export const authError = (): GoogleError =>
  new GoogleError(
    401,
    'authError',
    'Invalid Credentials',
    'global',
    {
      location: 'Authorization',
      locationType: 'header',
    },
    { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  );
export const forbidden = (): GoogleError => new GoogleError(403, 'forbidden', 'Forbidden');
export const backendError = (status = 500): GoogleError =>
  new GoogleError(status, 'backendError', status === 503 ? 'The service is currently unavailable.' : 'Backend Error');
export const rateLimited = (status: 403 | 429, retryAfterSeconds: number): GoogleError =>
  new GoogleError(
    status,
    'rateLimitExceeded',
    'Rate Limit Exceeded',
    'usageLimits',
    {},
    status === 429 ? { 'Retry-After': String(retryAfterSeconds) } : {},
  );
