import { ConnectFailure, ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from './errors';

export interface OAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

/**
 * Posts a refresh_token grant and answers the status and parsed body, whatever they are. Only a
 * request that never got an answer throws (retryable).
 */
export async function postRefreshGrant(
  client: OAuthClient,
  refreshToken: string,
  extra: Record<string, string> = {},
): Promise<{ res: Response; body: TokenResponse }> {
  let res: Response;
  try {
    res = await fetch(client.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        ...extra,
      }),
      signal: AbortSignal.timeout(15000),
    });
  } catch (err) {
    throw new ProviderError(
      'retryable',
      isNetworkError((err as { cause?: unknown }).cause) ? 'network' : 'token_request_failed',
      String(err),
    );
  }
  const body = (await res.json().catch(() => ({}))) as TokenResponse;
  return { res, body };
}

export const expiresAt = (body: TokenResponse): Date => new Date(Date.now() + (body.expires_in ?? 3600) * 1000);

/**
 * A failed refresh that is not a dead grant. A 401/403 here means the app's own credentials are
 * wrong, which reconnecting the user cannot fix: permanent, not auth.
 */
export function refreshFailure(res: Response, body: TokenResponse, description: string): ProviderError {
  const kind = classifyHttpStatus(res.status);
  return new ProviderError(
    kind === 'auth' ? 'permanent' : kind,
    body.error ?? `http_${res.status}`,
    description,
    res.status,
    parseRetryAfter(res.headers.get('retry-after')),
  );
}

export interface CodeRedemption {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface RedeemedCode {
  accessToken: string;
  refreshToken: string;
  idToken?: string;
}

/**
 * Redeems an authorization code (with its PKCE verifier) at the token endpoint. A grant without a
 * refresh token is refused: calsync needs lasting (offline) access.
 */
export async function redeemCode(
  client: OAuthClient,
  input: CodeRedemption,
  extra: Record<string, string> = {},
): Promise<RedeemedCode> {
  let res: Response;
  try {
    res = await fetch(client.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code_verifier: input.codeVerifier,
        ...extra,
      }),
      signal: AbortSignal.timeout(15000),
    });
  } catch (err) {
    throw new ConnectFailure('unreachable', { err: String(err) });
  }
  const body = (await res.json().catch(() => ({}))) as TokenResponse & { id_token?: string };
  // Only the status and the error code: the body of a token answer is never logged.
  if (!res.ok || !body.access_token) throw new ConnectFailure('refused', { status: res.status, error: body.error });
  if (!body.refresh_token) throw new ConnectFailure('no_offline_access');
  return { accessToken: body.access_token, refreshToken: body.refresh_token, idToken: body.id_token };
}

/** The authorize URL with its query: the shared OAuth parameters and the provider's own. */
export function authorizeUrlOf(
  base: string,
  clientId: string,
  input: { redirectUri: string; state: string; codeChallenge: string },
  scope: string,
  extra: Record<string, string>,
): string {
  const url = new URL(base);
  const params: Record<string, string> = {
    client_id: clientId,
    redirect_uri: input.redirectUri,
    response_type: 'code',
    scope,
    state: input.state,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

/** Reads the account's address from an identity endpoint; `pick` chooses the field. */
export async function readAccountEmail(
  url: string,
  accessToken: string,
  pick: (body: Record<string, unknown>) => unknown,
): Promise<string> {
  let email: unknown;
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(15000),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new ConnectFailure('no_account_address', { status: res.status });
    email = pick(body);
  } catch (err) {
    if (err instanceof ConnectFailure) throw err;
    throw new ConnectFailure('no_account_address', { err: String(err) });
  }
  if (typeof email !== 'string' || !email.includes('@')) throw new ConnectFailure('no_account_address');
  return email.toLowerCase();
}
