import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Parses `keyId:base64(32 bytes)` pairs, comma-separated; the first key is the one that encrypts. */
export function parseKeySpec(keySpec: string, envName: string): { keys: Map<string, Buffer>; currentKeyId: string } {
  const keys = new Map<string, Buffer>();
  const pairs = keySpec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (pairs.length === 0) throw new Error(`${envName} is empty: give at least one keyId:base64key`);
  for (const pair of pairs) {
    const [id, b64] = pair.split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_-]+$/.test(id) || key.length !== 32) {
      throw new Error(`${envName} entry "${id ?? ''}" must be keyId:<32 bytes in base64>`);
    }
    keys.set(id, key);
  }
  return { keys, currentKeyId: pairs[0]!.split(':')[0]! };
}

/**
 * AES-256-GCM for secrets at rest (OAuth tokens). A sealed value names the key that sealed it,
 * so keys can be rotated: new writes use the first key, old values still open with theirs.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly currentKeyId: string;

  constructor(keySpec: string) {
    const parsed = parseKeySpec(keySpec, 'CALSYNC_TOKEN_KEYS');
    this.keys = parsed.keys;
    this.currentKeyId = parsed.currentKeyId;
  }

  static generateKeySpec(keyId = 'k1'): string {
    return `${keyId}:${randomBytes(32).toString('base64')}`;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return ['v1', this.currentKeyId, ...parts].join('.');
  }

  open(sealed: string): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (version !== 'v1' || !key || !iv || !tag || ciphertext === undefined) {
      throw new Error(`cannot open secret sealed with key "${keyId ?? '?'}"`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }

  keyIdOf(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }
}
