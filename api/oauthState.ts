import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseKeySpec } from '../lib/secretBox';

/** How long a started authorization may take: the signed state and its oauth_states row expire together. */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

/**
 * The OAuth `state` parameter: `<payload>.<mac>` (base64url), the payload `{ i: oauth_states id, e: expiry ms }`,
 * the MAC an HMAC-SHA256 under a key derived (HKDF) from the first CALSYNC_TOKEN_KEYS key, so it is
 * never the key that seals tokens.
 */
export class OAuthStateSigner {
  private readonly key: Buffer;

  constructor(tokenKeys: string) {
    const { keys, currentKeyId } = parseKeySpec(tokenKeys, 'CALSYNC_TOKEN_KEYS');
    this.key = Buffer.from(hkdfSync('sha256', keys.get(currentKeyId)!, Buffer.alloc(0), 'calsync oauth state v1', 32));
  }

  sign(id: string, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ i: id, e: expiresAt })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The oauth_states id, or why the state is refused. */
  verify(
    state: string | undefined,
    now = Date.now(),
  ): { ok: true; id: string } | { ok: false; reason: 'invalid' | 'expired' } {
    const [payload, mac, extra] = (state ?? '').split('.');
    if (!payload || !mac || extra !== undefined) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    let parsed: { i?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (typeof parsed.i !== 'string' || typeof parsed.e !== 'number') return { ok: false, reason: 'invalid' };
    if (parsed.e <= now) return { ok: false, reason: 'expired' };
    return { ok: true, id: parsed.i };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** PKCE (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
