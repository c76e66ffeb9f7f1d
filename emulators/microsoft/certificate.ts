import { X509Certificate } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { generate } from 'selfsigned';

/**
 * TLS for the Microsoft emulator. `@microsoft/microsoft-graph-client` sends the bearer token only
 * to https hosts, so the emulator serves HTTPS with a server certificate (localhost, 127.0.0.1, ::1)
 * signed by a CA of its own. Processes trust that CA through NODE_EXTRA_CA_CERTS, which Node reads
 * once at start-up: create the certificate before spawning anything that calls the emulator.
 */
export interface EmulatorCertificate {
  /** The CA certificate (PEM): what NODE_EXTRA_CA_CERTS points at. */
  caPath: string;
  ca: string;
  cert: string;
  key: string;
}

export const CA_FILE = 'microsoft-emulator-ca.pem';
const CERT_FILE = 'microsoft-emulator-cert.pem';
const KEY_FILE = 'microsoft-emulator-key.pem';
const LOCK_FILE = 'microsoft-emulator-tls.lock';
const DAY_MS = 86_400_000;

function readExisting(dir: string): EmulatorCertificate | undefined {
  const files = [CA_FILE, CERT_FILE, KEY_FILE].map((f) => path.join(dir, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  const [ca, cert, key] = files.map((f) => readFileSync(f, 'utf8')) as [string, string, string];
  try {
    const server = new X509Certificate(cert);
    const authority = new X509Certificate(ca);
    // Renew a week before expiry, and whenever the pair no longer matches.
    if (Date.parse(server.validTo) - Date.now() < 7 * DAY_MS || !server.verify(authority.publicKey)) return undefined;
  } catch {
    return undefined;
  }
  return { caPath: files[0]!, ca, cert, key };
}

async function create(dir: string): Promise<EmulatorCertificate> {
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const authority = await generate([{ name: 'commonName', value: 'calsync Microsoft emulator CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(Date.now() + 3650 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(Date.now() + 825 * DAY_MS),
    ca: { key: authority.private, cert: authority.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  // The CA's private key is not kept: nothing else is ever signed with it.
  writeFileSync(path.join(dir, KEY_FILE), server.private, { mode: 0o600 });
  writeFileSync(path.join(dir, CERT_FILE), server.cert);
  writeFileSync(path.join(dir, CA_FILE), authority.cert);
  return { caPath: path.join(dir, CA_FILE), ca: authority.cert, cert: server.cert, key: server.private };
}

/** The emulator's CA and server certificate in `dir`: created once, then reused. */
export async function ensureEmulatorCertificate(dir: string): Promise<EmulatorCertificate> {
  mkdirSync(dir, { recursive: true });
  const existing = readExisting(dir);
  if (existing) return existing;
  // Processes started together must agree on one pair: the first takes the lock and writes it.
  const lock = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      const stale = existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 30_000;
      if (stale) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`could not lock ${lock}`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return readExisting(dir) ?? (await create(dir));
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * The NODE_EXTRA_CA_CERTS value that adds the emulator's CA to whatever the environment already
 * trusts (an existing bundle is combined with it into `dir`).
 */
export function extraCaCerts(
  cert: EmulatorCertificate,
  dir: string,
  current = process.env.NODE_EXTRA_CA_CERTS,
): string {
  if (!current || current === cert.caPath || !existsSync(current)) return cert.caPath;
  const combined = path.join(dir, 'extra-ca-bundle.pem');
  const tmp = `${combined}.${process.pid}`;
  writeFileSync(tmp, `${readFileSync(current, 'utf8').trim()}\n${cert.ca}`);
  renameSync(tmp, combined);
  return combined;
}

/**
 * Makes this already running process's fetch trust the CA too (NODE_EXTRA_CA_CERTS only counts at
 * start-up): replaces the global dispatcher of Node's built-in fetch with one that trusts the
 * public roots plus `ca`. For the launcher and the test runner, never for the services.
 */
export async function trustCaInThisProcess(ca: string): Promise<void> {
  const key = Symbol.for('undici.globalDispatcher.1');
  const holder = globalThis as unknown as Record<symbol, { constructor: new (opts: object) => unknown } | undefined>;
  if (!holder[key]) await fetch('data:,').catch(() => undefined); // loads undici, which installs its dispatcher
  const current = holder[key];
  if (!current) throw new Error('no global fetch dispatcher to replace');
  holder[key] = new current.constructor({ connect: { ca: [...rootCertificates, ca] } }) as never;
}
