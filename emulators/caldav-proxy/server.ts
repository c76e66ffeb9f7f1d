import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { faultInput, Faults } from '../common/faults';

/**
 * A fault-injecting proxy in front of a real CalDAV server (Radicale): what Radicale cannot do on
 * its own. Answers 5xx and 429 with `Retry-After` (iCloud answers 503 with Retry-After when
 * pressed; RFC 9110 §10.2.3), slow answers, holds past the client's timeout, and "apply then
 * fail": the request reaches the server and its answer is replaced by a 500, so the client cannot
 * know the write happened. Everything else passes through unchanged, bytes and headers.
 * Control API (not forwarded, not counted) under `/_emulator`: faults (per user: the Basic auth
 * username), stats (requests and writes per user and method), health.
 */

/** Methods that change the calendar: what "writes" counts and what "apply then fail" hits. */
const WRITES = new Set(['PUT', 'DELETE']);

interface UserStats {
  requests: number;
  writes: number;
  byMethod: Record<string, number>;
}

const userOf = (req: http.IncomingMessage): string | undefined => {
  const auth = req.headers.authorization ?? '';
  if (!/^basic /i.test(auth)) return undefined;
  const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
  return decoded.slice(0, decoded.indexOf(':')).toLowerCase();
};

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function createCalDavProxy(target: string) {
  const faults = new Faults<{ status: number; retryAfterSeconds: number }>(WRITES, (status, retryAfterSeconds) => ({
    status,
    retryAfterSeconds,
  }));
  const stats = new Map<string, UserStats>();
  const upstream = new URL(target);

  const count = (user: string, method: string) => {
    const s = stats.get(user) ?? { requests: 0, writes: 0, byMethod: {} };
    s.requests++;
    if (WRITES.has(method)) s.writes++;
    s.byMethod[method] = (s.byMethod[method] ?? 0) + 1;
    stats.set(user, s);
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function control(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const user = url.searchParams.get('user')?.toLowerCase();
    if (url.pathname === '/_emulator/health') return json(res, 200, { ok: true });
    if (url.pathname === '/_emulator/faults' && req.method === 'POST') {
      const parsed = faultInput.safeParse(JSON.parse((await readBody(req)).toString('utf8') || '{}'));
      if (!parsed.success) return json(res, 400, { error: parsed.error.issues });
      faults.set(parsed.data);
      return json(res, 200, faults.describe());
    }
    if (url.pathname === '/_emulator/faults' && req.method === 'DELETE') {
      faults.clear(user);
      return json(res, 200, faults.describe());
    }
    if (url.pathname === '/_emulator/stats' && req.method === 'GET')
      return json(res, 200, stats.get(user ?? '') ?? { requests: 0, writes: 0, byMethod: {} });
    if (url.pathname === '/_emulator/stats/reset' && req.method === 'POST') {
      if (user) stats.delete(user);
      else stats.clear();
      return json(res, 200, {});
    }
    return json(res, 404, { error: 'no such control route' });
  }

  function forward(
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () =>
            resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
          );
          answer.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      if (url.pathname.startsWith('/_emulator/')) return control(req, res, url);
      const method = (req.method ?? 'GET').toUpperCase();
      const user = userOf(req);
      const config = faults.forUser(user);
      const body = await readBody(req);
      if (user) count(user, method);
      await faults.delay(config);
      const injected = faults.errorBefore(config);
      if (injected) {
        res.writeHead(injected.status, {
          'content-type': 'text/plain',
          ...(injected.status === 429 || injected.status === 503
            ? { 'retry-after': String(injected.retryAfterSeconds) }
            : {}),
        });
        res.end(`injected ${injected.status}`);
        return;
      }
      const answer = await forward(req, body);
      // Applied upstream, answered as a failure: only a successful write is worth hiding.
      if (answer.status < 300 && faults.failAfterApply(config, method)) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('injected 500 after the write was applied');
        return;
      }
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      headers['content-length'] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${(err as Error).message}`);
    });
  });

  return {
    async listen(port: number, host = '127.0.0.1') {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      return {
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  };
}
