import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { freePort, httpAnswers, spawnNode, waitFor, type Service } from '../../scripts/stack';

export interface AppStack {
  apiUrl: string;
  taskQueue: string;
  api: Service;
  worker: Service;
  /** SIGKILL the worker: a crash in the middle of whatever it was doing. */
  killWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An API and a worker of their own for one test file, on a task queue nobody else polls,
 * against the shared Temporal, PostgreSQL and emulator that globalSetup started.
 */
export async function startAppStack(
  env: NodeJS.ProcessEnv = {},
  /** `built`: the production build's JavaScript (dist/, `npm run build`) instead of the sources through tsx. */
  opts: { built?: boolean } = {},
): Promise<AppStack> {
  const taskQueue = `test-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const tmp = process.env.CALSYNC_TEST_TMP!;
  const common = {
    CALSYNC_TASK_QUEUE: taskQueue,
    API_PORT: String(port),
    SYNC_COALESCE_MS: '300',
    SYNC_ACTIVITY_INITIAL_RETRY_MS: '200',
    SYNC_ACTIVITY_MAX_RETRY_MS: '2000',
    // Many workers share this host: metrics only where a test asks for them, on a port of its own.
    WORKER_METRICS_PORT: '0',
    // Every test calls from 127.0.0.1 into one database: the address's budget is a test of its own (security).
    API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  };
  const launchWorker = () =>
    spawnNode('worker', 'workers/main.ts', {
      env: common,
      logFile: path.join(tmp, `worker-${taskQueue}.log`),
      built: opts.built,
    });
  const stack: AppStack = {
    apiUrl: `http://127.0.0.1:${port}`,
    taskQueue,
    api: spawnNode('api', 'api/main.ts', {
      env: common,
      logFile: path.join(tmp, `api-${taskQueue}.log`),
      built: opts.built,
    }),
    worker: launchWorker(),
    async killWorker() {
      await stack.worker.kill();
    },
    async startWorker() {
      stack.worker = launchWorker();
    },
    async stop() {
      await Promise.all([stack.api.stop(), stack.worker.stop()]);
    },
  };
  await waitFor('API', () => httpAnswers(`${stack.apiUrl}/healthz`), 60000);
  return stack;
}

/**
 * Starts an app stack before the file's tests and stops it (and the shared test clients) after.
 * The returned object is filled in by the time the first test runs.
 */
export function useAppStack(env: NodeJS.ProcessEnv = {}): AppStack {
  const stack = {} as AppStack;
  beforeAll(async () => {
    Object.assign(stack, await startAppStack(env));
  });
  afterAll(async () => {
    await stack.stop?.();
    const { closeTestClients } = await import('./world');
    await closeTestClients();
  });
  return stack;
}
