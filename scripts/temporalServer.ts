import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import knex from 'knex';
import YAML from 'yaml';
import { DYNAMIC_CONFIG_FILE } from './dynamicConfig';
import { freePortBetween, spawnService, waitForFrontend, type Service } from './stack';

/**
 * The production engine on this machine: the real Temporal server (the same release the compose file
 * runs) with PostgreSQL persistence and SQL visibility. scripts/setup.sh builds it; this module creates
 * and migrates its databases with Temporal's own SQL tool, writes its configuration and starts it.
 */

/** The release docker-compose.yml pins (`temporalio/auto-setup:<version without v>`); test/compose.test.ts checks it. */
export const TEMPORAL_SERVER_VERSION = process.env.TEMPORAL_SERVER_VERSION ?? 'v1.29.1';
/** pgx: the same results as `postgres12` with about a third less of PostgreSQL's CPU per change (issue 17). */
export const TEMPORAL_SQL_PLUGIN = 'postgres12_pgx';
/** Fixed for the life of a cluster (Temporal cannot reshard): a few per core of history hosts. */
export const DEFAULT_HISTORY_SHARDS = 4;

export function temporalServerDir(): string {
  const tools = process.env.CALSYNC_TOOLS_DIR ?? path.join(os.homedir(), '.cache', 'calsync');
  return path.join(tools, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** The binaries and the module's PostgreSQL schema, as scripts/setup.sh leaves them. */
export function temporalServerTools() {
  const dir = temporalServerDir();
  return {
    server: path.join(dir, 'server'),
    sqlTool: path.join(dir, 'sql'),
    schema: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Where the server's databases live: the host, port and credentials of DATABASE_URL (or the local default). */
export function postgresTarget(databaseUrl = process.env.DATABASE_URL): PostgresTarget {
  const url = new URL(databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/calsync');
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
  };
}

export interface ServerDatabases {
  main: string;
  visibility: string;
}

/** Database names PostgreSQL takes without quoting: tenant input never reaches them, run names do. */
export function serverDatabases(prefix: string): ServerDatabases {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`bad Temporal database prefix "${prefix}"`);
  return { main: prefix, visibility: `${prefix}_visibility` };
}

const run = promisify(execFile);

/**
 * Creates the two databases when missing (then lays down the base schema) and brings both to the
 * release's latest schema version with `update-schema`, which is a no-op when they are already there.
 */
export async function prepareServerDatabases(pg: PostgresTarget, dbs: ServerDatabases): Promise<void> {
  const { sqlTool, schema } = temporalServerTools();
  const admin = knex({
    client: 'pg',
    connection: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'postgres' },
  });
  try {
    for (const [db, dir] of [
      [dbs.main, 'temporal'],
      [dbs.visibility, 'visibility'],
    ] as const) {
      const base = [
        '--plugin',
        TEMPORAL_SQL_PLUGIN,
        '--ep',
        pg.host,
        '--port',
        String(pg.port),
        '--user',
        pg.user,
        '--password',
        pg.password,
        '--db',
        db,
      ];
      const exists = await admin('pg_database').where({ datname: db }).first();
      if (!exists) {
        await run(sqlTool, [...base, 'create-database']);
        await run(sqlTool, [...base, 'setup-schema', '-v', '0.0']);
      }
      await run(sqlTool, [...base, 'update-schema', '--schema-dir', path.join(schema, dir, 'versioned')]);
    }
  } finally {
    await admin.destroy();
  }
}

export async function dropServerDatabases(pg: PostgresTarget, dbs: ServerDatabases): Promise<void> {
  const admin = knex({
    client: 'pg',
    connection: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'postgres' },
  });
  try {
    for (const db of [dbs.main, dbs.visibility]) await admin.raw('drop database if exists ?? with (force)', [db]);
  } finally {
    await admin.destroy();
  }
}

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  membership: [number, number, number, number];
  /** Temporal's own Prometheus metrics (/metrics). */
  metrics: number;
}

/** The compose file's ports on a machine of its own; loopback only either way. */
export const STANDARD_PORTS: ServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  history: 7234,
  matching: 7235,
  worker: 7239,
  membership: [6933, 6934, 6935, 6939],
  metrics: 8000,
};

/**
 * Ports nobody else on this host holds: tests and benches run next to each other. Below 32768 and
 * not the kernel's ephemeral ones: the cluster_membership table keeps the port in a smallint.
 */
export async function freeServerPorts(): Promise<ServerPorts> {
  const p = () => freePortBetween(20000, 32000);
  return {
    frontend: await p(),
    frontendHttp: await p(),
    history: await p(),
    matching: await p(),
    worker: await p(),
    membership: [await p(), await p(), await p(), await p()],
    metrics: await p(),
  };
}

export interface ServerConfigOptions {
  pg: PostgresTarget;
  databases: ServerDatabases;
  ports: ServerPorts;
  historyShards?: number;
  logLevel?: string;
  /** Go's pprof endpoint on this loopback port (TEMPORAL_PPROF_PORT): CPU profiles of the server under a bench. */
  pprofPort?: number;
}

/** The server's configuration (the shape of the release's config/development-postgres12.yaml). */
export function serverConfig(opts: ServerConfigOptions): Record<string, unknown> {
  const { pg, ports } = opts;
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: TEMPORAL_SQL_PLUGIN,
      databaseName,
      connectAddr: `${pg.host}:${pg.port}`,
      connectProtocol: 'tcp',
      user: pg.user,
      password: pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) },
  });
  return {
    log: { stdout: true, level: opts.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: opts.historyShards ?? DEFAULT_HISTORY_SHARDS,
      datastores: {
        // Per service: the one process runs four (frontend, history, matching, worker), each with its
        // own pools, so this is up to 4 × (10 + 2) connections: within a stock max_connections of 100
        // next to calsync's own pools.
        'postgres-default': datastore(opts.databases.main, 10),
        'postgres-visibility': datastore(opts.databases.visibility, 2),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` },
      },
      ...(opts.pprofPort ? { pprof: { port: opts.pprofPort, host: '127.0.0.1' } } : {}),
    },
    services: {
      frontend: rpc(ports.frontend, ports.membership[0], ports.frontendHttp),
      history: rpc(ports.history, ports.membership[1]),
      matching: rpc(ports.matching, ports.membership[2]),
      worker: rpc(ports.worker, ports.membership[3]),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: DYNAMIC_CONFIG_FILE, pollInterval: '10s' },
  };
}

export interface TemporalServerOptions extends ServerConfigOptions {
  /** Holds config/calsync.yaml; the server's root directory. */
  dir: string;
  logFile?: string;
}

/** Writes the configuration and starts the server; resolves once its frontend answers. */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<Service> {
  const { server } = temporalServerTools();
  if (!existsSync(server)) {
    throw new Error(`no Temporal server at ${server}: run CALSYNC_ENGINE=server bash scripts/setup.sh`);
  }
  mkdirSync(path.join(opts.dir, 'config'), { recursive: true });
  writeFileSync(path.join(opts.dir, 'config', 'calsync.yaml'), YAML.stringify(serverConfig(opts)));
  const service = spawnService(
    'temporal',
    server,
    ['--root', opts.dir, '--config', 'config', '--env', 'calsync', '--allow-no-auth', 'start'],
    { logFile: opts.logFile },
  );
  try {
    await waitForFrontend(service, `127.0.0.1:${opts.ports.frontend}`, 120000);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}
