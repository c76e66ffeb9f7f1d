import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { authorizeRoutes, type RedeemResult } from '../common/authCode';
import type { EmulatorState } from './state';
import { GRAPH_SCOPE } from './store';

function field(req: Request, name: string): string | undefined {
  const value = ((req.body ?? {}) as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The identity platform's error shape: `AADSTSnnnnn: …` in error_description, the number in error_codes. */
function sendAadError(res: Response, status: number, error: string, code: number, description: string): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  res.status(status).json({
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

/**
 * The Microsoft identity platform's v2.0 authorize (consent page) and token endpoints:
 * authorization_code (PKCE checked) and refresh_token grants. Any tenant
 * segment (`common`, `organizations`, a GUID) is accepted and client secrets are not checked:
 * the emulator has no app registry. Every refresh returns a new refresh token.
 */
export function oauthRoutes(state: EmulatorState): Router {
  const { store } = state;
  const router = Router();

  authorizeRoutes(router, '/:tenant/oauth2/v2.0/authorize', store.authCodes, {
    providerName: 'Microsoft (emulated)',
    codePrefix: '0.AXEA',
  });

  const codeErrors: Record<Exclude<RedeemResult, { ok: true }>['reason'], [number, string]> = {
    unknown_code: [9002313, 'Invalid request. Request is malformed or invalid.'],
    expired: [
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ],
    redirect_uri_mismatch: [
      70000,
      'The request was denied because one or more grants are invalid: the redirect URI does not match the one of the authorization request.',
    ],
    verifier_missing: [
      50148,
      'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
    ],
    verifier_mismatch: [
      501481,
      'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
    ],
  };

  router.post('/:tenant/oauth2/v2.0/token', (req, res) => {
    const grantType = field(req, 'grant_type');
    if (!field(req, 'client_id')) {
      sendAadError(
        res,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
      return;
    }
    if (grantType === 'authorization_code') {
      const code = field(req, 'code');
      if (!code) {
        sendAadError(
          res,
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'code'.",
        );
        return;
      }
      const result = store.authCodes.redeem(code, field(req, 'redirect_uri'), field(req, 'code_verifier'));
      if (!result.ok) {
        const [aadCode, description] = codeErrors[result.reason];
        sendAadError(res, 400, 'invalid_grant', aadCode, description);
        return;
      }
      // The consent creates the mailbox (and its default calendar) the first time.
      const issued = store.createUser(result.grant.email);
      res.setHeader('Cache-Control', 'no-store, no-cache');
      res.json({
        token_type: 'Bearer',
        scope: GRAPH_SCOPE,
        expires_in: issued.expiresIn,
        ext_expires_in: issued.expiresIn,
        access_token: issued.accessToken,
        refresh_token: issued.refreshToken,
      });
      return;
    }
    if (grantType !== 'refresh_token') {
      sendAadError(
        res,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
      return;
    }
    const refreshToken = field(req, 'refresh_token');
    if (!refreshToken) {
      sendAadError(
        res,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'refresh_token'.",
      );
      return;
    }
    const result = store.refresh(refreshToken);
    if (!result.ok) {
      if (result.reason === 'revoked') {
        sendAadError(
          res,
          400,
          'invalid_grant',
          50173,
          `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${result.issuedAt}'.`,
        );
      } else {
        sendAadError(
          res,
          400,
          'invalid_grant',
          70008,
          'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
        );
      }
      return;
    }
    res.setHeader('Cache-Control', 'no-store, no-cache');
    res.json({
      token_type: 'Bearer',
      scope: GRAPH_SCOPE,
      expires_in: store.accessTokenTtlSeconds,
      ext_expires_in: store.accessTokenTtlSeconds,
      access_token: result.accessToken,
      refresh_token: result.refreshToken,
    });
  });

  return router;
}
