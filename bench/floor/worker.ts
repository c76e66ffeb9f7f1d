import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { calsyncDataConverter } from '../../lib/payloadCodec';
import { warningsOnly } from '../../lib/temporal';
import { activities } from './workflows';

/** The floor bench's worker: calsync's worker settings and payload codec, the floor workflow only. */
async function main() {
  Runtime.install({ logger: warningsOnly(console.warn, console.error) });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
    namespace: 'default',
    taskQueue: process.env.FLOOR_TASK_QUEUE!,
    workflowsPath: require.resolve('./workflows'),
    activities,
    dataConverter: calsyncDataConverter(process.env.CALSYNC_TOKEN_KEYS!),
    maxCachedWorkflows: 2000,
  });
  console.log('floor worker ready');
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
