import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { calsyncSearchAttributeNames, calsyncSearchAttributeTypes } from '../lib/searchAttributes';
import { dynamicConfigFlags } from './dynamicConfig';

/** Starting and stopping the pieces of a local calsync stack: shared by `npm start` and the tests. */

export const ROOT = path.resolve(__dirname, '..');
export const TEMPORAL_CLI_VERSION = process.env.TEMPORAL_CLI_VERSION ?? 'v1.5.1';

export function temporalBinary(): string {
  const tools = process.env.CALSYNC_TOOLS_DIR ?? path.join(os.homedir(), '.cache', 'calsync');
  return path.join(tools, `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

export interface Service {
  name: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL if it does not exit in time. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash, as far as anyone else can tell. */
  kill(): Promise<void>;
}

/** A port free on 127.0.0.1 right now; any when `port` is 0 (the kernel's pick), else that one. */
export async function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A free port in [from, to): for a program that cannot take the kernel's ephemeral ones (above 32767). */
export async function freePortBetween(from: number, to: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    const got = await freePort(port).catch(() => undefined);
    if (got) return got;
  }
  throw new Error(`no free port between ${from} and ${to}`);
}

/** Thrown by a `waitFor` check when waiting longer cannot help (the process it waits for has died). */
export class GiveUp extends Error {}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60000,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export async function httpAnswers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.status < 500;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go: a log file, or this process's own output. */
  logFile?: string;
  inheritOutput?: boolean;
}

export function spawnService(name: string, command: string, args: string[], opts: SpawnOptions = {}): Service {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', opts.inheritOutput ? 'inherit' : 'pipe', opts.inheritOutput ? 'inherit' : 'pipe'],
  });
  if (opts.logFile) {
    mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else if (!opts.inheritOutput) {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once('exit', () => resolve());
  });
  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { name, child, stop: () => signal('SIGTERM', 5000), kill: () => signal('SIGKILL', 1000) };
}

/** Where `npm run build` writes the production build: the JavaScript production runs, no TypeScript loader. */
export const BUILD_DIR = path.join(ROOT, 'dist');

/** Runs an entry point of this repository in its own Node process: the TypeScript through tsx, or (`built`) its compiled JavaScript from the production build. */
export function spawnNode(name: string, entry: string, opts: SpawnOptions & { built?: boolean } = {}): Service {
  if (opts.built) return spawnService(name, process.execPath, [builtEntry(entry)], opts);
  return spawnService(name, process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], opts);
}

/** The production build's file for a TypeScript entry (api/main.ts → dist/api/main.js). */
export function builtEntry(entry: string): string {
  return path.join(BUILD_DIR, entry.replace(/\.ts$/, '.js'));
}

/** Until a Temporal frontend answers (or the process that should serve it has exited). */
export async function waitForFrontend(service: Service, address: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `Temporal frontend on ${address}`,
    async () => {
      if (service.child.exitCode !== null) throw new GiveUp(`temporal exited with code ${service.child.exitCode}`);
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return true;
      } finally {
        await connection.close();
      }
    },
    timeoutMs,
    300,
  );
}

export interface TemporalDevServerOptions {
  port: number;
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFile?: string;
  headless?: boolean;
  logFile?: string;
  codecEndpoint?: string;
}

/** The dev server's command line: calsync's search attributes and the one dynamic-config file. */
export function devServerArgs(opts: TemporalDevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort ?? 8233));
  if (opts.dbFile) {
    // WAL without an fsync per commit: a crashed process loses nothing, a power cut may lose the
    // last moments, and SQLite's single writer is no longer bound by the disk's flush latency.
    args.push(
      '--db-filename',
      opts.dbFile,
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  // Registered at start, without the namespace cache's delay; scripts/temporalNamespace.ts checks them.
  for (const name of calsyncSearchAttributeNames) {
    args.push('--search-attribute', `${name}=${calsyncSearchAttributeTypes[name]}`);
  }
  args.push(...dynamicConfigFlags());
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  return args;
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<Service> {
  if (opts.dbFile) mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const args = devServerArgs(opts);
  const service = spawnService('temporal', temporalBinary(), args, { logFile: opts.logFile });
  try {
    await waitForFrontend(service, `127.0.0.1:${opts.port}`, 60000);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}

export interface RadicaleOptions {
  port: number;
  /** `user:password` lines (plain): Radicale 3.1 reads the file at each login, so a rewrite takes effect at once. */
  htpasswdFile: string;
  storageFolder: string;
  logFile?: string;
}

/**
 * Radicale (Debian's package, installed by scripts/setup.sh), a real CalDAV server: htpasswd auth
 * (a wrong or changed password is a real 401), each user owning only their own collections.
 * Answers once it serves.
 */
export async function startRadicale(opts: RadicaleOptions): Promise<{ service: Service; url: string }> {
  const service = spawnService(
    'radicale',
    'radicale',
    [
      '--config',
      '',
      '--server-hosts',
      `127.0.0.1:${opts.port}`,
      '--auth-type',
      'htpasswd',
      '--auth-htpasswd-filename',
      opts.htpasswdFile,
      '--auth-htpasswd-encryption',
      'plain',
      '--auth-delay',
      '0',
      '--rights-type',
      'owner_only',
      '--storage-filesystem-folder',
      opts.storageFolder,
      '--logging-level',
      'warning',
    ],
    { logFile: opts.logFile },
  );
  const url = `http://127.0.0.1:${opts.port}`;
  await waitFor('Radicale (apt-get install radicale)', () => httpAnswers(`${url}/.web/`));
  return { service, url };
}

/** The fault-injecting proxy (emulators/caldav-proxy) in front of a CalDAV server; answers once it serves. */
export async function startCalDavProxy(opts: {
  port: number;
  target: string;
  logFile?: string;
}): Promise<{ service: Service; url: string }> {
  const service = spawnNode('caldav-proxy', 'emulators/caldav-proxy/main.ts', {
    env: { CALDAV_PROXY_PORT: String(opts.port), CALDAV_PROXY_TARGET: opts.target },
    logFile: opts.logFile,
  });
  const url = `http://127.0.0.1:${opts.port}`;
  await waitFor('CalDAV proxy', () => httpAnswers(`${url}/_emulator/health`));
  return { service, url };
}
