import { Router, type Request } from 'express';
import { CALENDAR_SCOPE } from './store';
import type { EmulatorState } from './state';

/** Form fields may come in the body (form or JSON) or, for /revoke, the query string. */
function field(req: Request, name: string): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const value = body[name] ?? req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Google's OAuth endpoints as google-auth-library uses them. Client id and secret
 * are accepted without checking: the emulator has no app registry.
 */
export function oauthRoutes(state: EmulatorState): Router {
  const { store } = state;
  const router = Router();

  router.post('/token', (req, res) => {
    const grantType = field(req, 'grant_type');
    if (grantType !== 'refresh_token') {
      res.status(400).json({
        error: 'unsupported_grant_type',
        error_description: `Invalid grant_type: ${grantType ?? ''}`,
      });
      return;
    }
    const refreshToken = field(req, 'refresh_token');
    if (!refreshToken) {
      res.status(400).json({ error: 'invalid_request', error_description: 'Missing required parameter: refresh_token' });
      return;
    }
    const accessToken = store.refresh(refreshToken);
    if (!accessToken) {
      res.status(400).json({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      return;
    }
    // Like Google, no refresh_token in the answer: the client keeps its old one.
    res.json({
      access_token: accessToken,
      expires_in: store.accessTokenTtlSeconds,
      scope: CALENDAR_SCOPE,
      token_type: 'Bearer',
    });
  });

  router.post('/revoke', (req, res) => {
    const token = field(req, 'token');
    if (!token || !store.revokeToken(token)) {
      res.status(400).json({ error: 'invalid_token', error_description: 'Token expired or revoked' });
      return;
    }
    res.status(200).json({});
  });

  return router;
}
