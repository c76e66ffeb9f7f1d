import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort, startTemporalDevServer, type Service } from './stack';
import {
  DEFAULT_HISTORY_SHARDS,
  STANDARD_PORTS,
  dropServerDatabases,
  freeServerPorts,
  postgresTarget,
  prepareServerDatabases,
  serverDatabases,
  startTemporalServer,
  type ServerPorts,
} from './temporalServer';

/**
 * Which Temporal runs under calsync here: `dev` (the CLI's single-process dev server on SQLite, the
 * default) or `server` (the real Temporal server on PostgreSQL, the production shape).
 * `CALSYNC_ENGINE=server npm start` / `npm test` select the latter.
 */
export type EngineName = 'dev' | 'server';

export function engineName(value = process.env.CALSYNC_ENGINE): EngineName {
  if (value === undefined || value === '' || value === 'dev') return 'dev';
  if (value === 'server') return 'server';
  throw new Error(`CALSYNC_ENGINE must be "dev" or "server", not "${value}"`);
}

export interface Engine {
  name: EngineName;
  address: string;
  /** The engine's process now (a restart gives a new one). */
  pid(): number | undefined;
  /** PostgreSQL databases the engine keeps its state in (none for the dev server's SQLite). */
  databases: string[];
  /** Stop and start again on the same address and storage: workflows carry on where they were. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface EngineOptions {
  engine: EngineName;
  /** The engine's own files: the dev server's SQLite file, the server's configuration. */
  dir: string;
  logFile?: string;
  /** Keep state between runs (`npm start`): fixed names and ports; otherwise unique and dropped at stop. */
  persistent?: boolean;
  /** Names the server's databases (with a random suffix unless persistent). */
  runName?: string;
  /** dev: Temporal UI on this port (headless when absent); server: ignored. */
  uiPort?: number;
  codecEndpoint?: string;
  historyShards?: number;
}

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  return opts.engine === 'server' ? startServerEngine(opts) : startDevEngine(opts);
}

async function startDevEngine(opts: EngineOptions): Promise<Engine> {
  const port = opts.persistent ? 7233 : await freePort();
  const devOpts = {
    port,
    headless: opts.uiPort === undefined,
    uiPort: opts.uiPort,
    dbFile: path.join(opts.dir, 'temporal.db'),
    logFile: opts.logFile,
    codecEndpoint: opts.codecEndpoint,
  };
  let service: Service = await startTemporalDevServer(devOpts);
  return {
    name: 'dev',
    address: `127.0.0.1:${port}`,
    pid: () => service.child.pid,
    databases: [],
    async restart(downMs = 1000) {
      await service.stop();
      await new Promise((r) => setTimeout(r, downMs));
      service = await startTemporalDevServer(devOpts);
    },
    stop: () => service.stop(),
  };
}

async function startServerEngine(opts: EngineOptions): Promise<Engine> {
  const pg = postgresTarget();
  const base = (opts.runName ?? 'calsync').toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const databases = serverDatabases(
    opts.persistent ? `${base}_temporal` : `${base}_temporal_${randomBytes(4).toString('hex')}`,
  );
  await prepareServerDatabases(pg, databases);
  const ports: ServerPorts = opts.persistent ? STANDARD_PORTS : await freeServerPorts();
  const historyShards = opts.historyShards ?? Number(process.env.TEMPORAL_HISTORY_SHARDS ?? DEFAULT_HISTORY_SHARDS);
  if (!Number.isInteger(historyShards) || historyShards < 1 || historyShards > 16384) {
    throw new Error(`TEMPORAL_HISTORY_SHARDS must be a whole number from 1 to 16384, not "${historyShards}"`);
  }
  const serverOpts = {
    dir: opts.dir,
    logFile: opts.logFile,
    pg,
    databases,
    ports,
    historyShards,
    pprofPort: Number(process.env.TEMPORAL_PPROF_PORT) || undefined,
  };
  let service: Service;
  try {
    service = await startTemporalServer(serverOpts);
  } catch (err) {
    if (!opts.persistent) await dropServerDatabases(pg, databases);
    throw err;
  }
  return {
    name: 'server',
    address: `127.0.0.1:${ports.frontend}`,
    pid: () => service.child.pid,
    databases: [databases.main, databases.visibility],
    async restart(downMs = 1000) {
      await service.stop();
      await new Promise((r) => setTimeout(r, downMs));
      service = await startTemporalServer(serverOpts);
    },
    async stop() {
      await service.stop();
      if (!opts.persistent) await dropServerDatabases(pg, databases);
    },
  };
}
