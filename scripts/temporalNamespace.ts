import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { calsyncSearchAttributeNames, calsyncSearchAttributeTypes } from '../lib/searchAttributes';
import { waitFor } from './stack';

/**
 * A set-up step of its own, like the migrations: the namespace and calsync's search attributes exist
 * before the API or a worker starts. The API starts workflows that carry the attributes at once, so
 * registering them from a worker's start-up left the first requests on a bare namespace failing.
 *   TEMPORAL_ADDRESS=… [TEMPORAL_NAMESPACE=default] npm run temporal:namespace
 */
export interface NamespaceOptions {
  address: string;
  namespace: string;
  /** How long closed workflows stay visible (Temporal's retention). */
  retentionDays?: number;
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
/** Temporal's IndexedValueType numbers for the types calsync uses. */
const INDEXED_VALUE_TYPE = { Keyword: 2, KeywordList: 7 } as const;

export async function prepareTemporalNamespace(opts: NamespaceOptions): Promise<void> {
  const connection = await Connection.connect({ address: opts.address });
  try {
    const { namespace } = opts;
    const known = await connection.workflowService.describeNamespace({ namespace }).then(
      () => true,
      (err: { code?: number }) => {
        if (err.code === NOT_FOUND) return false;
        throw err;
      },
    );
    if (!known) {
      await connection.workflowService
        .registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: msToTs(`${opts.retentionDays ?? 7} days`),
        })
        .catch((err: { code?: number }) => {
          if (err.code !== ALREADY_EXISTS) throw err;
        });
    }
    // A fresh namespace reaches the other frontends' caches within seconds: retry until it has.
    await waitFor(`namespace ${namespace}`, async () => {
      const existing = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = calsyncSearchAttributeNames.filter((n) => !(n in (existing.customAttributes ?? {})));
      if (missing.length > 0) {
        await connection.operatorService
          .addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(
              missing.map((n) => [n, INDEXED_VALUE_TYPE[calsyncSearchAttributeTypes[n]]]),
            ),
          })
          .catch((err: { code?: number }) => {
            if (err.code !== ALREADY_EXISTS) throw err;
          });
      }
      return missing.length === 0;
    });
    // Ready when a query on every attribute is accepted: the same check a start with them passes.
    const query = calsyncSearchAttributeNames.map((n) => `${n} = "probe"`).join(' AND ');
    await waitFor(`search attributes on ${namespace}`, async () => {
      await connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 });
      return true;
    });
  } finally {
    await connection.close();
  }
}

/** Until the frontend answers: in the compose file this step starts together with the server. */
async function frontendAnswers(address: string): Promise<void> {
  await waitFor(
    `Temporal frontend on ${address}`,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      await connection.close();
      return true;
    },
    180_000,
    1000,
  );
}

if (require.main === module) {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  frontendAnswers(address)
    .then(() => prepareTemporalNamespace({ address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }))
    .then(() => console.log('temporal namespace: ready with calsync search attributes'))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
