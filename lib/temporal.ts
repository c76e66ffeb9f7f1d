import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';
import { calsyncDataConverter } from './payloadCodec';
import { calsyncSearchAttributeTypes } from './searchAttributes';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  return new Client({
    connection,
    namespace: config.temporalNamespace,
    dataConverter: calsyncDataConverter(config.payloadKeys, config.acceptPlaintextPayloads),
  });
}

/**
 * Registers calsync's search attributes on the namespace. The dev server gets them as start flags;
 * a real cluster gets them here, so the same code runs against both. Already-present names are fine.
 */
export async function ensureSearchAttributes(config: Config, names: readonly string[]): Promise<void> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: config.temporalNamespace });
    const missing = names.filter((n) => !(n in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService
      .addSearchAttributes({
        namespace: config.temporalNamespace,
        searchAttributes: Object.fromEntries(
          // INDEXED_VALUE_TYPE_KEYWORD_LIST is 7, INDEXED_VALUE_TYPE_KEYWORD 2.
          missing.map((n) => [n, (calsyncSearchAttributeTypes as Record<string, string>)[n] === 'KeywordList' ? 7 : 2]),
        ),
      })
      .catch((err: { code?: number }) => {
        if (err.code !== 6 /* gRPC ALREADY_EXISTS */) throw err;
      });
  } finally {
    await connection.close();
  }
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporalAddress });
}
