import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { PayloadEncryptionCodec } from '../../lib/payloadCodec';
import { bearer } from '../auth';
import { HttpError, parse } from '../validation';

/**
 * Temporal's remote codec protocol, so Temporal UI can show encrypted payloads to admins:
 * `POST /codec/decode` and `/codec/encode` take and answer `{ payloads: [{ metadata, data }] }`
 * (proto3 JSON: base64 bytes). The browser calls it cross-origin, hence CORS for the UI's origins.
 * Admins authenticate with the admin key as a bearer token, or with a session cookie that
 * `POST /codec/session` (bearer) or the form at `/codec/login` (the key posted, never in a URL) sets: the UI cannot add
 * a bearer header of its own, but with "Include cross-origin credentials" it sends the cookie.
 */
export const CODEC_SESSION_COOKIE = 'calsync_codec';
const SESSION_TTL_MS = 12 * 3600 * 1000;

// proto3 JSON of temporal.api.common.v1.Payloads: bytes are base64 (standard or URL-safe).
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
export const payloadsSchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).nullish(),
      data: base64.nullish(),
    }),
  ),
});
type JSONPayload = z.output<typeof payloadsSchema>['payloads'][number];

const fromBase64 = (s: string | null | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64'));
const toBase64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');

function payloadFromJSON(p: JSONPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, fromBase64(v)])),
    data: fromBase64(p.data),
  };
}

function payloadToJSON(p: Payload) {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, toBase64(v)])),
    data: toBase64(p.data),
  };
}

export interface CodecRouteOptions {
  codec: PayloadEncryptionCodec;
  /** Every accepted admin key; sessions are signed with a key derived from all of them. */
  adminKeys: string[];
  allowedOrigins: string[];
}

export function codecRoutes({ codec, adminKeys, allowedOrigins }: CodecRouteOptions): Router {
  const router = Router();
  const keys = adminKeys.filter(Boolean);
  const sessions = sessionSigner(keys);

  const isAdminKey = (given: string | undefined) => {
    if (!given || keys.length === 0) return false;
    const digest = sha256(given);
    return keys.reduce((found, k) => timingSafeEqual(digest, sha256(k)) || found, false);
  };

  router.use('/codec', (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    const allowed = origin !== undefined && allowedOrigins.includes(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'content-type,x-namespace,authorization');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  });

  const requireCodecAdmin = (req: Request, _res: Response, next: NextFunction) => {
    if (isAdminKey(bearer(req)) || sessions.verify(cookie(req, CODEC_SESSION_COOKIE))) return next();
    throw new HttpError(401, 'unauthorized', 'admin key (Authorization: Bearer) or codec session cookie required');
  };

  const startSession = (req: Request, res: Response) => {
    const expiresAt = Date.now() + SESSION_TTL_MS;
    res.cookie(CODEC_SESSION_COOKIE, sessions.sign(expiresAt), {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      path: '/codec',
      maxAge: SESSION_TTL_MS,
    });
    return new Date(expiresAt).toISOString();
  };

  router.post('/codec/session', (req, res) => {
    if (!isAdminKey(bearer(req))) throw new HttpError(401, 'unauthorized', 'admin key required');
    res.json({ expiresAt: startSession(req, res) });
  });

  router.delete('/codec/session', (_req, res) => {
    res.clearCookie(CODEC_SESSION_COOKIE, { path: '/codec' });
    res.status(204).end();
  });

  // The browser that runs Temporal UI gets its session cookie from a small form: the key is posted,
  // never put in a URL (history, proxies and logs keep URLs).
  const page = (res: Response, status: number, message: string, form: boolean) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res
      .status(status)
      .type('html')
      .send(
        `<!doctype html><title>calsync codec</title><p>${message}</p>` +
          (form
            ? '<form method="post" action="/codec/login"><label>Admin key <input type="password" name="key" autocomplete="off" required></label> <button type="submit">Enable the codec</button></form>'
            : ''),
      );
  };
  router.get('/codec/login', (req, res) => {
    if (req.query.key !== undefined) {
      page(res, 400, 'The admin key must not travel in a URL: type it into the form below.', true);
      return;
    }
    page(res, 200, "Let Temporal UI in this browser read calsync's payloads.", true);
  });
  router.post('/codec/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const key = typeof req.body?.key === 'string' ? req.body.key : undefined;
    if (!isAdminKey(key)) {
      page(res, 401, 'Wrong or missing admin key.', true);
      return;
    }
    page(res, 200, `codec enabled for Temporal UI (until ${startSession(req, res)}). You can close this tab.`, false);
  });

  const convert = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const payloads = parse(payloadsSchema, req.body).payloads.map(payloadFromJSON);
    let converted;
    try {
      converted = await codec[direction](payloads);
    } catch (err) {
      throw new HttpError(400, 'undecodable_payload', `payloads: ${(err as Error).message}`);
    }
    res.json({ payloads: converted.map((p) => payloadToJSON(p)) });
  };
  router.post('/codec/encode', requireCodecAdmin, convert('encode'));
  router.post('/codec/decode', requireCodecAdmin, convert('decode'));
  return router;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** `<expiresAtMs>.<nonce>.<hmac>`; changing the admin keys ends every session. */
function sessionSigner(adminKeys: string[]) {
  const secret = createHmac('sha256', 'calsync-codec-session')
    .update([...adminKeys].sort().join('\n'))
    .digest();
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest();
  return {
    sign(expiresAt: number): string {
      const payload = `${expiresAt}.${randomBytes(12).toString('base64url')}`;
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    verify(token: string | undefined): boolean {
      if (!token || adminKeys.length === 0) return false;
      const [expiresAt, nonce, sig] = token.split('.');
      if (!expiresAt || !nonce || !sig || !/^\d+$/.test(expiresAt)) return false;
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(`${expiresAt}.${nonce}`);
      return given.length === expected.length && timingSafeEqual(given, expected) && Number(expiresAt) > Date.now();
    },
  };
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}
