import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';
import { calsyncDataConverter } from './payloadCodec';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  return new Client({
    connection,
    namespace: config.temporalNamespace,
    dataConverter: calsyncDataConverter(config.payloadKeys, config.acceptPlaintextPayloads),
  });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporalAddress });
}

type LogFn = (message: string, attrs?: Record<string, unknown>) => void;

/** The SDK's own log, warnings and errors only: its per-task lines cost CPU on every activation. */
export function warningsOnly(warn: LogFn, error: LogFn) {
  const none = () => undefined;
  return { log: none, trace: none, debug: none, info: none, warn, error };
}
