import type { Request } from 'express';
import type { z } from 'zod';

/** A request that failed validation: answered 400 with the path of every bad field. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Headers the answer carries (Retry-After of a 429 or 503). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

function fieldPath(path: readonly PropertyKey[], prefix: string): string {
  const parts = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return (prefix + parts).replace(/^\./, '') || prefix || '(body)';
}

export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params' = 'body',
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: fieldPath(issue.path, where === 'body' ? '' : where),
    message: issue.message,
  }));
  const first = issues[0]!;
  throw new HttpError(400, 'invalid_request', `${first.field}: ${first.message}`, { issues });
}

export function param(req: Request, name: string, schema: z.ZodType<string>): string {
  const result = schema.safeParse(req.params[name]);
  if (!result.success)
    throw new HttpError(400, 'invalid_request', `${name}: ${result.error.issues[0]!.message}`, {
      issues: [{ field: name, message: result.error.issues[0]!.message }],
    });
  return result.data;
}
