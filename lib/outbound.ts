import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { useAgent } from 'request-filtering-agent';

/**
 * Requests calsync makes to an address a tenant chose (its CRM webhook; CalDAV servers later):
 * safe by construction. https only, except for hosts the installation allow-lists for development;
 * the connection goes only to public addresses, checked on the address the name resolved to at
 * connect time (so DNS rebinding cannot get round it); redirects are never followed; a short
 * timeout; at most `maxResponseBytes` of the answer are read.
 */
export interface OutboundPolicy {
  /** Host names (or IPs) an operator allows over http and on private addresses: development and tests only. */
  allowedHosts: string[];
}

/** The URL's host as policies name it: lower case, an IPv6 literal without its brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/** Why calsync must not call this URL for a tenant (checked when it is saved); undefined when it may. */
export function outboundUrlProblem(raw: string, policy: OutboundPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be a URL';
  }
  const host = hostOf(url);
  const allowed = policy.allowedHosts.includes(host);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) return 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (!allowed && isIP(host) && !isPublicAddress(host))
    return 'must not point to a private, loopback or link-local address';
  // Names are checked again where they resolve, at every connection: a name may change what it resolves to.
  return undefined;
}

/** Whether an IP address is routable on the public internet (not private, loopback, link-local, multicast, reserved…). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

export interface OutboundAnswer {
  status: number;
  /** Where a redirect pointed: never followed. */
  location?: string;
}

export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

/** POSTs `body` under the policy; a refused destination throws OutboundRefused, a network failure its error. */
export async function postOutbound(
  raw: string,
  request: { headers: Record<string, string>; body: string; timeoutMs?: number; maxResponseBytes?: number },
  policy: OutboundPolicy,
): Promise<OutboundAnswer> {
  const problem = outboundUrlProblem(raw, policy);
  if (problem) throw new OutboundRefused(`the URL ${problem}`);
  const url = new URL(raw);
  const allowed = policy.allowedHosts.includes(hostOf(url));
  const send = url.protocol === 'https:' ? https.request : http.request;
  const maxBytes = request.maxResponseBytes ?? 64 * 1024;
  return new Promise<OutboundAnswer>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        // The filtering agent checks the address each connection really goes to.
        agent: allowed ? undefined : useAgent(url.toString()),
        timeout: request.timeoutMs ?? 10_000,
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxBytes) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${request.timeoutMs ?? 10_000} ms`)));
    req.on('error', (err) => {
      // request-filtering-agent refuses a private address with this message.
      if (/is not allowed|private|meta IP/i.test(err.message)) reject(new OutboundRefused(err.message));
      else reject(err);
    });
    req.end(request.body);
  });
}

/**
 * A `fetch` for a client library that talks to a tenant-chosen server (CalDAV): every request goes
 * through the same rules as postOutbound (https, public addresses checked where the connection
 * really goes, no redirects followed: a 3xx is answered as it came, for the library to read), and
 * at most `maxResponseBytes` of an answer are read. The signal in `init` ends a request early.
 */
export function outboundFetch(
  policy: OutboundPolicy,
  opts: { maxResponseBytes: number; timeoutMs: number },
): typeof fetch {
  return async (input, init = {}) => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const problem = outboundUrlProblem(raw, policy);
    if (problem) throw new OutboundRefused(`the URL ${problem}`);
    const url = new URL(raw);
    const allowed = policy.allowedHosts.includes(hostOf(url));
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : Buffer.from(await new Response(init.body).arrayBuffer());
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Response>((resolve, reject) => {
      const req = send(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          agent: allowed ? undefined : useAgent(url.toString()),
          timeout: opts.timeoutMs,
          signal: init.signal ?? undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > opts.maxResponseBytes) {
              res.destroy(new OutboundRefused(`the answer is larger than ${opts.maxResponseBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const answer = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value === undefined) continue;
              for (const v of Array.isArray(value) ? value : [value]) answer.append(name, v);
            }
            const status = res.statusCode ?? 0;
            const nullBody = status === 204 || status === 304 || (status >= 100 && status < 200);
            resolve(
              new Response(nullBody ? null : Buffer.concat(chunks), {
                status,
                statusText: res.statusMessage ?? '',
                headers: answer,
              }),
            );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
      req.on('error', (err) => {
        if (/is not allowed|private|meta IP/i.test(err.message)) reject(new OutboundRefused(err.message));
        else reject(err);
      });
      req.end(body);
    });
  };
}
