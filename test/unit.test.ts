import { redactUrl } from '../lib/logger';
import { SecretBox } from '../lib/secretBox';
import { remoteEventId } from '../lib/remoteIds';
import { classifyGoogleError } from '../providers/google/googleCalendar';
import { parseRetryAfter } from '../providers/errors';

describe('SecretBox (AES-256-GCM with key ids)', () => {
  test('seals and opens; the sealed text names its key and hides the secret', () => {
    const box = new SecretBox(SecretBox.generateKeySpec('k1'));
    const sealed = box.seal('1//refresh-token');
    expect(sealed).not.toContain('refresh');
    expect(box.keyIdOf(sealed)).toBe('k1');
    expect(box.open(sealed)).toBe('1//refresh-token');
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  test('rotation: a new key seals, the old one still opens what it sealed', () => {
    const oldSpec = SecretBox.generateKeySpec('k1');
    const sealedWithOld = new SecretBox(oldSpec).seal('secret');
    const rotated = new SecretBox(`${SecretBox.generateKeySpec('k2')},${oldSpec}`);
    expect(rotated.open(sealedWithOld)).toBe('secret');
    expect(rotated.keyIdOf(rotated.seal('x'))).toBe('k2');
  });

  test('tampering and unknown keys are refused', () => {
    const box = new SecretBox(SecretBox.generateKeySpec('k1'));
    const parts = box.seal('secret').split('.');
    parts[4] = Buffer.from('forged').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(SecretBox.generateKeySpec('k9')).open(box.seal('x'))).toThrow(/k1/);
    expect(() => new SecretBox('k1:c2hvcnQ=')).toThrow(/32 bytes/);
  });
});

describe('remote event ids', () => {
  test('deterministic, base32hex, distinct per tenant, appointment and target', () => {
    const id = remoteEventId('t1', 'a1', 'link:1');
    expect(id).toMatch(/^[0-9a-v]{32}$/);
    expect(remoteEventId('t1', 'a1', 'link:1')).toBe(id);
    expect(
      new Set([
        id,
        remoteEventId('t2', 'a1', 'link:1'),
        remoteEventId('t1', 'a2', 'link:1'),
        remoteEventId('t1', 'a1', 'link:2'),
      ]).size,
    ).toBe(4);
  });
});

describe('Google error classification', () => {
  const gaxiosError = (status: number, reason?: string, headers: Record<string, string> = {}) => ({
    message: 'boom',
    response: {
      status,
      headers,
      data: { error: { code: status, message: 'boom', errors: reason ? [{ reason }] : [] } },
    },
  });

  test.each([
    [500, 'backendError', 'retryable'],
    [503, undefined, 'retryable'],
    [429, 'rateLimitExceeded', 'retryable'],
    [403, 'rateLimitExceeded', 'retryable'],
    [403, 'userRateLimitExceeded', 'retryable'],
    [403, 'forbidden', 'permanent'],
    [404, 'notFound', 'permanent'],
    [400, 'invalid', 'permanent'],
    [401, 'authError', 'retryable'],
  ] as const)('%i %s is %s', (status, reason, kind) => {
    expect(classifyGoogleError(gaxiosError(status, reason)).kind).toBe(kind);
  });

  test('Retry-After in seconds or as a date', () => {
    expect(classifyGoogleError(gaxiosError(429, 'rateLimitExceeded', { 'retry-after': '7' })).retryAfterMs).toBe(7000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  test('network failures are retryable', () => {
    expect(classifyGoogleError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).kind).toBe(
      'retryable',
    );
  });
});

describe('logged URLs', () => {
  test('secret-bearing query values are redacted wherever they appear; the rest is kept', () => {
    expect(redactUrl('/codec/login?key=csk_admin')).toBe('/codec/login?key=[redacted]');
    expect(redactUrl('/oauth/callback/google?state=s.1&code=4/abc&scope=email')).toBe(
      '/oauth/callback/google?state=[redacted]&code=[redacted]&scope=email',
    );
    expect(redactUrl('/webhooks/microsoft?validationToken=abc')).toBe('/webhooks/microsoft?validationToken=[redacted]');
    expect(redactUrl('/connect?session=xyz&staff=ann')).toBe('/connect?session=[redacted]&staff=ann');
    expect(redactUrl('/v1/sync-failures?since=2026-01-01&limit=5')).toBe('/v1/sync-failures?since=2026-01-01&limit=5');
    expect(redactUrl('/healthz')).toBe('/healthz');
  });
});
