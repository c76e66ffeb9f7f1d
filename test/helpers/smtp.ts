import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../scripts/stack';
import { useAppStack, type AppStack } from './stack';

export interface ReceivedMail {
  raw: string;
  from: string;
  to: string[];
  user: string | undefined;
  parsed: ParsedMail;
}

/**
 * A real SMTP server in the test process (smtp-server): keeps what it accepts, answers a 4xx or
 * 5xx to the next messages on demand, and can go away (connection refused) and come back on its port.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  /** Reply codes for the next messages' DATA, consumed one per message; empty means accept. */
  readonly rejectNext: number[] = [];
  /** Every reply the server gave to a DATA: 250 or the rejection code. */
  readonly replies: number[] = [];
  private server: SMTPServer | undefined;

  constructor(
    readonly port: number,
    readonly credentials: { user: string; pass: string },
  ) {}

  static async start(credentials = { user: 'calsync', pass: 'smtp-secret' }): Promise<TestSmtpServer> {
    const smtp = new TestSmtpServer(await freePort(), credentials);
    await smtp.listen();
    return smtp;
  }

  async listen(): Promise<void> {
    const server = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth: (auth, _session, cb) => {
        if (auth.username === this.credentials.user && auth.password === this.credentials.pass)
          return cb(null, { user: auth.username });
        cb(Object.assign(new Error('bad credentials'), { responseCode: 535 }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const code = this.rejectNext.shift();
          if (code !== undefined) {
            this.replies.push(code);
            return cb(Object.assign(new Error(`test server says ${code}`), { responseCode: code }));
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw).then(
            (parsed) => {
              this.received.push({
                raw,
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
                user: session.user as string | undefined,
                parsed,
              });
              this.replies.push(250);
              cb(null);
            },
            (err) => cb(err),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    if ((server.server.address() as AddressInfo).port !== this.port)
      throw new Error('SMTP test server on the wrong port');
  }

  /** Stops listening: the next connection is refused until `listen()` again. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(address));
  }
}

export interface MimeNode {
  contentType: string;
  params: Record<string, string>;
  headers: Record<string, string>;
  children: MimeNode[];
  body: string;
}

/** Just enough MIME to check a message's structure: headers and the tree of parts, bodies undecoded. */
export function mimeTree(raw: string): MimeNode {
  const normalised = raw.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  const head = split < 0 ? normalised : normalised.slice(0, split);
  const body = split < 0 ? '' : normalised.slice(split + 2);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const [type = 'text/plain', ...rest] = (headers['content-type'] ?? 'text/plain').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '');
  }
  const node: MimeNode = { contentType: type.trim().toLowerCase(), params, headers, children: [], body };
  if (node.contentType.startsWith('multipart/') && params.boundary) {
    const parts = body.split(`--${params.boundary}`);
    // parts[0] is the preamble; the part after the closing delimiter starts with "--".
    for (const part of parts.slice(1)) {
      if (part.startsWith('--')) break;
      node.children.push(mimeTree(part.replace(/^\n/, '').replace(/\n$/, '')));
    }
  }
  return node;
}

/**
 * An app stack (its own API and worker) whose client invitations go to a real SMTP server in the
 * test process; `server()` is that server once the suite has started, `env` the mail settings.
 */
export function useAppStackWithSmtp(mailFrom: string): {
  stack: AppStack;
  server: () => TestSmtpServer;
  env: NodeJS.ProcessEnv;
} {
  const credentials = { user: 'calsync', pass: 'smtp-secret' };
  const env: NodeJS.ProcessEnv = { MAIL_FROM: mailFrom, SMTP_USER: credentials.user, SMTP_PASS: credentials.pass };
  let server: TestSmtpServer | undefined;
  // Registered before the stack's own beforeAll: the worker starts with the server's port.
  beforeAll(async () => {
    server = await TestSmtpServer.start(credentials);
    env.SMTP_HOST = '127.0.0.1';
    env.SMTP_PORT = String(server.port);
  });
  const stack = useAppStack(env);
  afterAll(async () => {
    await server?.close();
  });
  return { stack, server: () => server!, env };
}
