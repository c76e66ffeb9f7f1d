import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { faultInput, type Faults } from './faults';
import type { Stats } from './stats';

export function parseBody<T>(schema: z.ZodType<T>, req: Request, res: Response): T | undefined {
  const parsed = schema.safeParse(req.body ?? {});
  if (parsed.success) return parsed.data;
  res.status(400).json({ error: z.prettifyError(parsed.error) });
  return undefined;
}

/** The `:email` of the path, lower-cased, or a 404 answered. */
export function userOr404(
  state: { userExists(email: string): boolean },
  req: Request,
  res: Response,
): string | undefined {
  const email = String(req.params.email).toLowerCase();
  if (state.userExists(email)) return email;
  res.status(404).json({ error: `unknown user ${email}` });
  return undefined;
}

export interface ControlledEmulator {
  faults: Faults<unknown>;
  stats: Stats;
  reset(): void;
  userExists(email: string): boolean;
  store: { revokeUser(email: string): number; expireAccessTokens(email: string): number };
}

const queryUser = (req: Request): string | undefined =>
  typeof req.query.user === 'string' ? req.query.user : undefined;

/**
 * The /_emulator knobs both emulators share: health, reset, token revocation and expiry, faults,
 * stats. The provider adds its own routes to the returned router.
 */
export function sharedControlRoutes(state: ControlledEmulator): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  router.post('/reset', (_req, res) => {
    state.reset();
    res.json({ ok: true });
  });

  router.post('/users/:email/revoke', (req, res) => {
    const email = userOr404(state, req, res);
    if (email) res.json({ revoked: state.store.revokeUser(email) });
  });
  router.post('/users/:email/expire-access-tokens', (req, res) => {
    const email = userOr404(state, req, res);
    if (email) res.json({ expired: state.store.expireAccessTokens(email) });
  });

  router.get('/faults', (_req, res) => {
    res.json(state.faults.describe());
  });
  router.post('/faults', (req, res) => {
    const body = parseBody(faultInput, req, res);
    if (!body) return;
    state.faults.set(body);
    res.json(state.faults.describe());
  });
  router.delete('/faults', (req, res) => {
    state.faults.clear(queryUser(req));
    res.json(state.faults.describe());
  });

  router.get('/stats', (req, res) => {
    res.json(state.stats.snapshot(queryUser(req)));
  });
  // Applied event writes in order, for tests that prove what was written after what.
  router.get('/writes', (req, res) => {
    const user = queryUser(req);
    if (!user) return void res.status(400).json({ error: 'user is required' });
    res.json({ writes: state.stats.writes(user) });
  });
  router.post('/stats/reset', (req, res) => {
    state.stats.reset(queryUser(req));
    res.json({ ok: true });
  });

  return router;
}

/** GET and POST /config: the POST applies the given knobs and answers the new config. */
export function configRoutes<T>(
  router: Router,
  schema: z.ZodType<T>,
  apply: (body: T) => void,
  describe: () => object,
): void {
  router.get('/config', (_req, res) => {
    res.json(describe());
  });
  router.post('/config', (req, res) => {
    const body = parseBody(schema, req, res);
    if (!body) return;
    apply(body);
    res.json(describe());
  });
}
