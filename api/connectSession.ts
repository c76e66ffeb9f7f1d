import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseKeySpec } from '../lib/secretBox';

/** How long the URL the CRM hands out may wait before it is opened. */
export const CONNECT_LINK_TTL_MS = 5 * 60 * 1000;
/** How long the page works once opened (the OAuth round trips happen within it). */
export const CONNECT_SESSION_TTL_MS = 60 * 60 * 1000;

export interface ConnectSession {
  tenantId: string;
  /** Set when the CRM asked for one staff member's page: the picker then offers only them. */
  staffId?: string;
  expiresAt: number;
  /** Random per session: the CSRF token is derived from it. */
  nonce: string;
  kind: 'link' | 'session';
}

/**
 * The connect page's credentials, stateless: `<payload>.<mac>` (base64url JSON, HMAC-SHA256 under
 * a key derived (HKDF) from the first CALSYNC_TOKEN_KEYS key, never the key that seals tokens).
 * The CRM gets a short-lived `link` token in a URL; opening it swaps it for a `session` token in
 * an HttpOnly cookie, so the token leaves the address bar at once. Mutating calls also carry a
 * CSRF token (HMAC of the session's nonce) that only the page itself can show.
 */
export class ConnectSessionSigner {
  private readonly key: Buffer;

  constructor(tokenKeys: string) {
    const { keys, currentKeyId } = parseKeySpec(tokenKeys, 'CALSYNC_TOKEN_KEYS');
    this.key = Buffer.from(hkdfSync('sha256', keys.get(currentKeyId)!, Buffer.alloc(0), 'calsync connect page v1', 32));
  }

  issue(
    kind: ConnectSession['kind'],
    tenantId: string,
    staffId: string | undefined,
    ttlMs: number,
    nonce = randomBytes(16).toString('base64url'),
  ): { token: string; session: ConnectSession } {
    const session: ConnectSession = {
      tenantId,
      ...(staffId ? { staffId } : {}),
      expiresAt: Date.now() + ttlMs,
      nonce,
      kind,
    };
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return { token: `${payload}.${this.mac(payload)}`, session };
  }

  verify(token: string | undefined, kind: ConnectSession['kind']): ConnectSession | undefined {
    const [payload, mac, extra] = (token ?? '').split('.');
    if (!payload || !mac || extra !== undefined || !equal(mac, this.mac(payload))) return undefined;
    let session: ConnectSession;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (
      session.kind !== kind ||
      typeof session.tenantId !== 'string' ||
      typeof session.expiresAt !== 'number' ||
      session.expiresAt <= Date.now()
    )
      return undefined;
    return session;
  }

  csrfToken(session: ConnectSession): string {
    return this.mac(`csrf\u0000${session.nonce}`);
  }

  checkCsrf(session: ConnectSession, given: unknown): boolean {
    return typeof given === 'string' && equal(given, this.csrfToken(session));
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
