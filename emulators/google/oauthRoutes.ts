import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import { authorizeRoutes, type RedeemResult } from '../common/authCode';
import { CALENDAR_SCOPE } from './store';
import type { EmulatorState } from './state';

/** Form fields may come in the body (form or JSON) or, for /revoke, the query string. */
function field(req: Request, name: string): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const value = body[name] ?? req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Google's OAuth endpoints as google-auth-library uses them, plus the consent page
 * (`/o/oauth2/v2/auth`), the authorization_code grant (PKCE checked) and userinfo. Client id and secret
 * are accepted without checking: the emulator has no app registry.
 */
export function oauthRoutes(state: EmulatorState): Router {
  const { store } = state;
  const router = Router();

  authorizeRoutes(router, '/o/oauth2/v2/auth', store.authCodes, {
    providerName: 'Google (emulated)',
    codePrefix: '4/',
  });

  const codeErrors: Record<Exclude<RedeemResult, { ok: true }>['reason'], string> = {
    unknown_code: 'Malformed auth code.',
    expired: 'Bad Request',
    redirect_uri_mismatch: 'Bad Request',
    verifier_missing: 'Missing code verifier.',
    verifier_mismatch: 'Invalid code verifier.',
  };

  router.post('/token', (req, res) => {
    const grantType = field(req, 'grant_type');
    if (grantType === 'authorization_code') {
      const code = field(req, 'code');
      if (!code) {
        res.status(400).json({ error: 'invalid_request', error_description: 'Missing required parameter: code' });
        return;
      }
      const result = store.authCodes.redeem(code, field(req, 'redirect_uri'), field(req, 'code_verifier'));
      if (!result.ok) {
        res.status(400).json({ error: 'invalid_grant', error_description: codeErrors[result.reason] });
        return;
      }
      // The consent creates the account (and its primary calendar) the first time.
      const issued = store.createUser(result.grant.email);
      res.json({
        access_token: issued.accessToken,
        expires_in: issued.expiresIn,
        refresh_token: issued.refreshToken,
        scope: CALENDAR_SCOPE,
        token_type: 'Bearer',
      });
      return;
    }
    if (grantType !== 'refresh_token') {
      res.status(400).json({
        error: 'unsupported_grant_type',
        error_description: `Invalid grant_type: ${grantType ?? ''}`,
      });
      return;
    }
    const refreshToken = field(req, 'refresh_token');
    if (!refreshToken) {
      res
        .status(400)
        .json({ error: 'invalid_request', error_description: 'Missing required parameter: refresh_token' });
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

  // OpenID Connect userinfo: who the access token belongs to.
  router.get('/oauth2/v3/userinfo', (req, res) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const email = store.authenticate(match?.[1]);
    if (!email) {
      res.status(401).json({ error: 'invalid_request', error_description: 'Invalid Credentials' });
      return;
    }
    res.json({ sub: createHash('sha256').update(email).digest('hex').slice(0, 21), email, email_verified: true });
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
