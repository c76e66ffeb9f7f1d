import { Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { createLogger } from '../lib/logger';
import { calsyncDataConverter } from '../lib/payloadCodec';
import { SecretBox } from '../lib/secretBox';
import { connectClient, connectWorker, warningsOnly } from '../lib/temporal';
import { startMetricsServer } from './metrics';

/** A calsync worker: runs the workflows and the activities of one task queue. */
async function main() {
  const config = loadConfig();
  const logger = createLogger('worker', config.logLevel);
  Runtime.install({
    logger: warningsOnly(
      (m, a) => logger.warn(a, m),
      (m, a) => logger.error(a, m),
    ),
  });
  const db = createDb(config.databaseUrl, { min: 0, max: 20 });
  const activities = createActivities({
    db,
    secrets: new SecretBox(config.tokenKeys),
    config,
    logger,
    temporal: await connectClient(config),
  });

  // A pre-built bundle (tests, production images) saves the webpack step on every start.
  const workflowBundle = process.env.CALSYNC_WORKFLOW_BUNDLE
    ? { codePath: process.env.CALSYNC_WORKFLOW_BUNDLE }
    : await bundleWorkflowCode({
        workflowsPath: require.resolve('../workflows'),
        logger: {
          log: () => undefined,
          trace: () => undefined,
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: (m) => logger.error(m),
        },
      });

  const worker = await Worker.create({
    connection: await connectWorker(config),
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowBundle,
    activities,
    dataConverter: calsyncDataConverter(config.payloadKeys, config.acceptPlaintextPayloads),
    maxConcurrentActivityTaskExecutions: Number(process.env.WORKER_MAX_ACTIVITIES ?? 100),
    maxCachedWorkflows: Number(process.env.WORKER_MAX_CACHED_WORKFLOWS ?? 2000),
  });
  startMetricsServer(config.workerMetricsPort, config.workerMetricsHost, logger);
  logger.info({ taskQueue: config.taskQueue, address: config.temporalAddress }, 'worker started');
  console.log(`worker ready on task queue ${config.taskQueue}`);
  try {
    await worker.run();
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
